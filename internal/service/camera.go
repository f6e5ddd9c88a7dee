package service

import (
	"context"
	"image"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-cctv/vigil/internal/analysis"
	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/deliver"
	"github.com/vigil-cctv/vigil/internal/detplan"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/ingest"
	"github.com/vigil-cctv/vigil/internal/media"
	"github.com/vigil-cctv/vigil/internal/media/segring"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/search"
	"github.com/vigil-cctv/vigil/internal/snapshot"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/track"
)

// Sinks are where a camera's results go; shared by all cameras.
type Sinks struct {
	Store   store.Store
	Metrics *Metrics
	// Queue takes every event: stored (through the spool when the store
	// refuses) and, as the alert protocols say, queued for an operator.
	Queue *opQueue
	// Published puts a stored alert on the event stream.
	Published func(ctx context.Context, id int64, camera string)
	// MediaFailed counts a lost snapshot, crop or clip.
	MediaFailed func(kind string)
	Snapshot    *snapshot.Writer // nil: no snapshots
	Log         *slog.Logger
	// Media is where alert clips go; PreRoll/PostRoll bound them.
	Media             string
	PreRoll, PostRoll time.Duration
	// Search indexes described track summaries; nil: not indexed.
	Search *search.Index
}

// liveFrame is the latest analysed frame, for the MJPEG view.
type liveFrame struct {
	frame  *decode.Frame
	tracks []track.Track
	scene  *scene.Scene
	// decision is the detection plan's for the frame, drawn when the live
	// view's debug overlay is on.
	decision detplan.Decision
}

// inFrame is a decoded frame with what the motion gate saw in it.
type inFrame struct {
	frame  *decode.Frame
	motion []geom.Box
	global bool
	thumb  ingest.Thumb
}

// countsEvery is how much frame time of line counts is batched into one
// store write.
const countsEvery = 10 * time.Second

// processor runs one camera's frames (already motion-gated by ingest)
// through the shared detector pool and the camera's analysis chain, and
// hands the chain's output to the sinks: store, event stream, snapshots,
// clips. It holds no analysis logic itself: that is the chain's.
type processor struct {
	id    string
	model Model
	// replay, when set, is the camera's own recorded detections: its
	// jobs are inferred with it, not with the pool's model.
	replay Model
	pool   *Pool
	sinks  Sinks
	// lossless makes the camera wait for the detector instead of
	// dropping frames: a recorded file played once, analysed in full.
	lossless bool

	mu    sync.Mutex // the chain is used by the camera and by API calls
	chain *analysis.Chain

	// plan decides per frame what the detector does (nil: the whole frame,
	// every frame); region detects its crops (nil: crops become the whole
	// frame). Only the feeder uses plan, and wholeRef: the thumbnail of
	// the frame the plan's last whole-frame pass read.
	plan     *detplan.Policy
	wholeRef ingest.Thumb
	region   RegionModel
	crops    chan []float32 // free region tensors
	cropBuf  int

	detected atomic.Int64
	analysed atomic.Int64
	mix      mixCounts
	dropped  atomic.Int64
	live     atomic.Pointer[liveFrame]
	tensors  chan []float32
	results  chan Result
	ring     *media.Ring    // recent frames, the pre-roll of clips
	clips    *media.Clipper // nil without snapshots, or with seg
	// seg keeps an RTSP camera's compressed video; its alert clips are cut
	// from it by stream copy (cuts tracks them) instead of encoded.
	seg *segring.Ring
	// rec writes seg's video to the camera's recording; nil: not recorded.
	rec     *camRecording
	cuts    clipCuts
	lastPTS time.Duration // of the last analysed frame

	counts     []store.Count // line counts not yet stored
	countsFrom time.Duration
}

// inFlight is the tensors per camera: one preparing, one queued, one
// inferring and one whose result the chain is handling. With three, a
// camera whose turn in the lanes came late dropped frames on a box at
// 70 % of its CPU.
const inFlight = 4

func newProcessor(id string, chain *analysis.Chain, model Model, pool *Pool, fps float64, lossless bool, sinks Sinks) *processor {
	p := &processor{id: id, chain: chain, model: model, pool: pool, sinks: sinks, lossless: lossless,
		tensors: make(chan []float32, inFlight), results: make(chan Result, inFlight+1)}
	for i := 0; i < inFlight; i++ {
		p.tensors <- model.NewInput()
	}
	if sinks.Snapshot != nil && sinks.Media != "" {
		// 64 MiB bounds the pre-roll whatever the resolution.
		p.ring = media.NewRing(sinks.PreRoll, 64<<20)
		p.clips = media.NewClipper(sinks.Media, fps, sinks.PreRoll, sinks.PostRoll, sinks.Log)
	}
	return p
}

