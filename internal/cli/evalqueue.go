package cli

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/vigil-cctv/vigil/internal/analysis"
	"github.com/vigil-cctv/vigil/internal/baseline"
	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/incident"
	"github.com/vigil-cctv/vigil/internal/motion"
	"github.com/vigil-cctv/vigil/internal/output"
	"github.com/vigil-cctv/vigil/internal/pipeline"
	"github.com/vigil-cctv/vigil/internal/protocol"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
	"github.com/vigil-cctv/vigil/internal/track"
)

type evalQueueCmd struct {
	Config string  `required:"" help:"Service configuration whose file cameras, scenes, anomaly settings and alert protocols are replayed." type:"existingfile"`
	Hours  float64 `help:"Loop each camera's footage for this many hours of stream time." default:"1"`
	JSON   bool    `name:"json" help:"Print the report as JSON."`
}

// queueCamera is what an hour of one camera gave the operator queue.
type queueCamera struct {
	Camera       string         `json:"camera"`
	Hours        float64        `json:"hours"`
	Events       int            `json:"events"`
	QueueItems   int            `json:"queue_items"`
	QueuePerHour float64        `json:"queue_per_hour"`
	ByRule       map[string]int `json:"events_by_rule"`
	QueuedByRule map[string]int `json:"queue_items_by_rule"`
}

type queueReport struct {
	Cameras []queueCamera `json:"cameras"`
}

// queueEpoch is the replay's camera clock: a Monday morning, so rules and
// protocols with schedules see an ordinary working day.
var queueEpoch = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

// Run replays each file camera of the config as vigil serve would see it,
// at full speed on frame time: its footage is detected and tracked once,
// then looped through the camera's analysis chain (scene rules, learned
// baseline, motion cue) for the hours asked, and every event goes through
// the incident engine with the config's alert protocols. Every event is
// stored; only what a protocol queues is a queue item.
func (c *evalQueueCmd) Run(e *env) error {
	cfg, err := config.Load(c.Config)
	if err != nil {
		return fmt.Errorf("%s is not valid:\n%w", c.Config, err)
	}
	model, err := openServeModel(cfg.Detector)
	if err != nil {
		return err
	}
	defer model.Close()
	var rep queueReport
	for _, cam := range cfg.Cameras {
		if cam.Disabled || strings.Contains(cam.URL, "://") { // streams have no footage to loop
			continue
		}
		row, err := c.camera(e, cfg, cam, model)
		if err != nil {
			return fmt.Errorf("camera %s: %w", cam.ID, err)
		}
		rep.Cameras = append(rep.Cameras, row)
	}
	if c.JSON {
		return printJSON(e.stdout, rep)
	}
	for _, r := range rep.Cameras {
		fmt.Fprintf(e.stdout, "%-10s %.2f h: %d events, %d queue items = %.1f per camera-hour; events %v, queued %v\n",
			r.Camera, r.Hours, r.Events, r.QueueItems, r.QueuePerHour, r.ByRule, r.QueuedByRule)
	}
	return nil
}

func (c *evalQueueCmd) camera(e *env, cfg *config.Config, cam config.Camera, model pipeline.Model) (queueCamera, error) {
	recs, fps, err := trackFootage(e, cam, model)
	if err != nil {
		return queueCamera{}, err
	}
	eng, closeStore, err := queueEngine(e.ctx, cfg)
	if err != nil {
		return queueCamera{}, err
	}
	defer closeStore()
	chainCfg, err := serveChain(cfg, cam, fps)
	if err != nil {
		return queueCamera{}, err
	}
	rp, err := newReplayer(chainCfg, nil)
	if err != nil {
		return queueCamera{}, err
	}
	row := queueCamera{Camera: cam.ID, ByRule: map[string]int{}, QueuedByRule: map[string]int{}}
	span := time.Duration(float64(len(recs)) / fps * float64(time.Second))
	loops := int(math.Ceil(c.Hours * float64(time.Hour) / float64(span)))
	q := &queueRun{e: e, eng: eng, row: &row}
	for range loops {
		if err := c.loop(e, rp, cam, recs, q); err != nil {
			return row, err
		}
		rp.offset += span
		rp.idBase += 1 << 20
	}
	if err := q.take(rp.chain.Close()); err != nil {
		return row, err
	}
	row.Hours = rp.offset.Hours()
	row.QueuePerHour = float64(row.QueueItems) / row.Hours
	return row, nil
}

// loop replays the recording once more; with the motion cue on, the
// footage is decoded again for its pixels.
func (c *evalQueueCmd) loop(e *env, rp *replayer, cam config.Camera, recs []output.Record, q *queueRun) error {
	timeline := rp.addLoop(recs, recs[0].PTS, map[int]bool{})
	if rp.chainNeedsPixels {
		_, err := replayPixels(e, cam.URL, decode.Options{FPS: cam.FPS, ImageFPS: cam.ImageFPS}, timeline,
			func(f *decode.Frame) error { return q.take(rp.chain.Step(f, nil)) })
		return err
	}
	for _, f := range timeline {
		if err := q.take(rp.chain.Step(f, nil)); err != nil {
			return err
		}
	}
	return nil
}

