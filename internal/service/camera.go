package service

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-cctv/vigil/internal/analysis"
	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/deliver"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/media"
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
	pool  *Pool
	sinks Sinks
	// lossless makes the camera wait for the detector instead of
	// dropping frames: a recorded file played once, analysed in full.
	lossless bool

	mu    sync.Mutex // the chain is used by the camera and by API calls
	chain *analysis.Chain

	detected atomic.Int64
	dropped  atomic.Int64
	live     atomic.Pointer[liveFrame]
	tensors  chan []float32
	results  chan Result
	ring     *media.Ring    // recent frames, the pre-roll of clips
	clips    *media.Clipper // nil without snapshots
	lastPTS  time.Duration  // of the last analysed frame

	counts     []store.Count // line counts not yet stored
	countsFrom time.Duration
}

const inFlight = 3 // tensors per camera: one preparing, one queued, one inferring

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
	select {
	case p.tensors <- j.Tensor:
	default:
	}
}

// feed prepares and submits frames until the channel closes. A live
// camera drops the frame when every tensor is in flight (the detector is
// behind); a lossless one waits.
func (p *processor) feed(ctx context.Context, frames <-chan *decode.Frame) {
	for f := range frames {
		p.sinks.Metrics.Frames.WithLabelValues(p.id, "in").Inc()
		t, ok := p.tensor(ctx)
		if !ok {
			p.dropped.Add(1)
			p.sinks.Metrics.Frames.WithLabelValues(p.id, "dropped").Inc()
			continue
		}
		if err := p.model.Prepare(t, f); err != nil {
			p.tensors <- t
			p.sinks.Log.Warn("frame rejected", "camera", p.id, "err", err)
			continue
		}
		p.pool.Submit(p.id, Job{Frame: f, Tensor: t, Done: p.results, Keep: p.lossless})
		p.sinks.Metrics.QueueDepth.WithLabelValues(p.id).Set(float64(p.pool.Depth(p.id)))
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
	var out analysis.Output
	var sc *scene.Scene
	p.withChain(func(c *analysis.Chain) { out, sc = c.Step(f, r.Detections), c.Scene() })
	if out.Stale {
		return // out-of-order frame after a restart; the chain needs rising time
	}
	p.lastPTS = f.PTS
	if p.clips != nil {
		p.ring.Add(f)
		p.clips.Add(p.id, f)
	}
	p.live.Store(&liveFrame{frame: f, tracks: out.Tracks, scene: sc})
	p.deliver(ctx, out, sc)
	if f.PTS-p.countsFrom >= countsEvery {
		p.flushCounts(ctx)
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
	if p.clips != nil && files.Clip != "" {
		p.clips.StartAt(context.WithoutCancel(ctx), p.id, files.Clip, out.Frame.PTS, p.ring)
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
