package analysis

import (
	"errors"
	"fmt"
	"image"
	"time"

	"github.com/vigil-cctv/vigil/internal/attrs"
	"github.com/vigil-cctv/vigil/internal/baseline"
	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/motion"
	"github.com/vigil-cctv/vigil/internal/rules"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/track"
)

// Suppressor hides events an operator dismissed as false alarms
// (suppress.Set); at is the camera clock's time of the event.
type Suppressor interface {
	Match(ev event.Event, at time.Time) (id int64, ok bool)
}

// Config assembles one camera's chain. The zero value plus Track is a
// tracker with no rules, baseline, motion cue or suppression.
type Config struct {
	// Camera is set on every event; empty: the scene's camera.
	Camera string
	// Classes keeps only these detections; nil keeps all.
	Classes detect.ClassSet
	// Track configures the ByteTrack tracker; ignored when Tracker is set.
	Track track.Config
	// Tracker replaces ByteTrack, e.g. with recorded tracks (Recorded).
	Tracker Tracker
	// Scene gives the rules and the ground plane; nil: no rules.
	Scene *scene.Scene
	// NoRules keeps the scene for its geometry (the baseline's grid) but
	// runs none of its rules.
	NoRules bool
	// Epoch is the wall-clock instant of PTS 0 (a recording's start).
	// Zero with LiveClock: taken from the first frame. Zero without: the
	// wall time is unknown, every schedule is active and the baseline has
	// one hour bucket.
	Epoch time.Time
	// LiveClock takes the epoch from the first frame that carries its
	// arrival time (decode.Frame.Received − PTS): a live camera's clock.
	LiveClock bool
	// Baseline, when set, learns the camera's normal and raises anomaly
	// events; its Epoch is the chain's clock. SavedBaseline restores what
	// was learned (a mismatched save is reported and learning restarts).
	Baseline      *baseline.Config
	SavedBaseline []byte
	// Motion, when set, runs the motion cue on frames with pixels;
	// SavedMotion restores its model when the frame size matches.
	Motion      *motion.ModelOptions
	SavedMotion []byte
	// Suppress hides dismissed situations; nil hides nothing.
	Suppress Suppressor
	// Attributes, when set, describes each person and vehicle track for
	// the suspect search (Summary.Appearance); its Scene is the chain's.
	Attributes *attrs.Config
}

// Output is what one step of the chain produced.
type Output struct {
	Frame *decode.Frame
	// At is the frame's time on the camera clock (zero epoch: the zero
	// time plus PTS), and Clock that clock, for the other times in here.
	At    time.Time
	Clock Clock
	// Stale is set for a frame whose PTS does not follow the previous
	// one's; nothing else is set then.
	Stale bool
	// Detections are the frame's detections of the kept classes.
	Detections []detect.Detection
	// Carried is set for a frame the tracker carried (Chain.Carry): no
	// detections, the tracks at their predicted boxes.
	Carried bool
	// Tracks are the tracks matched in this frame, by id.
	Tracks []track.Track
	// Ended are the ids of the tracks that ended at this frame, and
	// Summaries the summaries of those long enough to keep.
	Ended     []int
	Summaries []Summary
	// Events are the events raised at this frame and not suppressed;
	// Suppressed those an operator's dismissal hides.
	Events     []event.Event
	Suppressed []Suppressed
	// Counts are the line crossings counted at this frame, N = 1 each;
	// Count.Start is the bucket's PTS (Clock.At gives its wall time).
	Counts []rules.Count
	// Notices say what the chain could not restore (a saved baseline
	// that no longer fits the scene); the caller logs them.
	Notices []string
}

// Suppressed is an event hidden by a suppression.
type Suppressed struct {
	Event       event.Event
	Suppression int64
}

