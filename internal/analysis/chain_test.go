package analysis

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/attrs"
	"github.com/vigil-cctv/vigil/internal/baseline"
	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/track"
)

// plazaScene: a lawn (intrusion only at night), a gate line, a road
// (stopped vehicles), 10 px per metre.
const plazaScene = `version: 1
camera: plaza
image: {width: 1000, height: 800}
calibration:
  pairs:
    - {image: [0, 0], ground: [0, 0]}
    - {image: [1000, 0], ground: [100, 0]}
    - {image: [1000, 800], ground: [100, 80]}
    - {image: [0, 800], ground: [0, 80]}
zones:
  - {name: lawn, type: restricted, polygon: [[100, 100], [400, 100], [400, 400], [100, 400]]}
lines:
  - {name: gate, points: [[600, 0], [600, 799]], in: right}
schedules:
  - name: night
    timezone: UTC
    windows:
      - {days: [daily], from: "22:00", to: "06:00"}
rules:
  - {type: intrusion, name: lawn-night, zone: lawn, schedule: night, classes: [person], min_dwell: 1s}
  - {type: line_crossing, line: gate}
`

func loadPlaza(t *testing.T) *scene.Scene {
	t.Helper()
	sc, err := scene.Parse([]byte(plazaScene), "plaza.yaml")
	require.NoError(t, err)
	return sc
}

// person at foot point (x, y).
func person(x, y float64) detect.Detection {
	return detect.Detection{Class: detect.Person, Score: 0.9, Box: geom.Box{X: x - 10, Y: y - 40, W: 20, H: 40}}
}

func frameAt(i int) *decode.Frame {
	return &decode.Frame{Index: i, PTS: time.Duration(i) * 100 * time.Millisecond, Width: 1000, Height: 800}
}

// walk is a person standing on the lawn for 3 s, then walking east
// through the gate, then gone: 80 frames at 10 fps plus 30 empty ones.
func walk(i int) []detect.Detection {
	switch {
	case i < 30:
		return []detect.Detection{person(250, 250)}
	case i < 80:
		return []detect.Detection{person(250+float64(i-30)*10, 250)}
	}
	return nil
}

func run(t *testing.T, cfg Config, frames int, dets func(int) []detect.Detection) []Output {
	t.Helper()
	if cfg.Track.FPS == 0 {
		cfg.Track = track.DefaultConfig(10)
	}
	c, err := New(cfg)
	require.NoError(t, err)
	var outs []Output
	for i := range frames {
		outs = append(outs, c.Step(frameAt(i), dets(i)))
	}
	return append(outs, c.Close())
}

func events(outs []Output) []event.Event {
	var evs []event.Event
	for _, o := range outs {
		evs = append(evs, o.Events...)
	}
	return evs
}

func rulesOf(evs []event.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Rule)
	}
	return out
}

// The camera clock decides whether a scheduled rule is active: the same
// footage at noon raises no night intrusion, at 23:00 it does.
func TestScheduleFollowsTheCameraClock(t *testing.T) {
	sc := loadPlaza(t)
	noon := run(t, Config{Scene: sc, Epoch: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)}, 110, walk)
	require.Equal(t, []string{"line_crossing"}, rulesOf(events(noon)))
	night := run(t, Config{Scene: sc, Epoch: time.Date(2026, 3, 2, 23, 0, 0, 0, time.UTC)}, 110, walk)
	require.Equal(t, []string{"intrusion", "line_crossing"}, rulesOf(events(night)))
	for _, ev := range events(night) {
		require.Equal(t, "plaza", ev.Camera, "events carry the scene's camera when none is configured")
	}
}

// A live camera's clock is the first frame's arrival minus its PTS, and
// the wall times the chain reports follow it.
func TestLiveClockFromFirstFrame(t *testing.T) {
	c, err := New(Config{Track: track.DefaultConfig(10), LiveClock: true, Scene: loadPlaza(t)})
	require.NoError(t, err)
	arrived := time.Date(2026, 3, 2, 23, 30, 0, 0, time.UTC)
	f := frameAt(5)
	f.Received = arrived
	out := c.Step(f, nil)
	require.Equal(t, arrived.Add(-500*time.Millisecond), c.Clock().Epoch)
	require.Equal(t, arrived, out.At)
	later := frameAt(6)
	later.Received = arrived.Add(time.Hour) // a late delivery does not move the clock
	require.Equal(t, arrived.Add(100*time.Millisecond), c.Step(later, nil).At)
}

