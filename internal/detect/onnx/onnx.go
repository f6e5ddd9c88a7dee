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
	// InputW/InputH choose the input size (multiples of 32); 0 uses
	// 640×640. A fixed-size model that cannot be cut must match.
	InputW, InputH int
	// FullGraph runs the exported graph unmodified (fixed input size),
	// instead of cutting it at the detection head.
	FullGraph bool
	// Spin lets idle inference threads busy-wait (see sessionOptions).
	Spin bool
	// AnySize runs a graph cut at its head on a session whose input size
	// is set per run, at most InputW×InputH: a region detector then sees
	// a small crop at its own size (PrepareRegion), at a cost that follows
	// its area, instead of padded into the whole input.
	AnySize bool
	Decode  detect.DecodeOptions
}

// The ORT environment is process-wide in the C library; env guards its
// one-time setup so several detectors can share it.
var env struct {
	sync.Mutex
	lib   string
	users int
}

// AcquireEnv loads ONNX Runtime from lib once per process and counts the
// user; other packages that run ONNX models (reid) share it this way.
// Each successful call is paired with one ReleaseEnv.
func AcquireEnv(lib string) error { return acquireEnv(lib) }

// ReleaseEnv drops one AcquireEnv user; the last one unloads the runtime.
func ReleaseEnv() { releaseEnv() }

// SessionOptions are the options Vigil runs every session with: threads
// intra-op threads, one inter-op thread, spinning off unless spin.
func SessionOptions(threads int, spin bool) (*ort.SessionOptions, error) {
	return sessionOptions(threads, spin)
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
	outputs []*ort.Tensor[float32]
	inW     int
	inH     int
	boxes   map[[2]int]detect.Letterbox
	// head is true when the graph was cut at its head (see headCut).
	head     bool
	channels int
	// anySize is the session of a Config.AnySize detector (session is
	// then nil); heads are its output buffers, sized for the largest input.
	anySize *ort.DynamicAdvancedSession
	heads   [][]float32
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
	data, err := os.ReadFile(cfg.Model)
	if err != nil {
		return nil, fmt.Errorf("model %s: %v", cfg.Model, err)
	}
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(data)
	if err != nil {
		return nil, fmt.Errorf("model %s: not a readable ONNX model: %v", filepath.Base(cfg.Model), err)
	}
	if len(ins) != 1 || len(outs) < 1 {
		return nil, fmt.Errorf("model %s: want 1 input and at least 1 output, got %d and %d", cfg.Model, len(ins), len(outs))
	}
	outShape := outs[0].Dimensions
	if len(outShape) != 3 || outShape[1] < 5 || outShape[2] < 1 {
		return nil, fmt.Errorf("model %s: output shape %v is not YOLOv8's [1, 4+classes, anchors]", cfg.Model, outShape)
	}
	opts, err := sessionOptions(cfg.Threads, cfg.Spin)
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	if !cfg.FullGraph {
		cut, heads, input, err := headCut(data)
		if err == nil {
			channels := int(outShape[1]) - 4 + 4*16
			return newHeadDetector(cfg, cut, input, heads, channels, opts)
		}
		if !errors.Is(err, errNoHead) {
			return nil, fmt.Errorf("model %s: %v", cfg.Model, err)
		}
	}
	return newFullDetector(cfg, data, ins[0], outs[0], opts)
}

func sessionOptions(threads int, spin bool) (*ort.SessionOptions, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	// Spinning worker threads win a little on an idle machine but steal
	// the cores that decoding and letterboxing need to overlap inference.
	allow := "0"
	if spin {
		allow = "1"
	}
	if err := opts.AddSessionConfigEntry("session.intra_op.allow_spinning", allow); err != nil {
		opts.Destroy()
		return nil, err
	}
	if err := opts.SetIntraOpNumThreads(threads); err != nil {
		opts.Destroy()
		return nil, err
	}
	if err := opts.SetInterOpNumThreads(1); err != nil {
		opts.Destroy()
		return nil, err
	}
	return opts, nil
}

// newFullDetector runs the graph as exported, at its own input size.
func newFullDetector(cfg Config, data []byte, in, out ort.InputOutputInfo, opts *ort.SessionOptions) (*Detector, error) {
	inShape, err := inputShape(in.Dimensions, cfg)
	if err != nil {
		return nil, fmt.Errorf("model %s: %v", cfg.Model, err)
	}
	d := &Detector{cfg: cfg, inW: int(inShape[3]), inH: int(inShape[2]), boxes: map[[2]int]detect.Letterbox{}}
	if err := d.allocate(inShape, []ort.Shape{ort.NewShape(out.Dimensions...)}); err != nil {
		return nil, err
	}
	return d, d.open(data, in.Name, []string{out.Name}, opts)
}

// newHeadDetector runs the graph cut at its head, at any multiple of 32.
func newHeadDetector(cfg Config, data []byte, input string, heads []string, channels int, opts *ort.SessionOptions) (*Detector, error) {
	w, h := cfg.InputW, cfg.InputH
	if w <= 0 || h <= 0 {
		w, h = 640, 640
	}
	if w%32 != 0 || h%32 != 0 {
		return nil, fmt.Errorf("input size %dx%d must be a multiple of 32", w, h)
	}
	d := &Detector{cfg: cfg, inW: w, inH: h, boxes: map[[2]int]detect.Letterbox{}, head: true, channels: channels}
	if cfg.AnySize {
		return d, d.openAnySize(data, input, heads, opts)
	}
	var shapes []ort.Shape
	for _, s := range headStrides {
		shapes = append(shapes, ort.NewShape(1, int64(channels), int64(h/s), int64(w/s)))
	}
	if err := d.allocate(ort.NewShape(1, 3, int64(h), int64(w)), shapes); err != nil {
		return nil, err
	}
	return d, d.open(data, input, heads, opts)
}