// Chain is one camera's analysis. It is not safe for concurrent use: the
// caller serialises Step with the other methods.
type Chain struct {
	cfg     Config
	tracker Tracker
	clock   Clock
	started bool
	last    time.Duration

	scene     *scene.Scene
	engine    *rules.Engine
	base      *baseline.Model
	baseDirty bool
	cue       *motionCue
	summ      *summaries
	attrs     *attrs.Collector
	notices   []string
}

// New builds a chain; the scene's rules and the configs are checked now,
// the clock, baseline and motion cue start with the first frame.
func New(cfg Config) (*Chain, error) {
	c := &Chain{cfg: cfg, clock: Clock{Epoch: cfg.Epoch}, summ: newSummaries()}
	c.tracker = cfg.Tracker
	if c.tracker == nil {
		bt, err := track.New(cfg.Track)
		if err != nil {
			return nil, fmt.Errorf("tracker: %w", err)
		}
		c.tracker = ByteTrack{T: bt}
	}
	if cfg.Attributes != nil {
		c.attrs = attrs.New(*cfg.Attributes)
	}
	if cfg.Baseline != nil {
		if err := cfg.Baseline.Defaults().Validate(); err != nil {
			return nil, err
		}
	}
	if err := c.SetScene(cfg.Scene); err != nil {
		return nil, err
	}
	return c, nil
}

// Motions are the tracker's live tracks with their velocities, for
// detection planning; nil for a tracker that does not predict.
func (c *Chain) Motions() []track.Motion {
	if p, ok := c.tracker.(Predictor); ok {
		return p.Motions()
	}
	return nil
}

// Clock is the camera clock (its epoch is zero until the first frame of
// a live camera).
func (c *Chain) Clock() Clock { return c.clock }

// Scene is the scene in force (nil: none).
func (c *Chain) Scene() *scene.Scene { return c.scene }

// SetScene installs a scene (nil removes the rules) with a fresh rule
// engine. The camera clock, the tracks and what the baseline learned are
// kept: the baseline moves to the new scene when its ground grid is
// unchanged, and restarts (with a notice) when it is not.
func (c *Chain) SetScene(sc *scene.Scene) error {
	var eng *rules.Engine
	if sc != nil && !c.cfg.NoRules {
		var err error
		if eng, err = rules.New(sc, rules.Options{Epoch: c.clock.Epoch}); err != nil {
			return err
		}
	}
	c.scene, c.engine = sc, eng
	if c.attrs != nil {
		c.attrs.SetScene(sc)
	}
	if c.base != nil {
		c.moveBaseline(sc)
	}
	return nil
}

// start fixes the clock on the first frame and builds what depends on it.
func (c *Chain) start(f *decode.Frame) {
	c.started = true
	if c.clock.Epoch.IsZero() && c.cfg.LiveClock && !f.Received.IsZero() {
		c.clock.Epoch = f.Received.Add(-f.PTS)
		if c.scene != nil && !c.cfg.NoRules {
			// The scene was checked in New; only the epoch changes.
			c.engine, _ = rules.New(c.scene, rules.Options{Epoch: c.clock.Epoch})
		}
	}
	if c.cfg.Baseline != nil {
		c.base = c.newBaseline(c.scene, c.cfg.SavedBaseline)
	}
	if c.cfg.Motion != nil && len(f.Pix) > 0 {
		c.cue = newMotionCue(f.Width, f.Height, *c.cfg.Motion)
		if c.cfg.SavedMotion != nil {
			if err := c.cue.m.UnmarshalBinary(c.cfg.SavedMotion); err != nil {
				c.notice("motion model restarted from scratch: %v", err)
				c.cue = newMotionCue(f.Width, f.Height, *c.cfg.Motion)
			}
		}
	}
}

func (c *Chain) notice(format string, args ...any) {
	c.notices = append(c.notices, fmt.Sprintf(format, args...))
}

