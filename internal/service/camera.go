package service

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/suppress"
	"github.com/vigil-cctv/vigil/internal/media"
	"github.com/vigil-cctv/vigil/internal/rules"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/snapshot"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/track"
)

// Sinks are where a camera's results go; shared by all cameras.
type Sinks struct {
	Store    store.Store
	Broker   *Broker
	Metrics  *Metrics
	Snapshot *snapshot.Writer // nil: no snapshots
	Log      *slog.Logger
	// Suppress holds dismissed situations; nil suppresses nothing.
	Suppress *suppress.Set
	// Media is where alert clips go; PreRoll/PostRoll bound them.
	Media             string
	PreRoll, PostRoll time.Duration
}

// sceneRules is a scene with its engine, swapped as one on hot reload.
type sceneRules struct {
	scene  *scene.Scene
	engine *rules.Engine
}

// liveFrame is the latest analysed frame, for the MJPEG view.
type liveFrame struct {
	frame  *decode.Frame
	tracks []track.Track
	scene  *scene.Scene
}

// processor analyses one camera's frames (already motion-gated by ingest): letterbox, the
// shared detector pool, tracking, rules, alerts. It owns its tracker and
// tensors; only the rules and the live frame are read from outside.
type processor struct {
	id      string
	classes detect.ClassSet
	model   Model
	pool    *Pool
	tracker *track.Tracker
	sinks   Sinks

	rules        atomic.Pointer[sceneRules]
	base         atomic.Pointer[camBaseline] // nil: anomaly detection off
	motion       atomic.Pointer[motionCue]   // set on the first frame when motionOn
	motionOn     bool
	motionWarmup time.Duration
	resetCounts  atomic.Bool
	detected     atomic.Int64
	dropped      atomic.Int64
	live         atomic.Pointer[liveFrame]
	tensors      chan []float32
	results      chan Result
	summ         *summaries
	ring         *media.Ring    // recent frames, the pre-roll of clips
	clips        *media.Clipper // nil without snapshots
	// lastPTS guards the rules against time going backwards.
	lastPTS time.Duration
}

const inFlight = 3 // tensors per camera: one preparing, one queued, one inferring

func newProcessor(id string, classes detect.ClassSet, model Model, pool *Pool, fps float64, sinks Sinks) (*processor, error) {
	tr, err := track.New(track.DefaultConfig(fps))
	if err != nil {
		return nil, err
	}
	p := &processor{id: id, classes: classes, model: model, pool: pool, tracker: tr, sinks: sinks,
		tensors: make(chan []float32, inFlight), results: make(chan Result, inFlight+1), summ: newSummaries(id)}
	for i := 0; i < inFlight; i++ {
		p.tensors <- model.NewInput()
	}
	if sinks.Snapshot != nil && sinks.Media != "" {
		// 64 MiB bounds the pre-roll whatever the resolution.
		p.ring = media.NewRing(sinks.PreRoll, 64<<20)
		p.clips = media.NewClipper(sinks.Media, fps, sinks.PreRoll, sinks.PostRoll, sinks.Log)
	}
	return p, nil
}

// setScene installs a scene (nil removes the rules) and a fresh engine.
// The counters of the old engine are forgotten with it, so the stored
// running totals restart from the new engine's zero.
func (p *processor) setScene(sc *scene.Scene) error {
	if sc == nil {
		p.rules.Store(nil)
		return nil
	}
	eng, err := rules.New(sc, rules.Options{})
	if err != nil {
		return err
	}
	p.rules.Store(&sceneRules{scene: sc, engine: eng})
	p.resetCounts.Store(true)
	return nil
}

// recycle returns a dropped job's tensor (called by the pool).
func (p *processor) recycle(j Job) {
	p.dropped.Add(1)
	p.sinks.Metrics.Frames.WithLabelValues(p.id, "dropped").Inc()
	select {
	case p.tensors <- j.Tensor:
	default:
	}
}

// feed gates, prepares and submits frames until the channel closes.
func (p *processor) feed(ctx context.Context, frames <-chan *decode.Frame) {
	for f := range frames {
		p.sinks.Metrics.Frames.WithLabelValues(p.id, "in").Inc()
		var t []float32
		select {
		case t = <-p.tensors:
		default:
			// Every tensor is in flight: the detector is behind, so this
			// frame is the one to lose.
			p.dropped.Add(1)
			p.sinks.Metrics.Frames.WithLabelValues(p.id, "dropped").Inc()
			continue
		}
		if err := p.model.Prepare(t, f); err != nil {
			p.tensors <- t
			p.sinks.Log.Warn("frame rejected", "camera", p.id, "err", err)
			continue
		}
		p.pool.Submit(p.id, Job{Frame: f, Tensor: t, Done: p.results})
		p.sinks.Metrics.QueueDepth.WithLabelValues(p.id).Set(float64(p.pool.Depth(p.id)))
	}
}

