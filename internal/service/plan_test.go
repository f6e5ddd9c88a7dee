package service

import (
	"bytes"
	"context"
	"image"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/analysis"
	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/detplan"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/ingest"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
	"github.com/vigil-cctv/vigil/internal/track"
)

// strollerAt is a person walking 2 px a frame across a 640×480 view.
func strollerAt(i int) geom.Box { return geom.Box{X: 100 + 2*float64(i), Y: 200, W: 40, H: 100} }

// strollerModel "detects" the stroller in whole frames (the frame's index
// says where it is); strollerRegions in crops, when the crop holds it,
// and records the crops it was given.
type strollerModel struct{ calls *int }

func (m strollerModel) NewInput() []float32 { return make([]float32, 1) }
func (m strollerModel) Prepare(t []float32, f *decode.Frame) error {
	t[0] = float32(f.Index)
	return nil
}
func (m strollerModel) Infer(t []float32, w, h int) ([]detect.Detection, error) {
	*m.calls++
	return []detect.Detection{{Box: strollerAt(int(t[0])), Class: detect.Person, Score: 0.9}}, nil
}

type strollerRegions struct{ crops *[]image.Rectangle }

func (m strollerRegions) NewInput() []float32 { return make([]float32, 1) }
func (m strollerRegions) PrepareRegion(t []float32, f *decode.Frame, r image.Rectangle, _ image.Point) error {
	t[0] = float32(f.Index)
	return nil
}
func (m strollerRegions) InferRegion(t []float32, r image.Rectangle, _ image.Point) ([]detect.Detection, error) {
	*m.crops = append(*m.crops, r)
	b := strollerAt(int(t[0]))
	if c := b.Center(); !image.Pt(int(c.X), int(c.Y)).In(r) {
		return nil, nil
	}
	return []detect.Detection{{Box: b, Class: detect.Person, Score: 0.9}}, nil
}

// plannedProcessor is camera "cam" at 5 fps on pool, with a detection
// plan and its own store.
func plannedProcessor(t *testing.T, pool *Pool, m *Metrics) *processor {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "vigil.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	chain, err := analysis.New(analysis.Config{Camera: "cam", Track: track.DefaultConfig(5)})
	require.NoError(t, err)
	p := newProcessor("cam", chain, pool.lanes[0].Model, pool, 5, false, Sinks{Store: st, Metrics: m, Log: slog.New(slog.DiscardHandler)})
	p.usePlan(detplan.New(detplan.Config{}), pool.Region(), 2)
	return p
}

// The camera compares each frame's thumbnail with the one its plan's last
// whole-frame pass read: a view that stays the same waits for the
// periodic pass up to 16 s; once it differs, the pass comes at 4 s.
func TestPlannedCameraDefersThePeriodicPassOnAnUnchangedView(t *testing.T) {
	full := 0
	pool := NewPool(2, Lane{Model: strollerModel{calls: &full}, Region: strollerRegions{crops: new([]image.Rectangle)}})
	p := plannedProcessor(t, pool, NewMetrics())
	gate := ingest.NewMotionGate(ingest.GateOptions{Annotate: true})
	view := bytes.Repeat([]byte{90}, 640*480*3)
	var fullAt []int
	for i := range 101 { // 20 s
		if i == 90 { // something crept into a corner
			for y := range 20 {
				copy(view[y*640*3:], bytes.Repeat([]byte{200}, 20*3))
			}
		}
		gate.Check(time.Duration(i)*200*time.Millisecond, 640, 480, view)
		f := &decode.Frame{Index: i, PTS: time.Duration(i) * 200 * time.Millisecond, Width: 640, Height: 480, Pix: view}
		if p.decide(inFrame{frame: f, global: i == 0, thumb: gate.Thumb()}).Mode == detplan.Full {
			fullAt = append(fullAt, i)
		}
	}
	require.Equal(t, []int{0, 80, 100}, fullAt)
}

