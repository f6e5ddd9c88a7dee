package pipeline

import (
	"context"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
)

// Model is a detector whose input tensor is filled separately from running
// it; *onnx.Detector satisfies it.
type Model interface {
	NewInput() []float32
	Prepare(tensor []float32, f *decode.Frame) error
	Infer(tensor []float32, w, h int) ([]detect.Detection, error)
}

// ModelDetector adapts a Model to the two pipeline stages with a fixed pool
// of tensors, so memory stays bounded however long the video.
type ModelDetector struct {
	m    Model
	pool chan []float32
}

// NewModelDetector allocates depth tensors (≥ 3 lets one be prepared while
// one is queued and one is inferred).
func NewModelDetector(m Model, depth int) *ModelDetector {
	depth = max(depth, 3)
	d := &ModelDetector{m: m, pool: make(chan []float32, depth)}
	for i := 0; i < depth; i++ {
		d.pool <- m.NewInput()
	}
	return d
}

// Prepare letterboxes a frame into a pooled tensor.
func (d *ModelDetector) Prepare(f *decode.Frame) (Prepared, error) {
	t := <-d.pool
	if err := d.m.Prepare(t, f); err != nil {
		d.pool <- t
		return Prepared{}, err
	}
	return Prepared{Frame: f, Tensor: t}, nil
}

// Infer runs the model and returns the tensor to the pool.
func (d *ModelDetector) Infer(p Prepared) ([]detect.Detection, error) {
	defer func() { d.pool <- p.Tensor }()
	return d.m.Infer(p.Tensor, p.Frame.Width, p.Frame.Height)
}

// PublicDetections replays detections from a file (MOT frame numbers,
// 1-based) instead of running a model, so the tracker can be measured alone.
type PublicDetections struct {
	ByFrame map[int][]detect.Detection
}

// Prepare has nothing to do.
func (p PublicDetections) Prepare(f *decode.Frame) (Prepared, error) {
	return Prepared{Frame: f}, nil
}

// Infer returns a copy of the frame's detections (the tracker may reorder).
func (p PublicDetections) Infer(pr Prepared) ([]detect.Detection, error) {
	return append([]detect.Detection(nil), p.ByFrame[pr.Frame.Index+1]...), nil
}

// Clock is a source of empty frames at a fixed rate, for tracking public
// detections when there is no video to decode.
type Clock struct {
	Frames        int
	FPS           float64
	Width, Height int
	err           error
	done          chan struct{}
}

// Start emits Frames frames stamped i/FPS.
func (c *Clock) Start(ctx context.Context) (<-chan *decode.Frame, error) {
	out := make(chan *decode.Frame, 4)
	c.done = make(chan struct{})
	go func() {
		defer close(c.done)
		defer close(out)
		for i := 0; i < c.Frames; i++ {
			f := &decode.Frame{Index: i, PTS: decode.PTSAt(i, c.FPS), Width: c.Width, Height: c.Height}
			select {
			case out <- f:
			case <-ctx.Done():
				c.err = ctx.Err()
				return
			}
		}
	}()
	return out, nil
}

// Wait returns once the clock has stopped.
func (c *Clock) Wait() error {
	<-c.done
	return c.err
}

// Frames is a source of given frames (usually without pixels): the time
// line of recorded tracks replayed when there is no video.
type Frames struct {
	List []*decode.Frame
	err  error
	done chan struct{}
}

// Start emits the frames in order.
func (s *Frames) Start(ctx context.Context) (<-chan *decode.Frame, error) {
	out := make(chan *decode.Frame, 4)
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		defer close(out)
		for _, f := range s.List {
			select {
			case out <- f:
			case <-ctx.Done():
				s.err = ctx.Err()
				return
			}
		}
	}()
	return out, nil
}

// Wait returns once every frame was taken or the run was cancelled.
func (s *Frames) Wait() error {
	<-s.done
	return s.err
}