// newBaseline makes a model on the camera clock and restores saved into
// it; a save that does not fit the scene is dropped with a notice.
func (c *Chain) newBaseline(sc *scene.Scene, saved []byte) *baseline.Model {
	cfg := *c.cfg.Baseline
	cfg.Epoch = c.clock.Epoch
	m, err := baseline.New(cfg, sc)
	if err != nil { // the config was checked in New
		c.notice("baseline off: %v", err)
		return nil
	}
	if saved != nil {
		if err := m.UnmarshalBinary(saved); err != nil {
			c.notice("baseline restarted from scratch: %v", err)
			m, _ = baseline.New(cfg, sc)
		}
	}
	return m
}

func (c *Chain) moveBaseline(sc *scene.Scene) {
	saved, err := c.base.MarshalBinary()
	if err != nil {
		saved = nil
		c.notice("baseline not carried over to the new scene: %v", err)
	}
	c.base = c.newBaseline(sc, saved)
	c.baseDirty = true
}

// Step analyses one frame: f's time (and pixels, for the motion cue) and
// the detector's output for it. dets is filtered in place.
func (c *Chain) Step(f *decode.Frame, dets []detect.Detection) Output {
	return c.step(f, dets, false)
}

// Carry analyses one frame the detector skipped (a detection plan's
// "carry"): the tracker predicts its tracks forward instead of matching
// detections, and everything after it — rules, baseline, motion cue,
// summaries — sees the frame as any other. A tracker that cannot predict
// (recorded tracks) is updated with no detections.
func (c *Chain) Carry(f *decode.Frame) Output {
	return c.step(f, nil, true)
}

func (c *Chain) step(f *decode.Frame, dets []detect.Detection, carry bool) Output {
	if c.started && f.PTS <= c.last {
		return Output{Frame: f, Stale: true}
	}
	if !c.started {
		c.start(f)
	}
	c.last = f.PTS
	out := Output{Frame: f, At: c.clock.At(f.PTS), Clock: c.clock, Carried: carry}
	if p, ok := c.tracker.(Predictor); ok && carry {
		out.Tracks = p.Predict(f)
	} else {
		out.Detections = c.keep(dets)
		out.Tracks = c.tracker.Update(f, out.Detections)
	}
	var raised []event.Event
	if c.engine != nil {
		raised = c.engine.Update(f.PTS, out.Tracks)
	}
	if c.base != nil {
		raised = append(raised, c.base.Update(f.PTS, f.Width, f.Height, out.Tracks)...)
		c.baseDirty = true
	}
	if c.cue != nil {
		if ev, ok := c.cue.observe(f, out.Tracks, c.scene); ok {
			raised = append(raised, ev)
		}
	}
	c.summ.observe(f.PTS, out.Tracks)
	if c.attrs != nil {
		c.attrs.Observe(f, out.Tracks, out.Detections)
	}
	raised = c.end(&out, f.PTS, c.tracker.Ended(), raised)
	c.finish(&out, raised)
	return out
}

// Close ends the stream after the last frame: every open track ends, and
// what was pending on them is raised. Learning is kept, and a later Step
// (with a later PTS) starts a new stream on the same clock.
func (c *Chain) Close() Output {
	out := Output{At: c.clock.At(c.last), Clock: c.clock}
	if !c.started {
		return out
	}
	raised := c.end(&out, c.last, c.tracker.Close(), nil)
	if c.engine != nil {
		raised = append(raised, c.engine.Close(c.last)...)
	}
	if c.base != nil {
		c.base.Close(c.last)
		c.baseDirty = true
	}
	c.finish(&out, raised)
	return out
}

// end ends the tracks ids in every consumer.
func (c *Chain) end(out *Output, pts time.Duration, ids []int, raised []event.Event) []event.Event {
	if len(ids) == 0 {
		return raised
	}
	out.Ended = append([]int(nil), ids...)
	if c.engine != nil {
		raised = append(raised, c.engine.End(pts, ids)...)
	}
	if c.base != nil {
		c.base.End(ids)
	}
	out.Summaries = c.summ.end(ids, c.clock)
	c.describe(out.Summaries, ids)
	return raised
}