// A camera with a detection plan analyses every frame: the first whole,
// then slow, explained motion carried by the tracker, with crops around
// the stroller between carried frames and a periodic whole-frame pass.
// The stroller keeps one track on every frame, carried ones included, and
// the metrics count each frame analysed and each decision.
func TestPlannedCameraTracksEveryFrame(t *testing.T) {
	ctx := context.Background()
	full, crops := 0, []image.Rectangle{}
	pool := NewPool(2, Lane{Model: strollerModel{calls: &full}, Region: strollerRegions{crops: &crops}})
	m := NewMetrics()
	p := plannedProcessor(t, pool, m)

	const n = 25 // 5 s at 5 fps
	var modes []detplan.Mode
	ids := map[int]bool{}
	for i := range n {
		f := &decode.Frame{Index: i, PTS: time.Duration(i) * 200 * time.Millisecond, Width: 640, Height: 480, Pix: []byte{0}}
		in := inFrame{frame: f, motion: []geom.Box{strollerAt(i)}, global: i == 0}
		j := Job{Frame: f, Tensor: <-p.tensors, Done: p.results, Decision: p.decide(in)}
		require.NoError(t, p.prepare(&j))
		var r Result
		r.Job = j
		if !j.Carry {
			r.Detections, r.Err = infer(pool.lanes[0], j)
			require.NoError(t, r.Err)
		}
		p.handle(ctx, r)
		lf := p.live.Load()
		require.Equal(t, f, lf.frame)
		require.Len(t, lf.tracks, 1, "frame %d (%s): the stroller is tracked", i, j.Decision.Mode)
		ids[lf.tracks[0].ID] = true
		modes = append(modes, j.Decision.Mode)
		_, err := renderLive(lf, "cam", 80, true) // the debug overlay draws
		require.NoError(t, err)
	}
	require.Len(t, ids, 1, "one id throughout")
	count := map[detplan.Mode]int{}
	for _, md := range modes {
		count[md]++
	}
	require.Equal(t, detplan.Full, modes[0])
	require.Positive(t, count[detplan.Carry], "%v", modes)
	require.Positive(t, count[detplan.Regions], "%v", modes)
	require.GreaterOrEqual(t, count[detplan.Full], 2, "a whole-frame pass at least every 4 s: %v", modes)
	require.Equal(t, count[detplan.Full], full, "the whole-frame model ran on full frames only")
	require.NotEmpty(t, crops)
	require.Equal(t, float64(n), testutil.ToFloat64(m.Frames.WithLabelValues("cam", "analysed")))
	require.Equal(t, float64(n-count[detplan.Carry]), testutil.ToFloat64(m.Frames.WithLabelValues("cam", "detected")))
	for _, md := range []detplan.Mode{detplan.Full, detplan.Regions, detplan.Carry} {
		require.Equal(t, float64(count[md]), testutil.ToFloat64(m.Decisions.WithLabelValues("cam", md.String())), md.String())
	}
	require.Equal(t, float64(len(crops)), testutil.ToFloat64(m.Regions.WithLabelValues("cam")))
	require.Equal(t, int64(n), p.analysed.Load())
}

// A carried job passes through the pool in its camera's order without
// inference; it neither counts toward the queue depth nor is dropped.
func TestPoolPassesCarriedJobsInOrder(t *testing.T) {
	calls := 0
	p := NewPool(1, Lane{Model: strollerModel{calls: &calls}})
	p.OnDrop = func(_ string, j Job) {
		require.False(t, j.Carry, "a carried job was dropped")
	}
	results := make(chan Result, 8)
	frame := func(i int) *decode.Frame { return &decode.Frame{Index: i, Width: 640, Height: 480} }
	p.Submit("cam", Job{Frame: frame(0), Tensor: []float32{0}, Done: results})
	p.Submit("cam", Job{Frame: frame(1), Done: results, Carry: true})
	p.Submit("cam", Job{Frame: frame(2), Done: results, Carry: true})
	p.Submit("cam", Job{Frame: frame(3), Tensor: []float32{3}, Done: results}) // drops frame 0
	require.Equal(t, 1, p.Depth("cam"), "frames 1 and 2, carried, went on once frame 0 was dropped ahead of them")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	var got []int
	for range 3 {
		r := <-results
		got = append(got, r.Job.Frame.Index)
		require.Equal(t, r.Job.Carry, r.Detections == nil)
	}
	cancel()
	<-done
	require.Equal(t, []int{1, 2, 3}, got)
	require.Equal(t, 1, calls)
	_, _, measured := p.Costs()
	require.True(t, measured, "the inference timed is the box's measured cost")
}

// A track whose foot point nears a rule's line within half its height,
// or two frames of its motion, is near the rule (detected, not carried).
func TestNearRuleFromTheFootPoint(t *testing.T) {
	sc, err := scene.Load(filepath.Join(lineCrossing, "scene.yaml")) // the gate: x = 500, y 100–700
	require.NoError(t, err)
	box := geom.Box{X: 400, Y: 300, W: 40, H: 100} // foot (420, 400): 80 px from the gate
	require.False(t, nearRule(sc, track.Motion{Box: box}))
	require.True(t, nearRule(sc, track.Motion{Box: box, VX: 45}), "two frames at 45 px cover the 80 px")
	box.X = 440 // foot 40 px from the gate, within half the height
	require.True(t, nearRule(sc, track.Motion{Box: box}))
	require.False(t, nearRule(nil, track.Motion{Box: box}), "no scene, no rule")
}
