package service

import (
	"context"
	"image"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
)

// slowModel takes a fixed time per inference, like a real detector.
type slowModel struct{ d time.Duration }

func (m slowModel) NewInput() []float32                        { return make([]float32, 1) }
func (m slowModel) Prepare(t []float32, f *decode.Frame) error { return nil }
func (m slowModel) Infer(t []float32, w, h int) ([]detect.Detection, error) {
	time.Sleep(m.d)
	return nil, nil
}

// gatedModel runs one inference at a time when the test says so: each
// Infer reports its frame (by the width the test stamped on it) and
// waits for a release, so the order is the pool's, not the machine's.
type gatedModel struct {
	started chan int
	release chan struct{}
}

func (m gatedModel) NewInput() []float32                        { return make([]float32, 1) }
func (m gatedModel) Prepare(t []float32, f *decode.Frame) error { return nil }
func (m gatedModel) Infer(t []float32, w, h int) ([]detect.Detection, error) {
	m.started <- w
	<-m.release
	return nil, nil
}

// TestPoolIsFair: a camera flooding the pool cannot starve a quiet one —
// jobs are taken round-robin — and the flooder loses its own oldest
// frames instead of delaying anyone.
func TestPoolIsFair(t *testing.T) {
	m := gatedModel{started: make(chan int), release: make(chan struct{})}
	p := NewPool(2, Lane{Model: m})
	dropped := map[string][]int{}
	var mu sync.Mutex
	p.OnDrop = func(cam string, j Job) {
		mu.Lock()
		defer mu.Unlock()
		dropped[cam] = append(dropped[cam], j.Frame.Width)
	}
	results := make(chan Result, 16)
	submit := func(cam string, frame int, keep bool) {
		p.Submit(cam, Job{Frame: &decode.Frame{Width: frame}, Done: results, Keep: keep})
	}
	for i := 1; i <= 10; i++ {
		submit("busy", i, false)
	}
	submit("quiet", 100, false)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	defer func() { cancel(); <-done }()

	var order []int
	next := func() {
		order = append(order, <-m.started)
		m.release <- struct{}{}
	}
	next() // busy's oldest kept frame
	for i := 11; i <= 20; i++ {
		submit("busy", i, false) // while the detector is busy
	}
	next()
	next()
	require.Equal(t, []int{9, 100, 19}, order, "the quiet camera's frame goes second, and busy keeps its newest")
	mu.Lock()
	require.Equal(t, []int{1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18}, dropped["busy"])
	require.Empty(t, dropped["quiet"])
	mu.Unlock()
	next() // busy 20
	for range 4 {
		<-results
	}
}

// frameGates is a model whose inferences finish when the test says, per
// frame: each Infer reports its frame (the width the test stamped on it)
// and waits for that frame's release.
type frameGates struct {
	started chan int
	release map[int]chan struct{}
}

func newFrameGates(frames ...int) frameGates {
	g := frameGates{started: make(chan int), release: map[int]chan struct{}{}}
	for _, f := range frames {
		g.release[f] = make(chan struct{})
	}
	return g
}

func (m frameGates) NewInput() []float32                        { return make([]float32, 1) }
func (m frameGates) Prepare(t []float32, f *decode.Frame) error { return nil }
func (m frameGates) Infer(t []float32, w, h int) ([]detect.Detection, error) {
	m.started <- w
	<-m.release[w]
	return nil, nil
}

// TestPoolPrefersCamerasWithNoJobInALane: a free lane takes a job of a
// camera with nothing in a lane first (round-robin), and a second job of
// a camera already in a lane only when no one else waits: a lane never
// idles beside a queue, and no camera holds more lanes than there are.
func TestPoolPrefersCamerasWithNoJobInALane(t *testing.T) {
	lane := Lane{Model: slowModel{}}
	p := NewPool(4, lane, lane)
	require.Equal(t, 2, p.Lanes())
	for _, j := range []struct {
		cam   string
		frame int
	}{{"a", 1}, {"a", 2}, {"a", 3}, {"b", 10}} {
		p.Submit(j.cam, Job{Frame: &decode.Frame{Width: j.frame}})
	}
	var got []int
	for {
		_, r, ok := p.take()
		if !ok {
			break
		}
		got = append(got, r.Job.Frame.Width)
	}
	require.Equal(t, []int{1, 10, 2}, got, "b's frame before a's second; a's third waits: a holds both lanes")
}