// Every track ends exactly once, on the tracker's report, and every
// consumer ends it then: summaries come out with it, and the line
// crossing it was counted in is in the counts.
func TestTracksEndOnceOnTheTrackersReport(t *testing.T) {
	outs := run(t, Config{Scene: loadPlaza(t), Baseline: &baseline.Config{}}, 110, walk)
	var ended []int
	var sums []Summary
	crossings := 0
	for _, o := range outs {
		ended = append(ended, o.Ended...)
		sums = append(sums, o.Summaries...)
		for _, c := range o.Counts {
			crossings += c.N
			require.Equal(t, "gate", c.Line)
			require.Equal(t, "out", c.Direction, "east, out of the right-hand side")
		}
	}
	require.Equal(t, []int{1}, ended)
	require.Len(t, sums, 1)
	require.Equal(t, 1, sums[0].TrackID)
	require.Equal(t, 1, crossings)
	// Last seen in frame 79: more than the tracker's 1 s (10 frame)
	// buffer later, at frame 90, it ends — on no timer of the rules' or
	// the baseline's own.
	for i, o := range outs[:110] {
		if len(o.Ended) > 0 {
			require.Equal(t, 90, i)
		}
	}
}

// The same input gives the same output.
func TestChainIsDeterministic(t *testing.T) {
	cfg := func() Config {
		return Config{Scene: loadPlaza(t), Epoch: time.Date(2026, 3, 2, 23, 0, 0, 0, time.UTC), Baseline: &baseline.Config{Warmup: time.Second}}
	}
	a := run(t, cfg(), 110, walk)
	b := run(t, cfg(), 110, walk)
	require.Equal(t, len(a), len(b))
	for i := range a {
		a[i].Frame, b[i].Frame = nil, nil
		require.Equal(t, a[i], b[i], "step %d", i)
	}
}

// A scene reload keeps the camera clock: the baseline files the next
// frame under the hour the clock gives, not one shifted by uptime.
func TestReloadKeepsTheClock(t *testing.T) {
	epoch := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) // a Monday
	c, err := New(Config{Track: track.DefaultConfig(10), Scene: loadPlaza(t), Epoch: epoch, Baseline: &baseline.Config{}})
	require.NoError(t, err)
	pts := 90 * time.Minute
	c.Step(&decode.Frame{PTS: pts, Width: 1000, Height: 800}, nil)
	hour, err := c.BaselineHour()
	require.NoError(t, err)
	require.Equal(t, 11, hour, "Monday 11:30")
	require.NoError(t, c.SetScene(loadPlaza(t)))
	out := c.Step(&decode.Frame{PTS: pts + 31*time.Minute, Width: 1000, Height: 800}, nil)
	hour, err = c.BaselineHour()
	require.NoError(t, err)
	require.Equal(t, 12, hour, "Monday 12:01 after the reload")
	require.Equal(t, epoch, c.Clock().Epoch)
	require.Equal(t, epoch.Add(pts+31*time.Minute), out.At)
}

type suppressAll struct{ at []time.Time }

func (s *suppressAll) Match(ev event.Event, at time.Time) (int64, bool) {
	s.at = append(s.at, at)
	return 7, ev.Rule != baseline.Rule
}

// Suppressed events are reported apart, matched at the event's time on
// the camera clock.
func TestSuppressedEventsAreSetApart(t *testing.T) {
	sup := &suppressAll{}
	epoch := time.Date(2026, 3, 2, 23, 0, 0, 0, time.UTC)
	outs := run(t, Config{Scene: loadPlaza(t), Epoch: epoch, Suppress: sup}, 110, walk)
	require.Empty(t, events(outs))
	var hidden []Suppressed
	for _, o := range outs {
		hidden = append(hidden, o.Suppressed...)
	}
	require.Len(t, hidden, 2)
	require.EqualValues(t, 7, hidden[0].Suppression)
	require.Equal(t, epoch.Add(time.Duration(hidden[0].Event.End*float64(time.Second))), sup.at[0])
}

// Recorded tracks replay through the same chain, ending as the tracker
// would end them.
func TestRecordedTracksReplay(t *testing.T) {
	byFrame := map[int][]track.Track{}
	for i := range 80 {
		for _, d := range walk(i) {
			byFrame[i] = append(byFrame[i], track.Track{ID: 42, Class: d.Class, Box: d.Box, Score: 1, DetIndex: -1})
		}
	}
	cfg := Config{Scene: loadPlaza(t), Epoch: time.Date(2026, 3, 2, 23, 0, 0, 0, time.UTC),
		Tracker: Recorded{R: track.NewReplay(byFrame, track.DefaultConfig(10))}}
	outs := run(t, cfg, 110, func(int) []detect.Detection { return nil })
	evs := events(outs)
	require.Equal(t, []string{"intrusion", "line_crossing"}, rulesOf(evs))
	require.Equal(t, []int{42}, evs[0].Tracks)
}