// describe gives the summaries of ended tracks ids their appearance.
func (c *Chain) describe(sums []Summary, ids []int) {
	if c.attrs == nil {
		return
	}
	for _, id := range ids {
		a, ok := c.attrs.End(id)
		if !ok {
			continue
		}
		for i := range sums {
			if sums[i].TrackID == id {
				sums[i].Appearance = &a
			}
		}
	}
}

// finish names, suppresses and counts what the step raised.
func (c *Chain) finish(out *Output, raised []event.Event) {
	camera := c.cfg.Camera
	if camera == "" && c.scene != nil {
		camera = c.scene.Camera
	}
	for _, ev := range raised {
		ev.Camera = camera
		if c.clock.Known() {
			ev.At = c.clock.AtSeconds(ev.End)
		}
		if c.cfg.Suppress != nil && Suppressible(ev) {
			if id, ok := c.cfg.Suppress.Match(ev, c.clock.AtSeconds(ev.End)); ok {
				out.Suppressed = append(out.Suppressed, Suppressed{Event: ev, Suppression: id})
				continue
			}
		}
		out.Events = append(out.Events, ev)
	}
	if c.engine != nil {
		out.Counts = c.engine.NewCounts()
	}
	out.Notices, c.notices = c.notices, nil
}

func (c *Chain) keep(dets []detect.Detection) []detect.Detection {
	if c.cfg.Classes == nil {
		return dets
	}
	out := dets[:0]
	for _, d := range dets {
		if c.cfg.Classes.Allows(d.Class) {
			out = append(out, d)
		}
	}
	return out
}

// Suppressible reports whether verdicts on ev go to the suppression set:
// scene-rule events and the motion cue's. The baseline's own anomaly
// events are judged by the baseline, which also moves its thresholds.
func Suppressible(ev event.Event) bool {
	return ev.Rule != baseline.Rule || ev.Name == MotionKind
}

// errNoBaseline is returned when the chain learns no baseline (yet).
var errNoBaseline = errors.New("no learned baseline")

// ErrNoBaseline reports whether err says the chain has no baseline.
func ErrNoBaseline(err error) bool { return errors.Is(err, errNoBaseline) }

// Feedback hands an operator's verdict on one of this chain's anomaly
// events to the baseline; false when the baseline did not raise it.
func (c *Chain) Feedback(ev event.Event, confirmed bool) bool {
	if c.base == nil || !c.base.Feedback(ev, confirmed) {
		return false
	}
	c.baseDirty = true
	return true
}

// BaselineState summarises the baseline.
func (c *Chain) BaselineState() (baseline.State, error) {
	if c.base == nil {
		return baseline.State{}, errNoBaseline
	}
	return c.base.State(), nil
}

// BaselineHour is the hour-of-week bucket the baseline filed the latest
// frame under (Monday 00:00 is 0), or -1 without a known clock.
func (c *Chain) BaselineHour() (int, error) {
	if c.base == nil {
		return 0, errNoBaseline
	}
	return c.base.Hour(), nil
}

// Heatmap draws the baseline.
func (c *Chain) Heatmap(opt baseline.HeatmapOptions) (*image.RGBA, error) {
	if c.base == nil {
		return nil, errNoBaseline
	}
	return c.base.Heatmap(opt)
}

// SaveBaseline encodes the baseline, or returns nil when nothing changed
// since the last save (force encodes anyway).
func (c *Chain) SaveBaseline(force bool) ([]byte, error) {
	if c.base == nil || (!c.baseDirty && !force) {
		return nil, nil
	}
	data, err := c.base.MarshalBinary()
	if err == nil {
		c.baseDirty = false
	}
	return data, err
}

// SaveMotion encodes the motion cue's model (nil before the first frame
// or without a cue).
func (c *Chain) SaveMotion() ([]byte, error) {
	if c.cue == nil {
		return nil, nil
	}
	return c.cue.m.MarshalBinary()
}