// TestPoolLanesInferInParallel: two lanes infer at once, a camera's two
// frames too when no other camera waits, and its results come back in
// its frames' order even when the second finishes first.
func TestPoolLanesInferInParallel(t *testing.T) {
	m := newFrameGates(1, 2, 10)
	p := NewPool(4, Lane{Model: m}, Lane{Model: m})
	results := make(chan Result, 4)
	p.Submit("a", Job{Frame: &decode.Frame{Width: 1}, Done: results})
	p.Submit("a", Job{Frame: &decode.Frame{Width: 2}, Done: results})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	defer func() { cancel(); <-done }()

	require.ElementsMatch(t, []int{1, 2}, []int{<-m.started, <-m.started}, "both lanes busy with a's frames")
	close(m.release[2])
	p.Submit("b", Job{Frame: &decode.Frame{Width: 10}, Done: results})
	require.Equal(t, 10, <-m.started, "the lane a's second frame left takes b's")
	close(m.release[10])
	require.Equal(t, 10, (<-results).Job.Frame.Width)
	select {
	case r := <-results:
		t.Fatalf("frame %d handed on before a's first", r.Job.Frame.Width)
	default:
	}
	close(m.release[1])
	require.Equal(t, 1, (<-results).Job.Frame.Width)
	require.Equal(t, 2, (<-results).Job.Frame.Width)
}

// A carried job needs no inference: with nothing of its camera ahead of
// it, it is handed on as it is submitted, even while every lane is busy
// with another camera's frame; behind its camera's frame in a lane it
// waits for that frame, and follows it.
func TestPoolHandsOnCarriedJobsWithoutALane(t *testing.T) {
	m := newFrameGates(1)
	p := NewPool(4, Lane{Model: m})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	defer func() { cancel(); <-done }()
	a, b := make(chan Result, 4), make(chan Result, 4)

	p.Submit("a", Job{Frame: &decode.Frame{Width: 1}, Done: a})
	require.Equal(t, 1, <-m.started, "a's frame holds the only lane")
	p.Submit("b", Job{Frame: &decode.Frame{Width: 20}, Done: b, Carry: true})
	p.Submit("b", Job{Frame: &decode.Frame{Width: 21}, Done: b, Carry: true})
	require.Len(t, b, 2, "b's carried frames did not wait for the lane")
	require.Equal(t, 20, (<-b).Job.Frame.Width)
	require.Equal(t, 21, (<-b).Job.Frame.Width)
	require.Zero(t, p.Depth("b"))

	p.Submit("a", Job{Frame: &decode.Frame{Width: 3}, Done: a, Carry: true})
	require.Empty(t, a, "a's carried frame waits for a's frame in the lane")
	close(m.release[1])
	require.Equal(t, 1, (<-a).Job.Frame.Width)
	require.Equal(t, 3, (<-a).Job.Frame.Width)
}

// A job to be kept (a file analysed in full) is never dropped: the
// camera's own tensor budget bounds its queue instead.
func TestPoolKeepsKeptJobs(t *testing.T) {
	p := NewPool(1, Lane{Model: slowModel{}})
	p.OnDrop = func(string, Job) { t.Error("a kept job was dropped") }
	results := make(chan Result, 8)
	for i := range 5 {
		p.Submit("file", Job{Frame: &decode.Frame{Width: i}, Done: results, Keep: true})
	}
	require.Equal(t, 5, p.Depth("file"))
}