// A frame whose time does not follow the previous one's is set aside.
func TestStaleFrames(t *testing.T) {
	c, err := New(Config{Track: track.DefaultConfig(10)})
	require.NoError(t, err)
	require.False(t, c.Step(frameAt(5), nil).Stale)
	require.True(t, c.Step(frameAt(5), nil).Stale)
	require.True(t, c.Step(frameAt(3), nil).Stale)
	require.False(t, c.Step(frameAt(6), nil).Stale)
}

// A saved baseline that does not fit is reported, not fatal.
func TestBadSavedBaselineIsANotice(t *testing.T) {
	c, err := New(Config{Track: track.DefaultConfig(10), Baseline: &baseline.Config{}, SavedBaseline: []byte("junk")})
	require.NoError(t, err)
	out := c.Step(frameAt(0), nil)
	require.Len(t, out.Notices, 1)
	require.Contains(t, out.Notices[0], "baseline restarted from scratch")
	require.Empty(t, c.Step(frameAt(1), nil).Notices, "said once")
}

// Frames carried by the tracker (Chain.Carry) between detected ones keep
// a slow walker's one track alive at its predicted place: the gate
// crossing is raised as when every frame is detected, the rules see every
// frame (one output per frame, carried ones marked) and the track ends
// once.
func TestCarriedFramesKeepTracksAndRules(t *testing.T) {
	stroll := func(i int) []detect.Detection {
		switch {
		case i < 10:
			return []detect.Detection{person(550, 250)}
		case i < 50:
			return []detect.Detection{person(550+3*float64(i-10), 250)}
		}
		return nil
	}
	noon := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	every := run(t, Config{Scene: loadPlaza(t), Epoch: noon}, 80, stroll)
	require.Equal(t, []string{"line_crossing"}, rulesOf(events(every)))

	c, err := New(Config{Scene: loadPlaza(t), Track: track.DefaultConfig(10), Epoch: noon})
	require.NoError(t, err)
	var outs []Output
	for i := range 80 {
		if i%3 != 0 && i > 2 {
			o := c.Carry(frameAt(i))
			require.True(t, o.Carried)
			require.Empty(t, o.Detections)
			outs = append(outs, o)
			continue
		}
		outs = append(outs, c.Step(frameAt(i), stroll(i)))
		if i == 30 {
			require.Len(t, c.Motions(), 1, "the walker's motion, for planning")
		}
	}
	outs = append(outs, c.Close())
	require.Equal(t, []string{"line_crossing"}, rulesOf(events(outs)))
	ids := map[int]bool{}
	var ended []int
	for _, o := range outs {
		for _, tr := range o.Tracks {
			ids[tr.ID] = true
		}
		ended = append(ended, o.Ended...)
	}
	require.Len(t, ids, 1, "one walker, one id through the carried frames")
	require.Len(t, ended, 1, "ends once")
}

// TestChainDescribesTracks: with Attributes set, the summary of an ended
// person track carries its appearance, read from the frame's pixels.
func TestChainDescribesTracks(t *testing.T) {
	c, err := New(Config{Track: track.DefaultConfig(10), Scene: loadPlaza(t), Attributes: &attrs.Config{}})
	require.NoError(t, err)
	var sums []Summary
	for i := range 60 {
		f := frameAt(i)
		f.Pix = make([]byte, f.Width*f.Height*3)
		paint(f, geom.Box{W: 1000, H: 800}, [3]byte{120, 120, 118})
		var dets []detect.Detection
		if i < 30 {
			d := person(200+10*float64(i), 300)
			paint(f, d.Box, [3]byte{210, 30, 30})
			dets = append(dets, d)
		}
		sums = append(sums, c.Step(f, dets).Summaries...)
	}
	sums = append(sums, c.Close().Summaries...)
	require.Len(t, sums, 1)
	a := sums[0].Appearance
	require.NotNil(t, a)
	require.Equal(t, []string{"red"}, a.Upper)
	require.Equal(t, "east", a.Heading)
	require.Equal(t, []string{"lawn"}, a.Zones)
	require.NotEmpty(t, a.Thumb)
}

func paint(f *decode.Frame, b geom.Box, c [3]byte) {
	for y := int(b.Y); y < int(b.Y2()); y++ {
		for x := int(b.X); x < int(b.X2()); x++ {
			copy(f.Pix[(y*f.Width+x)*3:], c[:])
		}
	}
}