// queueRun hands a replay's events to the incident engine on the camera
// clock, ticking it every few seconds of that clock.
type queueRun struct {
	e        *env
	eng      *incident.Engine
	row      *queueCamera
	lastTick time.Time
}

func (q *queueRun) take(out analysis.Output) error {
	for _, ev := range out.Events {
		res, err := q.eng.Handle(q.e.ctx, ev, ev.At)
		if err != nil {
			return err
		}
		q.row.Events++
		q.row.ByRule[ev.Rule]++
		if res.Opened {
			q.row.QueueItems++
			q.row.QueuedByRule[ev.Rule]++
		}
	}
	if out.At.Sub(q.lastTick) >= 5*time.Second {
		q.lastTick = out.At
		return q.eng.Tick(q.e.ctx, out.At)
	}
	return nil
}

// queueEngine is an incident engine over a private in-memory store with
// the config's alert protocols.
func queueEngine(ctx context.Context, cfg *config.Config) (*incident.Engine, func(), error) {
	var set *protocol.Set
	var yaml string
	known := func(n string) bool { return slices.Contains(cfg.Incidents.DestinationNames(), n) }
	if p := cfg.Incidents.Protocols; p != "" {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, err
		}
		if set, err = protocol.Parse(data, p, protocol.Options{Destination: known}); err != nil {
			return nil, nil, fmt.Errorf("%s is not valid:\n%w", p, err)
		}
		yaml = string(data)
	}
	st, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		return nil, nil, err
	}
	return incident.NewEngine(st, set, yaml, incident.Options{Destination: known}), func() { st.Close() }, nil
}

// serveChain is the chain vigil serve would give the camera, on the
// replay's clock, with the recorded tracks filled in by the replayer.
func serveChain(cfg *config.Config, cam config.Camera, fps float64) (analysis.Config, error) {
	classes, err := detect.ParseClassSet(cam.Classes)
	if err != nil {
		return analysis.Config{}, err
	}
	out := analysis.Config{Camera: cam.ID, Classes: classes, Track: track.DefaultConfig(fps), Epoch: queueEpoch}
	if t := cam.Epoch(); !t.IsZero() {
		out.Epoch = t
	}
	if cam.Scene != "" {
		if out.Scene, err = scene.Load(cam.Scene); err != nil {
			return out, err
		}
	}
	if a := cfg.Anomaly; !a.Disabled {
		out.Baseline = &baseline.Config{Warmup: time.Duration(a.Warmup), HalfLife: time.Duration(a.HalfLife), BudgetPerHour: a.BudgetPerHour}
		if !a.MotionDisabled {
			out.Motion = &motion.ModelOptions{Warmup: time.Duration(a.Warmup)}
		}
	}
	return out, nil
}

// trackFootage detects and tracks a camera's footage once, at the
// camera's rate, as serve's detector would.
func trackFootage(e *env, cam config.Camera, model pipeline.Model) ([]output.Record, float64, error) {
	src, err := decode.Open(e.ctx, cam.URL, decode.Options{FPS: cam.FPS, ImageFPS: cam.ImageFPS})
	if err != nil {
		return nil, 0, err
	}
	fps := src.Info.FPS
	if cam.FPS > 0 && cam.FPS < fps {
		fps = cam.FPS
	}
	classes, err := detect.ParseClassSet(cam.Classes)
	if err != nil {
		return nil, 0, err
	}
	chain, err := analysis.New(analysis.Config{Classes: classes, Track: track.DefaultConfig(fps)})
	if err != nil {
		return nil, 0, err
	}
	rec := &recordSink{}
	p := pipeline.New(src, pipeline.NewModelDetector(model, 4), chain, []pipeline.Sink{rec})
	if err := p.Run(e.ctx); err != nil {
		return nil, 0, fmt.Errorf("tracking %s: %w", cam.URL, err)
	}
	if len(rec.recs) < 2 {
		return nil, 0, fmt.Errorf("%s has fewer than two frames", cam.URL)
	}
	return rec.recs, fps, nil
}

// recordSink keeps each frame's tracks in memory.
type recordSink struct{ recs []output.Record }

func (r *recordSink) Write(res *pipeline.Result) error {
	rec := output.NewRecord(res)
	rec.Detections = nil
	r.recs = append(r.recs, rec)
	return nil
}

func (r *recordSink) Close() error { return nil }

// replayPixels decodes footage again and hands each frame, stamped with
// the timeline's index and time, to fn; it returns how many frames the
// footage had.
func replayPixels(e *env, input string, opt decode.Options, timeline []*decode.Frame, fn func(*decode.Frame) error) (int, error) {
	src, err := decode.Open(e.ctx, input, opt)
	if err != nil {
		return 0, err
	}
	frames, err := src.Start(e.ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	var ferr error
	for f := range frames {
		if n < len(timeline) && ferr == nil {
			f.Index, f.PTS = timeline[n].Index, timeline[n].PTS
			ferr = fn(f)
		}
		n++
	}
	if err := src.Wait(); err != nil {
		return n, fmt.Errorf("replaying %s: %w", input, err)
	}
	return n, ferr
}
