package service

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"sync"
	"time"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/detplan"
	"github.com/vigil-cctv/vigil/internal/pipeline"
)

// Model is the detector the pool shares (prepared and inferred in separate
// steps); *onnx.Detector satisfies it.
type Model = pipeline.Model

// RegionModel detects in crops of a frame (region detection, package
// detplan): *onnx.Detector made with a small square input satisfies it.
type RegionModel interface {
	NewInput() []float32
	// PrepareRegion fills tensor from the r part of f at model input in
	// (detplan.Region.Input; zero: the model's own).
	PrepareRegion(tensor []float32, f *decode.Frame, r image.Rectangle, in image.Point) error
	InferRegion(tensor []float32, r image.Rectangle, in image.Point) ([]detect.Detection, error)
}

// Crop is one prepared region of a frame.
type Crop struct {
	detplan.Region
	Tensor []float32
}

// Job is one prepared frame waiting for inference.
type Job struct {
	Frame *decode.Frame
	// Tensor is the whole frame prepared for the model; unused when Crops
	// are set or the frame is carried.
	Tensor []float32
	// Crops, when set, are detected with the pool's region model instead
	// of the whole frame, and their detections merged.
	Crops []Crop
	// Carry passes the frame through without inference, in its camera's
	// order: the tracker carries it. A carried job is never dropped and
	// does not count toward the camera's queue depth; with nothing of its
	// camera ahead of it, it is handed on without waiting for a lane.
	Carry bool
	// Decision is the detection plan's, kept for metrics and the overlay.
	Decision detplan.Decision
	// Done receives the result; it must have room (the camera sizes it).
	Done chan<- Result
	// Model, when set, infers this job instead of the pool's model (a
	// replay camera's recorded detections).
	Model Model
	// Keep exempts the job from drop-oldest: the camera analyses every
	// frame (a recorded file), and its own tensor budget bounds the queue.
	Keep bool
}

// Result is a job's outcome.
type Result struct {
	Job        Job
	Detections []detect.Detection
	Err        error
	Latency    time.Duration // submit to result
	submitted  time.Time
	fl         *flight // the camera's, set when taken
	seq        uint64  // order among the camera's jobs taken
}

// Lane is one inference session pair (a whole-frame model and its region
// model, nil for none), used by one goroutine of the pool at a time.
type Lane struct {
	Model  Model
	Region RegionModel
}

// Pool runs the detector for many cameras. Each camera has a queue of at
// most Depth jobs; when it is full the oldest job is dropped (counted), so
// a busy camera loses its own stale frames instead of delaying others.
// Jobs are taken round-robin across cameras with work: fair scheduling,
// whatever each camera's frame rate. Each lane infers in its own goroutine,
// in parallel. A lane takes a job of a camera that already has one in a
// lane only when no other camera has work, so that a lane never idles
// beside a queue (a crowded view's crops outlast a quiet view's frames);
// a camera's results are handed on in its frames' order whichever lane
// finishes first.
type Pool struct {
	lanes []Lane
	depth int

	mu     sync.Mutex
	queues map[string]*queue
	order  []string // round-robin order of cameras
	next   int
	flight map[string]*flight // cameras' jobs in lanes
	wake   chan struct{}

	// OnDrop is called (without the lock) for every dropped job, e.g. to
	// count it and recycle its tensor.
	OnDrop func(camera string, j Job)
	// OnInfer observes every inference (metrics).
	OnInfer func(camera string, d time.Duration)

	costMu sync.Mutex
	cost   inferCost
}

// flight orders one camera's results: jobs are numbered as lanes take
// them, and a result that finishes before an earlier one waits for it.
type flight struct {
	lanes         int // jobs in lanes
	taken, handed uint64
	ready         map[uint64]Result
}

// inferCost sums the inference times seen, by kind: the box's measured
// cost of a whole frame and of a crop.
type inferCost struct {
	fullN, cropN     int64
	fullSum, cropSum time.Duration
}

// Costs is the mean time of one whole-frame and one crop inference so far
// (a crop costs as much as a whole frame until one is seen); ok is false
// before any inference.
func (p *Pool) Costs() (full, crop time.Duration, ok bool) {
	p.costMu.Lock()
	defer p.costMu.Unlock()
	c := p.cost
	if c.fullN == 0 && c.cropN == 0 {
		return 0, 0, false
	}
	if c.fullN > 0 {
		full = c.fullSum / time.Duration(c.fullN)
	}
	if c.cropN > 0 {
		crop = c.cropSum / time.Duration(c.cropN)
	}
	if c.fullN == 0 {
		full = crop
	}
	if c.cropN == 0 {
		crop = full
	}
	return full, crop, true
}

// Calibrate times n inferences of a grey w×h frame, and n of a model-sized
// crop when a region model is set, in every lane at once (as they run),
// and counts them as measured costs: a cluster worker that runs no camera
// yet must still say what it sustains for placement. Call it before Run;
// a lane is not safe for concurrent use.
func (p *Pool) Calibrate(n, w, h int) error {
	errs := make(chan error, len(p.lanes))
	for _, l := range p.lanes {
		go func() { errs <- p.calibrateLane(l, n, w, h) }()
	}
	var err error
	for range p.lanes {
		if e := <-errs; e != nil && err == nil {
			err = fmt.Errorf("calibration: %w", e)
		}
	}
	return err
}