// withChain runs fn with the camera's chain, serialised with the frames.
func (p *processor) withChain(fn func(c *analysis.Chain)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fn(p.chain)
}

// setScene hot-reloads the camera's scene (nil removes the rules).
func (p *processor) setScene(sc *scene.Scene) (err error) {
	p.withChain(func(c *analysis.Chain) { err = c.SetScene(sc) })
	return err
}

func (p *processor) currentScene() (sc *scene.Scene) {
	p.withChain(func(c *analysis.Chain) { sc = c.Scene() })
	return sc
}

// recycle returns a dropped job's tensor (called by the pool).
func (p *processor) recycle(j Job) {
	p.dropped.Add(1)
	p.sinks.Metrics.Frames.WithLabelValues(p.id, "dropped").Inc()
	p.release(j)
}

// usePlan gives the camera a detection plan: each frame is then detected
// whole, in crops (when the pool has a region model) or carried by the
// tracker, as the plan decides.
func (p *processor) usePlan(plan *detplan.Policy, region RegionModel, maxRegions int) {
	p.plan, p.region = plan, region
	if region != nil {
		p.crops = make(chan []float32, inFlight*max(maxRegions, 1))
	}
}

// feed plans, prepares and submits frames until the channel closes. Every
// frame in flight holds one of the camera's tensors, carried ones too, so
// that the frames in flight stay bounded: a live camera drops the frame
// when every tensor is in flight (the detector is behind); a lossless one
// waits.
func (p *processor) feed(ctx context.Context, frames <-chan inFrame) {
	for in := range frames {
		f := in.frame
		p.sinks.Metrics.Frames.WithLabelValues(p.id, "in").Inc()
		t, ok := p.tensor(ctx)
		if !ok {
			p.dropped.Add(1)
			p.sinks.Metrics.Frames.WithLabelValues(p.id, "dropped").Inc()
			continue
		}
		j := Job{Frame: f, Tensor: t, Model: p.replay, Done: p.results, Keep: p.lossless, Decision: p.decide(in)}
		if err := p.prepare(&j); err != nil {
			p.release(j)
			p.sinks.Log.Warn("frame rejected", "camera", p.id, "err", err)
			continue
		}
		p.pool.Submit(p.id, j)
		p.sinks.Metrics.QueueDepth.WithLabelValues(p.id).Set(float64(p.pool.Depth(p.id)))
	}
}

// decide asks the plan what to do with a frame, from its motion and the
// tracks as the chain last left them (a frame or two behind while frames
// are in flight).
func (p *processor) decide(in inFrame) detplan.Decision {
	f := in.frame
	if p.plan == nil {
		return wholeFrame(f, "every frame detected")
	}
	st := detplan.State{PTS: f.PTS, Width: f.Width, Height: f.Height, Motion: in.motion, MotionGlobal: in.global,
		Unchanged: in.thumb.Same(p.wholeRef)}
	var ms []track.Motion
	var sc *scene.Scene
	p.withChain(func(c *analysis.Chain) { ms, sc = c.Motions(), c.Scene() })
	for _, m := range ms {
		st.Tracks = append(st.Tracks, detplan.Track{Box: m.Box, VX: m.VX, VY: m.VY, NearRule: nearRule(sc, m)})
	}
	d := p.plan.Decide(st)
	if d.Whole {
		p.wholeRef = in.thumb
	}
	if d.Mode == detplan.Regions && p.region == nil {
		d = wholeFrame(f, d.Reason+"; no region detector")
	}
	return d
}

// wholeFrame is a full pass over f at the model's own input.
func wholeFrame(f *decode.Frame, reason string) detplan.Decision {
	whole := detplan.Region{Rect: image.Rect(0, 0, f.Width, f.Height)}
	return detplan.Decision{Mode: detplan.Full, Regions: []detplan.Region{whole}, Reason: reason, Whole: true}
}

// nearRule reports a track whose foot point is within half its height,
// or two frames of its motion, of a rule's line or entry edge: its next
// frames are detected, not predicted (scene.NearRule says which rules).
func nearRule(sc *scene.Scene, m track.Motion) bool {
	if sc == nil {
		return false
	}
	foot := geom.Point{X: m.Box.X + m.Box.W/2, Y: m.Box.Y + m.Box.H}
	return sc.NearRule(foot, max(m.Box.H/2, 2*math.Hypot(m.VX, m.VY)))
}

