// Package onnx runs YOLO-family ONNX models through ONNX Runtime (cgo, via
// github.com/yalue/onnxruntime_go). The shared library is loaded at run time
// from a path Vigil is given, so the binary builds without it and the model
// and library stay files the user supplies or `make setup` fetches.
package onnx

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
)

// Config chooses the model and how it runs.
type Config struct {
	Model   string // path to the .onnx file
	Library string // path to libonnxruntime.so
	Threads int    // intra-op threads (0: 2)
	// InputW/InputH override the model's input size only for models whose
	// input shape is symbolic; 0 uses the model's own.
	InputW, InputH int
	Decode         detect.DecodeOptions
}

// The ORT environment is process-wide in the C library; env guards its
// one-time setup so several detectors can share it.
var env struct {
	sync.Mutex
	lib   string
	users int
}

func acquireEnv(lib string) error {
	env.Lock()
	defer env.Unlock()
	if env.users > 0 {
		if lib != env.lib {
			return fmt.Errorf("onnx runtime already loaded from %s; cannot also load %s", env.lib, lib)
		}
		env.users++
		return nil
	}
	ort.SetSharedLibraryPath(lib)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("loading ONNX Runtime from %s: %v", lib, err)
	}
	env.lib, env.users = lib, 1
	return nil
}

func releaseEnv() {
	env.Lock()
	defer env.Unlock()
	env.users--
	if env.users == 0 {
		_ = ort.DestroyEnvironment()
	}
}

// Detector owns one ONNX Runtime session and its tensors. It is not safe
// for concurrent use; run one per goroutine.
type Detector struct {
	cfg     Config
	session *ort.AdvancedSession
	input   *ort.Tensor[float32]
	output  *ort.Tensor[float32]
	inW     int
	inH     int
	boxes   map[[2]int]detect.Letterbox
}

// CheckFiles gives the one-line error Vigil prints when setup is missing.
func CheckFiles(cfg Config) error {
	for _, f := range []struct{ what, path string }{{"model", cfg.Model}, {"ONNX Runtime library", cfg.Library}} {
		if f.path == "" {
			return fmt.Errorf("no %s path given; run make setup", f.what)
		}
		st, err := os.Stat(f.path)
		if err != nil {
			return fmt.Errorf("%s not found at %s; run make setup (or pass its path)", f.what, f.path)
		}
		if st.IsDir() {
			return fmt.Errorf("%s path %s is a directory, not a file", f.what, f.path)
		}
	}
	return nil
}

// New loads the model. Errors name the file and the cause in one line.
func New(cfg Config) (*Detector, error) {
	if err := CheckFiles(cfg); err != nil {
		return nil, err
	}
	if cfg.Threads <= 0 {
		cfg.Threads = 2
	}
	if err := acquireEnv(cfg.Library); err != nil {
		return nil, err
	}
	d, err := newDetector(cfg)
	if err != nil {
		releaseEnv()
		return nil, err
	}
	return d, nil
}