// headStrides are the three YOLOv8 levels, finest first, in the order the
// graph flattens them.
var headStrides = []int{8, 16, 32}

func (d *Detector) allocate(in ort.Shape, outs []ort.Shape) error {
	var err error
	if d.input, err = ort.NewEmptyTensor[float32](in); err != nil {
		return err
	}
	for _, s := range outs {
		t, err := ort.NewEmptyTensor[float32](s)
		if err != nil {
			d.destroyTensors()
			return err
		}
		d.outputs = append(d.outputs, t)
	}
	return nil
}

func (d *Detector) open(data []byte, input string, outputs []string, opts *ort.SessionOptions) error {
	outVals := make([]ort.Value, len(d.outputs))
	for i, t := range d.outputs {
		outVals[i] = t
	}
	s, err := ort.NewAdvancedSessionWithONNXData(data, []string{input}, outputs, []ort.Value{d.input}, outVals, opts)
	if err != nil {
		d.destroyTensors()
		return fmt.Errorf("model %s: %v", d.cfg.Model, err)
	}
	d.session = s
	return nil
}

// openAnySize opens the session of a Config.AnySize detector: its input
// tensor is made per run (inferAt) over the buffer NewInput or d.input
// gives, its outputs over d.heads.
func (d *Detector) openAnySize(data []byte, input string, heads []string, opts *ort.SessionOptions) error {
	if err := d.allocate(ort.NewShape(1, 3, int64(d.inH), int64(d.inW)), nil); err != nil {
		return err
	}
	for _, st := range headStrides {
		d.heads = append(d.heads, make([]float32, d.channels*(d.inH/st)*(d.inW/st)))
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(data, []string{input}, heads, opts)
	if err != nil {
		d.destroyTensors()
		return fmt.Errorf("model %s: %v", d.cfg.Model, err)
	}
	d.anySize = s
	return nil
}

func (d *Detector) destroyTensors() {
	if d.input != nil {
		d.input.Destroy()
	}
	for _, t := range d.outputs {
		t.Destroy()
	}
	d.outputs = nil
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
	dets, err := d.inferAt(tensor, d.inW, d.inH)
	if err != nil {
		return nil, err
	}
	lb := d.Letterbox(w, h)
	for i := range dets {
		dets[i].Box = lb.ToSource(dets[i].Box)
	}
	return dets, nil
}

// inferAt runs the model on a tensor of an iw×ih input (the detector's
// own size unless it is a Config.AnySize one) and returns detections in
// input pixels.
func (d *Detector) inferAt(tensor []float32, iw, ih int) ([]detect.Detection, error) {
	if d.anySize != nil {
		return d.runAnySize(tensor, iw, ih)
	}
	if in := d.input.GetData(); &in[0] != &tensor[0] {
		copy(in, tensor)
	}
	if err := d.session.Run(); err != nil {
		return nil, fmt.Errorf("inference: %v", err)
	}
	if !d.head {
		out := d.outputs[0]
		return detect.DecodeYOLOv8(out.GetData(), out.GetShape(), d.cfg.Decode)
	}
	data := make([][]float32, len(d.outputs))
	for i, t := range d.outputs {
		data[i] = t.GetData()
	}
	return d.decodeHeads(data, iw, ih)
}

// runAnySize runs the AnySize session at iw×ih on tensor's own memory.
func (d *Detector) runAnySize(tensor []float32, iw, ih int) ([]detect.Detection, error) {
	if iw <= 0 || ih <= 0 || iw > d.inW || ih > d.inH || iw%32 != 0 || ih%32 != 0 {
		return nil, fmt.Errorf("inference: input %dx%d is not a multiple of 32 within %dx%d", iw, ih, d.inW, d.inH)
	}
	if len(tensor) < 3*iw*ih {
		return nil, errShortTensor
	}
	var values []ort.Value
	defer func() {
		for _, v := range values {
			v.Destroy()
		}
	}()
	in, err := ort.NewTensor(ort.NewShape(1, 3, int64(ih), int64(iw)), tensor)
	if err != nil {
		return nil, fmt.Errorf("inference: %v", err)
	}
	values = append(values, in)
	data := make([][]float32, len(d.heads))
	for i, st := range headStrides {
		t, err := ort.NewTensor(ort.NewShape(1, int64(d.channels), int64(ih/st), int64(iw/st)), d.heads[i])
		if err != nil {
			return nil, fmt.Errorf("inference: %v", err)
		}
		values, data[i] = append(values, t), t.GetData()
	}
	if err := d.anySize.Run(values[:1], values[1:]); err != nil {
		return nil, fmt.Errorf("inference: %v", err)
	}
	return d.decodeHeads(data, iw, ih)
}

// decodeHeads decodes the three head levels of an iw×ih input.
func (d *Detector) decodeHeads(data [][]float32, iw, ih int) ([]detect.Detection, error) {
	levels := make([]detect.HeadLevel, len(data))
	for i, level := range data {
		st := headStrides[i]
		levels[i] = detect.HeadLevel{Data: level, Channels: d.channels, H: ih / st, W: iw / st, Stride: float64(st)}
	}
	return detect.DecodeYOLOv8Head(levels, d.cfg.Decode)
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
	var err error
	switch {
	case d.session != nil:
		err = d.session.Destroy()
	case d.anySize != nil:
		err = d.anySize.Destroy()
	default:
		return errors.New("detector already closed")
	}
	d.destroyTensors()
	d.session, d.anySize = nil, nil
	releaseEnv()
	return err
}

// inputShape resolves the NCHW input shape of an uncut graph, honouring a
// requested size only where the model leaves it open.
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