// prepare fills the job's tensors as its decision says.
func (p *processor) prepare(j *Job) error {
	switch j.Decision.Mode {
	case detplan.Carry:
		j.Carry = true
		return nil
	case detplan.Regions:
		for _, r := range j.Decision.Regions {
			c := Crop{Region: r, Tensor: p.cropTensor()}
			j.Crops = append(j.Crops, c)
			if err := p.region.PrepareRegion(c.Tensor, j.Frame, r.Rect, r.Input); err != nil {
				return err
			}
		}
		return nil
	default:
		return p.model.Prepare(j.Tensor, j.Frame)
	}
}

// cropTensor is a free region tensor, a new one when none is free (at most
// the frames in flight times the crops per frame are ever made).
func (p *processor) cropTensor() []float32 {
	select {
	case t := <-p.crops:
		return t
	default:
		return p.region.NewInput()
	}
}

// release returns a job's tensors.
func (p *processor) release(j Job) {
	for _, c := range j.Crops {
		select {
		case p.crops <- c.Tensor:
		default:
		}
	}
	select {
	case p.tensors <- j.Tensor:
	default:
	}
}

func (p *processor) tensor(ctx context.Context) ([]float32, bool) {
	if p.lossless {
		select {
		case t := <-p.tensors:
			return t, true
		case <-ctx.Done():
			return nil, false
		}
	}
	select {
	case t := <-p.tensors:
		return t, true
	default:
		return nil, false
	}
}

// consume handles detector results in order until ctx ends or, for a
// lossless camera, until done closes and every frame in flight is back.
func (p *processor) consume(ctx context.Context, done <-chan struct{}) {
	for {
		select {
		case <-ctx.Done():
			p.finish(context.WithoutCancel(ctx))
			return
		case <-done:
			if len(p.tensors) == inFlight {
				p.finish(ctx)
				return
			}
			done = nil // keep taking results until every tensor is back
		case r := <-p.results:
			p.handle(ctx, r)
			if done == nil && len(p.tensors) == inFlight {
				p.finish(ctx)
				return
			}
		}
	}
}

// finish ends the camera's stream in the chain and records what that
// raised and what the camera saw, even though it is stopping.
func (p *processor) finish(ctx context.Context) {
	var out analysis.Output
	p.withChain(func(c *analysis.Chain) { out = c.Close() })
	p.deliver(ctx, out, nil)
	p.flushCounts(ctx)
}

func (p *processor) handle(ctx context.Context, r Result) {
	defer p.release(r.Job)
	m := p.sinks.Metrics
	m.Latency.WithLabelValues(p.id).Observe(r.Latency.Seconds())
	if r.Err != nil {
		p.sinks.Log.Warn("inference failed", "camera", p.id, "err", r.Err)
		return
	}
	f, d := r.Job.Frame, r.Job.Decision
	var out analysis.Output
	var sc *scene.Scene
	p.withChain(func(c *analysis.Chain) {
		if r.Job.Carry {
			out = c.Carry(f)
		} else {
			out = c.Step(f, r.Detections)
		}
		sc = c.Scene()
		p.rec.setClock(c.Clock())
	})
	if out.Stale {
		return // out-of-order frame after a restart; the chain needs rising time
	}
	p.count(d)
	p.lastPTS = f.PTS
	if p.clips != nil && p.seg == nil {
		p.ring.Add(f)
		p.clips.Add(p.id, f)
	}
	p.live.Store(&liveFrame{frame: f, tracks: out.Tracks, scene: sc, decision: d})
	p.deliver(ctx, out, sc)
	if f.PTS-p.countsFrom >= countsEvery {
		p.flushCounts(ctx)
	}
}

// count records an analysed frame and what the plan did with it.
func (p *processor) count(d detplan.Decision) {
	m := p.sinks.Metrics
	m.Frames.WithLabelValues(p.id, "analysed").Inc()
	p.analysed.Add(1)
	m.Decisions.WithLabelValues(p.id, d.Mode.String()).Inc()
	switch d.Mode {
	case detplan.Carry:
		p.mix.carry.Add(1)
	case detplan.Regions:
		m.Regions.WithLabelValues(p.id).Add(float64(len(d.Regions)))
		p.mix.regions.Add(1)
		p.mix.crops.Add(int64(len(d.Regions)))
		m.Frames.WithLabelValues(p.id, "detected").Inc()
		p.detected.Add(1)
	default:
		p.mix.full.Add(1)
		m.Frames.WithLabelValues(p.id, "detected").Inc()
		p.detected.Add(1)
	}
}