func (p *Pool) calibrateLane(l Lane, n, w, h int) error {
	f := &decode.Frame{Width: w, Height: h, Pix: bytes.Repeat([]byte{128}, w*h*3)}
	full := Job{Frame: f, Tensor: l.Model.NewInput()}
	if err := l.Model.Prepare(full.Tensor, f); err != nil {
		return err
	}
	jobs := []Job{full}
	if side := regionSide(l.Region); side > 0 && w >= side && h >= side {
		c := Crop{Region: detplan.Region{Rect: image.Rect(0, 0, side, side)}, Tensor: l.Region.NewInput()}
		if err := l.Region.PrepareRegion(c.Tensor, f, c.Rect, c.Input); err != nil {
			return err
		}
		jobs = append(jobs, Job{Frame: f, Crops: []Crop{c}})
	}
	for _, j := range jobs {
		if _, err := infer(l, j); err != nil { // warm-up, not counted
			return err
		}
		for range n {
			t0 := time.Now()
			if _, err := infer(l, j); err != nil {
				return err
			}
			p.observe(l, j, time.Since(t0))
		}
	}
	return nil
}

// regionSide is the region model's square input side, 0 without one.
func regionSide(r RegionModel) int {
	if s, ok := r.(interface{ InputSize() (int, int) }); ok {
		w, h := s.InputSize()
		return min(w, h)
	}
	return 0
}

func (p *Pool) observe(l Lane, j Job, d time.Duration) {
	if j.Model != nil {
		return // a replay camera's recorded detections cost the model nothing
	}
	p.costMu.Lock()
	defer p.costMu.Unlock()
	if n := len(j.Crops); n > 0 && l.Region != nil {
		p.cost.cropN += int64(n)
		p.cost.cropSum += d
		return
	}
	p.cost.fullN++
	p.cost.fullSum += d
}

type queue struct {
	jobs []Result
}

// droppable is the index of the oldest job to drop when depth jobs to
// infer are waiting, or -1: carried jobs neither count nor are dropped.
func (q *queue) droppable(depth int) int {
	n, oldest := 0, -1
	for i, r := range q.jobs {
		if !r.Job.Carry {
			if oldest < 0 {
				oldest = i
			}
			n++
		}
	}
	if n < depth {
		return -1
	}
	return oldest
}

// NewPool runs lanes (at least one; all with the same input sizes: the
// cameras prepare their tensors for the first); depth ≥ 1 jobs wait per
// camera.
func NewPool(depth int, lanes ...Lane) *Pool {
	if len(lanes) == 0 {
		lanes = []Lane{{}}
	}
	return &Pool{lanes: lanes, depth: max(depth, 1), queues: map[string]*queue{}, flight: map[string]*flight{},
		wake: make(chan struct{}, 1)}
}

// Region is the region model cameras prepare crops for; nil: none.
func (p *Pool) Region() RegionModel { return p.lanes[0].Region }

// Lanes is the number of inferences the pool runs at once.
func (p *Pool) Lanes() int { return len(p.lanes) }

// Submit queues a job for a camera, dropping that camera's oldest job when
// its queue is full (unless the job is to be kept). It never blocks.
func (p *Pool) Submit(camera string, j Job) {
	p.mu.Lock()
	q, ok := p.queues[camera]
	if !ok {
		q = &queue{}
		p.queues[camera] = q
		p.order = append(p.order, camera)
	}
	var dropped *Job
	if i := q.droppable(p.depth); i >= 0 && !j.Keep && !j.Carry {
		old := q.jobs[i].Job
		dropped = &old
		q.jobs = append(q.jobs[:i], q.jobs[i+1:]...)
	}
	q.jobs = append(q.jobs, Result{Job: j, submitted: time.Now()})
	unsent := p.carryAhead(camera, q)
	p.mu.Unlock()
	if dropped != nil {
		unsent = append(unsent, *dropped)
	}
	if p.OnDrop != nil {
		for _, j := range unsent {
			p.OnDrop(camera, j)
		}
	}
	p.signal()
}

// carryAhead hands on, without a lane, the carried jobs at the head of a
// camera's queue while none of the camera's jobs is in a lane or waiting
// to be handed on (so its order holds): they need no inference, and
// waiting for a lane behind other cameras' crops would age them like
// detected frames — a static view's camera ran out of tensors and dropped
// frames that way (stop 28). It returns the jobs whose camera stopped
// reading. Call with p.mu held.
func (p *Pool) carryAhead(cam string, q *queue) (unsent []Job) {
	if f := p.flight[cam]; f != nil && f.taken != f.handed {
		return nil
	}
	for len(q.jobs) > 0 && q.jobs[0].Job.Carry {
		r := q.jobs[0]
		q.jobs = q.jobs[1:]
		if !handOn(r) {
			unsent = append(unsent, r.Job)
		}
	}
	return unsent
}