func TestPoolForgetDropsPending(t *testing.T) {
	p := NewPool(3, Lane{Model: slowModel{}})
	n := 0
	p.OnDrop = func(string, Job) { n++ }
	done := make(chan Result, 4)
	for i := 0; i < 3; i++ {
		p.Submit("a", Job{Frame: &decode.Frame{}, Done: done})
	}
	require.Equal(t, 3, p.Depth("a"))
	p.Forget("a")
	require.Equal(t, 3, n)
	require.Equal(t, 0, p.Depth("a"))
}

// sizedRegions is a crop model with a square input that sleeps per crop
// and records the crops it saw.
type sizedRegions struct {
	side  int
	d     time.Duration
	crops *[]image.Rectangle
}

func (m sizedRegions) NewInput() []float32   { return make([]float32, 1) }
func (m sizedRegions) InputSize() (int, int) { return m.side, m.side }
func (m sizedRegions) PrepareRegion([]float32, *decode.Frame, image.Rectangle, image.Point) error {
	return nil
}
func (m sizedRegions) InferRegion(_ []float32, r image.Rectangle, _ image.Point) ([]detect.Detection, error) {
	*m.crops = append(*m.crops, r)
	time.Sleep(m.d)
	return nil, nil
}

// TestCalibrateMeasuresBeforeAnyCamera: a worker that runs no camera yet
// knows its costs from timed inferences of both kinds (the warm-up left
// out), so its first heartbeat can carry a capacity.
func TestCalibrateMeasuresBeforeAnyCamera(t *testing.T) {
	var crops []image.Rectangle
	p := NewPool(2, Lane{Model: slowModel{d: 3 * time.Millisecond}, Region: sizedRegions{side: 320, d: time.Millisecond, crops: &crops}})
	_, _, ok := p.Costs()
	require.False(t, ok, "nothing measured before calibration")
	require.NoError(t, p.Calibrate(4, 1280, 720))
	full, crop, ok := p.Costs()
	require.True(t, ok)
	require.GreaterOrEqual(t, full, 3*time.Millisecond, "a whole frame costs at least the model's sleep")
	require.GreaterOrEqual(t, crop, time.Millisecond)
	require.Len(t, crops, 5, "one warm-up and four timed crops")
	require.Equal(t, image.Rect(0, 0, 320, 320), crops[0])
	require.Equal(t, int64(4), p.cost.fullN, "the warm-up is not counted")

	// A frame smaller than the crop model's input has no crop to time.
	crops = nil
	q := NewPool(2, Lane{Model: slowModel{}, Region: sizedRegions{side: 320, crops: &crops}})
	require.NoError(t, q.Calibrate(2, 300, 200))
	require.Empty(t, crops)
}

// A job with its own model (a replay camera's recorded detections) is
// inferred with it, and only the pool's model counts toward the measured
// inference cost.
func TestPoolJobModel(t *testing.T) {
	rec, err := NewRecordedModel(lineCrossing + "/tracks.txt")
	require.NoError(t, err)
	p := NewPool(2, Lane{Model: slowModel{d: time.Millisecond}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx)
	done := make(chan Result, 2)
	tensor := rec.NewInput()
	frame := &decode.Frame{Index: 40, Width: 1000, Height: 800}
	require.NoError(t, rec.Prepare(tensor, frame))
	p.Submit("replay", Job{Frame: frame, Tensor: tensor, Model: rec, Done: done, Keep: true})
	r := <-done
	require.NoError(t, r.Err)
	require.NotEmpty(t, r.Detections, "the recorded detections of frame 41")
	_, _, ok := p.Costs()
	require.False(t, ok, "a replay job costs the model nothing")

	p.Submit("live", Job{Frame: &decode.Frame{}, Tensor: make([]float32, 1), Done: done})
	r = <-done
	require.NoError(t, r.Err)
	full, _, ok := p.Costs()
	require.True(t, ok)
	require.Positive(t, full)
}
