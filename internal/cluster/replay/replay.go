// Package replay is a stand-in worker for the cluster's process-level
// tests and its scale benchmark: for every camera assigned to it, it
// publishes recorded events (and, when asked, synthetic track summaries,
// counter batches and baseline snapshots) at a fixed rate, and keeps its
// position in the handover store so that the camera's next owner resumes
// where it stopped. It stands in for the analysis chain on the messaging
// path only: no video is decoded and nothing is detected.
package replay

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/vigil-cctv/vigil/internal/cluster"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/store"
)

// Config is what each camera replays.
type Config struct {
	// Events are replayed in order and looped; loop n shifts start times
	// by n×LoopShift seconds and track ids by n×1000, so every event of
	// every loop has its own key.
	Events []event.Event `json:"events"`
	// PerCamera stops a camera after this many events (0: never).
	PerCamera int `json:"per_camera"`
	// Every is the replay's tick: every period below is rounded to
	// whole ticks. EventEvery is the time between a camera's events
	// (default Every).
	Every      time.Duration `json:"every"`
	EventEvery time.Duration `json:"event_every"`
	// TracksEvery, CountsEvery and BaselineEvery add synthetic track
	// summaries, counter batches and baseline snapshots of BaselineBytes
	// (0: none of that kind).
	TracksEvery   time.Duration `json:"tracks_every"`
	CountsEvery   time.Duration `json:"counts_every"`
	BaselineEvery time.Duration `json:"baseline_every"`
	BaselineBytes int           `json:"baseline_bytes"`
	// SaveEvery is how often the position is saved to the handover store
	// (default: after every event).
	SaveEvery time.Duration `json:"save_every"`
}

// LoopShift is how far each loop of the recording moves in frame time.
const LoopShift = 100000.0

// Worker runs the replay of every camera leased to it.
type Worker struct {
	c   *cluster.Cluster
	cfg Config
	mu  sync.Mutex
	run map[string]*camera
}

type camera struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns a replay worker publishing through c.
func New(c *cluster.Cluster, cfg Config) *Worker {
	return &Worker{c: c, cfg: cfg, run: map[string]*camera{}}
}

// Callbacks are the worker hooks to give cluster.Start or RunWorker.
func (w *Worker) Callbacks() cluster.WorkerCallbacks {
	return cluster.WorkerCallbacks{OnAssign: w.assign, OnRevoke: w.revoke}
}

func (w *Worker) assign(l cluster.Lease) {
	ctx, cancel := context.WithCancel(context.Background())
	cam := &camera{cancel: cancel, done: make(chan struct{})}
	w.mu.Lock()
	w.run[l.Camera] = cam
	w.mu.Unlock()
	go func() {
		defer close(cam.done)
		if err := w.replay(ctx, l); err != nil && ctx.Err() == nil {
			fmt.Fprintf(os.Stderr, "replay %s: %v\n", l.Camera, err)
		}
	}()
}

// revoke stops the camera and returns once it no longer publishes.
func (w *Worker) revoke(l cluster.Lease) {
	w.mu.Lock()
	cam := w.run[l.Camera]
	delete(w.run, l.Camera)
	w.mu.Unlock()
	if cam != nil {
		cam.cancel()
		<-cam.done
	}
}

// Event is the i-th event a camera publishes.
func (cfg Config) Event(camera string, i int) event.Event {
	base := cfg.Events[i%len(cfg.Events)]
	loop := i / len(cfg.Events)
	e := base
	e.Camera = camera
	e.Start = base.Start + float64(loop)*LoopShift
	e.End = base.End + float64(loop)*LoopShift
	e.Tracks = nil
	for _, t := range base.Tracks {
		e.Tracks = append(e.Tracks, t+1000*loop)
	}
	return e
}

// Key is the record key of a camera's i-th event.
func (cfg Config) Key(camera string, i int) string {
	e := cfg.Event(camera, i)
	track := -1
	if len(e.Tracks) > 0 {
		track = e.Tracks[0]
	}
	return cluster.EventKey(camera, e.Rule, e.Name, track, e.Start)
}