// handOn sends a result to its camera without waiting: a camera that
// stopped reading must not stall everyone else. It reports whether the
// camera took it.
func handOn(r Result) bool {
	r.Latency = time.Since(r.submitted)
	select {
	case r.Job.Done <- r:
		return true
	default:
		return false
	}
}

// Depth reports how many jobs wait for a camera.
func (p *Pool) Depth(camera string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if q, ok := p.queues[camera]; ok {
		return len(q.jobs)
	}
	return 0
}

// Forget removes a camera's queue (its pending jobs are dropped).
func (p *Pool) Forget(camera string) {
	p.mu.Lock()
	q := p.queues[camera]
	delete(p.queues, camera)
	delete(p.flight, camera) // jobs in lanes keep theirs
	for i, c := range p.order {
		if c == camera {
			p.order = append(p.order[:i], p.order[i+1:]...)
			break
		}
	}
	p.mu.Unlock()
	if q != nil && p.OnDrop != nil {
		for _, r := range q.jobs {
			p.OnDrop(camera, r.Job)
		}
	}
}

// take pops the next job in round-robin order, from a camera with no job
// in a lane when one has work, else from any camera with work.
func (p *Pool) take() (string, Result, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, limit := range []int{1, len(p.lanes)} {
		for range p.order {
			if p.next >= len(p.order) {
				p.next = 0
			}
			cam := p.order[p.next]
			p.next++
			if q := p.queues[cam]; q != nil && len(q.jobs) > 0 && p.inLanes(cam) < limit {
				return cam, p.start(cam, q), true
			}
		}
	}
	return "", Result{}, false
}

func (p *Pool) inLanes(cam string) int {
	if f := p.flight[cam]; f != nil {
		return f.lanes
	}
	return 0
}

// start pops a camera's oldest job into a lane and numbers it.
func (p *Pool) start(cam string, q *queue) Result {
	f := p.flight[cam]
	if f == nil {
		f = &flight{ready: map[uint64]Result{}}
		p.flight[cam] = f
	}
	r := q.jobs[0]
	q.jobs = q.jobs[1:]
	r.fl, r.seq = f, f.taken
	f.taken++
	f.lanes++
	return r
}

// finish hands on a camera's results in order, r and those it held back,
// and frees the camera's place in a lane.
func (p *Pool) finish(cam string, r Result) {
	var dropped []Job
	p.mu.Lock()
	f := r.fl
	f.lanes--
	f.ready[r.seq] = r
	for {
		next, ok := f.ready[f.handed]
		if !ok {
			break
		}
		delete(f.ready, f.handed)
		f.handed++
		if !handOn(next) {
			dropped = append(dropped, next.Job)
		}
	}
	if q := p.queues[cam]; q != nil && p.flight[cam] == f {
		dropped = append(dropped, p.carryAhead(cam, q)...)
	}
	p.mu.Unlock()
	if p.OnDrop != nil {
		for _, j := range dropped {
			p.OnDrop(cam, j)
		}
	}
	p.signal()
}

func (p *Pool) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run infers in every lane until ctx ends; it starts no inference after
// that, and returns once every lane has stopped, so the models may then
// be closed.
func (p *Pool) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, l := range p.lanes {
		wg.Add(1)
		go func() { defer wg.Done(); p.runLane(ctx, l) }()
	}
	wg.Wait()
}

func (p *Pool) runLane(ctx context.Context, l Lane) {
	for ctx.Err() == nil {
		cam, r, ok := p.take()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-p.wake:
				continue
			}
		}
		p.signal() // another lane may find work too
		p.finish(cam, p.process(l, cam, r))
	}
}

// process infers one job (unless carried).
func (p *Pool) process(l Lane, cam string, r Result) Result {
	if !r.Job.Carry {
		start := time.Now()
		r.Detections, r.Err = infer(l, r.Job)
		d := time.Since(start)
		if r.Err == nil {
			p.observe(l, r.Job, d)
		}
		if p.OnInfer != nil {
			p.OnInfer(cam, d)
		}
	}
	return r
}

// regionIoU is the overlap above which two boxes from different crops are
// one object (detect.MergeRegions).
const regionIoU = 0.6

// infer runs a lane's model on a job's whole frame or on each of its crops,
// merging the crops' detections as if the whole frame had been seen.
func infer(l Lane, j Job) ([]detect.Detection, error) {
	f := j.Frame
	if j.Model != nil {
		return j.Model.Infer(j.Tensor, f.Width, f.Height)
	}
	if len(j.Crops) == 0 || l.Region == nil {
		return l.Model.Infer(j.Tensor, f.Width, f.Height)
	}
	parts := make([]detect.RegionDetections, 0, len(j.Crops))
	for _, c := range j.Crops {
		dets, err := l.Region.InferRegion(c.Tensor, c.Rect, c.Input)
		if err != nil {
			return nil, err
		}
		parts = append(parts, detect.RegionDetections{Rect: c.Rect, Dets: dets})
	}
	return detect.MergeRegions(parts, f.Width, f.Height, regionIoU), nil
}