// deliver hands one step's output to the sinks.
func (p *processor) deliver(ctx context.Context, out analysis.Output, sc *scene.Scene) {
	for _, n := range out.Notices {
		p.sinks.Log.Warn(n, "camera", p.id)
	}
	for _, s := range out.Suppressed {
		p.sinks.Metrics.Suppressed.WithLabelValues(p.id, s.Event.Rule).Inc()
		p.sinks.Log.Debug("alert suppressed", "camera", p.id, "rule", s.Event.Name, "suppression", s.Suppression)
	}
	for _, ev := range out.Events {
		p.alert(ctx, ev, out, sc)
	}
	for _, s := range out.Summaries {
		t := store.TrackSummary{Camera: p.id, TrackID: s.TrackID, Class: s.Class, Start: s.Start, End: s.End, Path: s.Path,
			Appearance: s.Appearance}
		if err := p.storeTrack(ctx, t); err != nil {
			p.sinks.Log.Warn("storing track summary failed", "camera", p.id, "err", err)
		}
	}
	for _, c := range out.Counts {
		p.counts = append(p.counts, store.Count{Camera: p.id, Name: c.Line, Class: c.Class, Direction: c.Direction,
			Bucket: out.Clock.At(c.Start), N: int64(c.N)})
	}
}

// flushCounts writes the batched line counts; a failure is logged and
// the counts kept for the next flush.
func (p *processor) flushCounts(ctx context.Context) {
	p.countsFrom = p.lastPTS
	if len(p.counts) == 0 {
		return
	}
	if err := p.sinks.Store.AddCounts(ctx, p.counts); err != nil {
		p.sinks.Log.Warn("storing counts failed", "camera", p.id, "err", err)
		return
	}
	cs := make([]deliver.Count, len(p.counts))
	for i, c := range p.counts {
		cs[i] = deliver.Count{Camera: c.Camera, Name: c.Name, Class: c.Class, Direction: c.Direction, Bucket: c.Bucket, N: c.N}
	}
	if q := p.sinks.Queue; q != nil {
		q.announce(ctx, deliver.CountMessages(q.mqtt, time.Now(), cs), func(err error) {
			p.sinks.Log.Warn("counts not announced", "camera", p.id, "err", err)
		})
	}
	p.counts = nil
}

// alert stores an event as an alert durably first (or spools it while
// the store refuses it), then adds its clip and publishes it. At the end
// of a stream there is no frame to draw.
func (p *processor) alert(ctx context.Context, ev event.Event, out analysis.Output, sc *scene.Scene) {
	var files snapshot.Files
	if w := p.sinks.Snapshot; w != nil && out.Frame != nil {
		var err error
		if files, err = w.Write(&ev, out.Frame, out.Tracks, sc); err == nil {
			ev.Snapshot, ev.Crop = files.Snapshot, files.Crop
		} else {
			p.sinks.MediaFailed("snapshot")
			p.sinks.Log.Warn("alert snapshot failed", "camera", p.id, "err", err)
		}
	}
	id, _, err := p.sinks.Queue.alerts.Add(ctx, ev)
	if err != nil {
		// Neither the store nor the spool's own disk took it.
		p.sinks.Log.Error("alert lost: neither stored nor spooled", "camera", p.id, "rule", ev.Name, "err", err)
		return
	}
	p.sinks.Metrics.Alerts.WithLabelValues(p.id, ev.Rule).Inc()
	if files.Clip != "" {
		p.clip(ctx, files.Clip, out.Frame.PTS)
	}
	if id == 0 {
		p.sinks.Log.Warn("alert spooled: the store refused it; it is retried", "camera", p.id, "rule", ev.Name)
		return // published once the spool has stored it
	}
	p.sinks.Log.Info("alert", "id", id, "camera", p.id, "rule", ev.Name, "explanation", ev.Explanation)
	p.sinks.Published(ctx, id, p.id)
	if out.Frame != nil && !out.Frame.Received.IsZero() {
		p.sinks.Metrics.AlertLatency.WithLabelValues(p.id).Observe(time.Since(out.Frame.Received).Seconds())
	}
}