func (p *processor) currentScene() *scene.Scene {
	if r := p.rules.Load(); r != nil {
		return r.scene
	}
	return nil
}

// consume handles detector results in order until ctx ends.
func (p *processor) consume(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			// Record what the camera saw, even though it is stopping.
			p.flush(context.WithoutCancel(ctx), p.lastPTS, true)
			return
		case r := <-p.results:
			p.handle(ctx, r)
		}
	}
}

func (p *processor) handle(ctx context.Context, r Result) {
	defer func() { p.tensors <- r.Job.Tensor }()
	m := p.sinks.Metrics
	m.Latency.WithLabelValues(p.id).Observe(r.Latency.Seconds())
	if r.Err != nil {
		p.sinks.Log.Warn("inference failed", "camera", p.id, "err", r.Err)
		return
	}
	m.Frames.WithLabelValues(p.id, "detected").Inc()
	p.detected.Add(1)
	f := r.Job.Frame
	if f.PTS <= p.lastPTS && p.lastPTS > 0 {
		return // out-of-order frame after a restart; rules need rising time
	}
	p.lastPTS = f.PTS
	dets := r.Detections[:0]
	for _, d := range r.Detections {
		if p.classes.Allows(d.Class) {
			dets = append(dets, d)
		}
	}
	tracks := p.tracker.Update(dets)
	if p.clips != nil {
		p.ring.Add(f)
		p.clips.Add(p.id, f)
	}
	sr := p.rules.Load()
	var sc *scene.Scene
	if sr != nil {
		sc = sr.scene
		for _, ev := range sr.engine.Update(f.PTS, tracks) {
			p.alert(ctx, ev, f, tracks, sc)
		}
	}
	if b := p.base.Load(); b != nil {
		for _, ev := range b.update(f.PTS, f.Width, f.Height, tracks) {
			p.alert(ctx, ev, f, tracks, sc)
		}
	}
	if c := p.motionFor(ctx, f); c != nil {
		if ev, ok := c.observe(f, tracks, sc); ok {
			p.alert(ctx, ev, f, tracks, sc)
		}
	}
	p.live.Store(&liveFrame{frame: f, tracks: tracks, scene: sc})
	if p.resetCounts.CompareAndSwap(true, false) {
		p.summ.counted = map[string]int{}
	}
	if p.summ.observe(f.PTS, f.Received, tracks) {
		p.flush(ctx, f.PTS, false)
	}
}

// alert stores an alert durably first, then adds pictures and publishes it.
func (p *processor) alert(ctx context.Context, ev event.Event, f *decode.Frame, tracks []track.Track, sc *scene.Scene) {
	ev.Camera = p.id
	if sup, ok := p.sinks.Suppress.Match(ev); ok && suppressible(ev) {
		p.sinks.Metrics.Suppressed.WithLabelValues(p.id, ev.Rule).Inc()
		p.sinks.Log.Debug("alert suppressed", "camera", p.id, "rule", ev.Name, "suppression", sup.ID, "alert", sup.AlertID)
		return
	}
	if w := p.sinks.Snapshot; w != nil {
		if full, crop, err := w.Write(&ev, f, tracks, sc); err == nil {
			ev.Snapshot, ev.Crop = full, crop
		} else {
			p.sinks.Log.Warn("alert snapshot failed", "camera", p.id, "err", err)
		}
	}
	id, err := p.sinks.Store.AddAlert(ctx, ev)
	if err != nil {
		p.sinks.Log.Error("storing alert failed", "camera", p.id, "rule", ev.Name, "err", err)
		return
	}
	p.sinks.Metrics.Alerts.WithLabelValues(p.id, ev.Rule).Inc()
	if p.clips != nil && strings.HasSuffix(ev.Snapshot, ".jpg") {
		// The API finds a clip next to its snapshot, same name, .mp4.
		p.clips.StartAt(context.WithoutCancel(ctx), p.id, strings.TrimSuffix(ev.Snapshot, ".jpg")+".mp4", f.PTS, p.ring)
	}
	p.sinks.Log.Info("alert", "id", id, "camera", p.id, "rule", ev.Name, "explanation", ev.Explanation)
	a, err := p.sinks.Store.GetAlert(ctx, id)
	if err != nil {
		return
	}
	p.sinks.Broker.Publish(Message{Type: "alert", Data: a})
	if !f.Received.IsZero() {
		p.sinks.Metrics.AlertLatency.WithLabelValues(p.id).Observe(time.Since(f.Received).Seconds())
	}
}