func newDetector(cfg Config) (*Detector, error) {
	ins, outs, err := ort.GetInputOutputInfo(cfg.Model)
	if err != nil {
		return nil, fmt.Errorf("model %s: not a readable ONNX model: %v", filepath.Base(cfg.Model), err)
	}
	if len(ins) != 1 || len(outs) < 1 {
		return nil, fmt.Errorf("model %s: want 1 input and at least 1 output, got %d and %d", cfg.Model, len(ins), len(outs))
	}
	inShape, err := inputShape(ins[0].Dimensions, cfg)
	if err != nil {
		return nil, fmt.Errorf("model %s: %v", cfg.Model, err)
	}
	outShape := outs[0].Dimensions
	if len(outShape) != 3 || outShape[1] < 5 || outShape[2] < 1 {
		return nil, fmt.Errorf("model %s: output shape %v is not YOLOv8's [1, 4+classes, anchors]", cfg.Model, outShape)
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(cfg.Threads); err != nil {
		return nil, err
	}
	if err := opts.SetInterOpNumThreads(1); err != nil {
		return nil, err
	}
	d := &Detector{cfg: cfg, inW: int(inShape[3]), inH: int(inShape[2]), boxes: map[[2]int]detect.Letterbox{}}
	if d.input, err = ort.NewEmptyTensor[float32](inShape); err != nil {
		return nil, err
	}
	if d.output, err = ort.NewEmptyTensor[float32](ort.NewShape(outShape...)); err != nil {
		d.input.Destroy()
		return nil, err
	}
	d.session, err = ort.NewAdvancedSession(cfg.Model, []string{ins[0].Name}, []string{outs[0].Name},
		[]ort.Value{d.input}, []ort.Value{d.output}, opts)
	if err != nil {
		d.input.Destroy()
		d.output.Destroy()
		return nil, fmt.Errorf("model %s: %v", cfg.Model, err)
	}
	return d, nil
}

// inputShape resolves the NCHW input shape, honouring a requested size only
// where the model leaves it open.
func inputShape(dims ort.Shape, cfg Config) (ort.Shape, error) {
	if len(dims) != 4 || (dims[1] != 3 && dims[1] > 0) {
		return nil, fmt.Errorf("input shape %v is not [1, 3, H, W]", dims)
	}
	s := ort.NewShape(1, 3, dims[2], dims[3])
	for i, want := range []int{cfg.InputH, cfg.InputW} {
		switch {
		case s[2+i] <= 0 && want <= 0:
			s[2+i] = 640
		case s[2+i] <= 0:
			s[2+i] = int64(want)
		case want > 0 && int64(want) != s[2+i]:
			return nil, fmt.Errorf("input size is fixed at %dx%d; cannot run at %dx%d", dims[3], dims[2], cfg.InputW, cfg.InputH)
		}
	}
	if s[2]%32 != 0 || s[3]%32 != 0 {
		return nil, fmt.Errorf("input size %dx%d must be a multiple of 32", s[3], s[2])
	}
	return s, nil
}

// InputSize is the model input width and height.
func (d *Detector) InputSize() (int, int) { return d.inW, d.inH }

// Letterbox returns the cached letterbox geometry for a frame size.
func (d *Detector) Letterbox(w, h int) detect.Letterbox {
	k := [2]int{w, h}
	lb, ok := d.boxes[k]
	if !ok {
		lb = detect.NewLetterbox(w, h, d.inW, d.inH)
		d.boxes[k] = lb
	}
	return lb
}

// Prepare fills tensor (3·H·W floats, see NewInput) from a frame. It is
// separate from Infer so that a pipeline can prepare the next frame while
// the current one is being inferred.
func (d *Detector) Prepare(tensor []float32, f *decode.Frame) error {
	return d.Letterbox(f.Width, f.Height).Fill(tensor, f.Pix)
}

// NewInput allocates a tensor buffer for Prepare.
func (d *Detector) NewInput() []float32 { return make([]float32, 3*d.inW*d.inH) }

// Infer runs the model on a prepared tensor and returns detections in the
// pixels of a w×h source frame.
func (d *Detector) Infer(tensor []float32, w, h int) ([]detect.Detection, error) {
	copy(d.input.GetData(), tensor)
	if err := d.session.Run(); err != nil {
		return nil, fmt.Errorf("inference: %v", err)
	}
	dets, err := detect.DecodeYOLOv8(d.output.GetData(), d.output.GetShape(), d.cfg.Decode)
	if err != nil {
		return nil, err
	}
	lb := d.Letterbox(w, h)
	for i := range dets {
		dets[i].Box = lb.ToSource(dets[i].Box)
	}
	return dets, nil
}

// Detect prepares and infers one frame.
func (d *Detector) Detect(f *decode.Frame) ([]detect.Detection, error) {
	t := d.input.GetData()
	if err := d.Prepare(t, f); err != nil {
		return nil, err
	}
	return d.inferInPlace(f.Width, f.Height)
}

func (d *Detector) inferInPlace(w, h int) ([]detect.Detection, error) {
	return d.Infer(d.input.GetData(), w, h)
}

// Close frees the session and tensors.
func (d *Detector) Close() error {
	if d.session == nil {
		return errors.New("detector already closed")
	}
	err := d.session.Destroy()
	d.input.Destroy()
	d.output.Destroy()
	d.session = nil
	releaseEnv()
	return err
}