func (w *Worker) replay(ctx context.Context, l cluster.Lease) error {
	ho := w.c.Handover()
	next := 0
	// A camera whose state cannot be read (the store is slow or down)
	// starts from its beginning: what it publishes again is dropped by
	// key, nothing is skipped.
	st, _, err := ho.Load(ctx, l.Camera)
	switch {
	case err == nil:
		next, _ = strconv.Atoi(string(st.Motion))
	case !errors.Is(err, cluster.ErrNotFound):
		fmt.Fprintf(os.Stderr, "replay %s: starting from the beginning: %v\n", l.Camera, err)
	}
	pub := w.c.Publisher()
	extra := newExtras(w.cfg, l.Camera)
	ev := max(1, extra.per(w.cfg.EventEvery))
	evPhase := extra.phase % ev
	// Cameras are not in step: each starts at its own point of the tick.
	select {
	case <-ctx.Done():
		return nil
	case <-time.After(time.Duration(extra.phase%1000) * w.cfg.Every / 1000):
	}
	tick := time.NewTicker(w.cfg.Every)
	defer tick.Stop()
	var seq uint64
	for i := next; w.cfg.PerCamera == 0 || (i+evPhase)/ev < w.cfg.PerCamera; i++ { // i counts ticks
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if (i+evPhase)%ev == 0 {
			if err := pub.Event(ctx, l, w.cfg.Event(l.Camera, (i+evPhase)/ev)); err != nil {
				return err
			}
		}
		if err := extra.publish(ctx, pub, l, i, &seq); err != nil {
			return err
		}
		// The position is saved after the publishes: a crash in between
		// makes the next owner publish tick i again, which the stream or
		// the store drops by its keys (counter batches aside: their key
		// is the owner's, so a replayed batch counts again).
		if extra.due(i, extra.saves) || extra.saves == 0 && (i+evPhase)%ev == 0 {
			if err := ho.Save(ctx, l, cluster.HandoverState{Motion: []byte(strconv.Itoa(i + 1))}); err != nil {
				return err
			}
		}
	}
	<-ctx.Done()
	return nil
}

// extras publishes the synthetic tracks, counts and baselines due at
// event i (their periods are rounded to whole events).
type extras struct {
	cfg                   Config
	tracks, counts, bases int
	saves                 int
	phase                 int // the camera's own offset, so cameras are not in step
	baseline              []byte
}

func newExtras(cfg Config, camera string) *extras {
	h := fnv.New32a()
	h.Write([]byte(camera))
	x := &extras{cfg: cfg, baseline: make([]byte, cfg.BaselineBytes), phase: int(h.Sum32() % 1_000_000)}
	x.tracks, x.counts, x.bases = x.per(cfg.TracksEvery), x.per(cfg.CountsEvery), x.per(cfg.BaselineEvery)
	x.saves = x.per(cfg.SaveEvery)
	return x
}

// due reports whether something every per ticks falls on tick i.
func (x *extras) due(i, per int) bool { return per > 0 && (i+x.phase)%per == 0 }

// per is period d in ticks (0 for none; at least 1 otherwise).
func (x *extras) per(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return max(1, int(d/x.cfg.Every))
}

func (x *extras) publish(ctx context.Context, pub *cluster.Publisher, l cluster.Lease, i int, seq *uint64) error {
	at := time.Unix(1_700_000_000, 0).Add(time.Duration(i) * x.cfg.Every)
	if x.due(i, x.tracks) {
		t := store.TrackSummary{Camera: l.Camera, TrackID: i, Class: "car", Start: at, End: at.Add(4 * time.Second),
			Path: []event.PathPoint{{PTS: 1, Image: [2]float64{10, 20}}, {PTS: 5, Image: [2]float64{300, 40}}}}
		if err := pub.Track(ctx, l, t); err != nil {
			return err
		}
	}
	if x.due(i, x.counts) {
		*seq++
		cs := []store.Count{{Camera: l.Camera, Name: "line-1", Class: "car", Direction: "in", Bucket: at.Truncate(time.Minute), N: 3}}
		if err := pub.Counts(ctx, l, *seq, cs); err != nil {
			return err
		}
	}
	if x.due(i, x.bases) {
		*seq++
		if err := pub.Baseline(ctx, l, *seq, x.baseline); err != nil {
			return err
		}
	}
	return nil
}

// LoadEvents reads recorded events, one JSON object a line (the output of
// `vigil analyze --events` or a scenario's expected.jsonl).
func LoadEvents(paths ...string) ([]event.Event, error) {
	var out []event.Event
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for n := 1; sc.Scan(); n++ {
			var e event.Event
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				f.Close()
				return nil, fmt.Errorf("%s:%d: %w", p, n, err)
			}
			out = append(out, e)
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	return out, nil
}
