// Package reid computes person re-identification embeddings: it crops a
// person's box from a decoded frame, resizes it to the OSNet input
// (256×128 RGB, ImageNet mean and std), runs the model through the same
// ONNX Runtime the detector uses, batched, and L2-normalises the 512-d
// output so that the dot product of two embeddings is their cosine
// similarity. It also averages a track's embeddings over its good crops.
package reid

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect/onnx"
	"github.com/vigil-cctv/vigil/internal/geom"
)

// Input size and embedding length of OSNet.
const (
	InputW = 128
	InputH = 256
	Dim    = 512
)

// ModelFile is the dynamic-batch OSNet x0.25 (MSMT17) export Vigil uses;
// the fixed batch-1 export (osnet_x0_25_msmt17.onnx) also works, one crop
// per run.
const ModelFile = "osnet_x0_25_msmt17.dynbatch.onnx"

// Config chooses the model and how it runs.
type Config struct {
	Model   string // path to the OSNet .onnx file
	Library string // path to libonnxruntime.so
	Threads int    // intra-op threads (0: 1)
	Batch   int    // most crops per run (0: 16); 1 for a fixed-batch model
}

// Embedder owns one ONNX Runtime session. It is not safe for concurrent
// use; run one per goroutine.
type Embedder struct {
	cfg     Config
	session *ort.DynamicAdvancedSession
	in, out string
	batch   int
	bufs    map[int]*tensors // by batch size
}

type tensors struct {
	in, out *ort.Tensor[float32]
}

// New loads the model. Errors name the file and the cause in one line.
func New(cfg Config) (*Embedder, error) {
	if err := onnx.CheckFiles(onnx.Config{Model: cfg.Model, Library: cfg.Library}); err != nil {
		return nil, err
	}
	if cfg.Threads <= 0 {
		cfg.Threads = 1
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 16
	}
	if err := onnx.AcquireEnv(cfg.Library); err != nil {
		return nil, err
	}
	e, err := open(cfg)
	if err != nil {
		onnx.ReleaseEnv()
		return nil, err
	}
	return e, nil
}

func open(cfg Config) (*Embedder, error) {
	data, err := os.ReadFile(cfg.Model)
	if err != nil {
		return nil, fmt.Errorf("reid model %s: %v", cfg.Model, err)
	}
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(data)
	if err != nil {
		return nil, fmt.Errorf("reid model %s: not a readable ONNX model: %v", filepath.Base(cfg.Model), err)
	}
	if err := checkShapes(ins, outs); err != nil {
		return nil, fmt.Errorf("reid model %s: %v", filepath.Base(cfg.Model), err)
	}
	if ins[0].Dimensions[0] > 0 {
		cfg.Batch = int(ins[0].Dimensions[0])
	}
	opts, err := onnx.SessionOptions(cfg.Threads, false)
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(data, []string{ins[0].Name}, []string{outs[0].Name}, opts)
	if err != nil {
		return nil, fmt.Errorf("reid model %s: %v", filepath.Base(cfg.Model), err)
	}
	return &Embedder{cfg: cfg, session: s, in: ins[0].Name, out: outs[0].Name, batch: cfg.Batch, bufs: map[int]*tensors{}}, nil
}

// checkShapes accepts [N,3,256,128] → [N,512] with N fixed or dynamic.
func checkShapes(ins, outs []ort.InputOutputInfo) error {
	if len(ins) != 1 || len(outs) != 1 {
		return fmt.Errorf("want 1 input and 1 output, got %d and %d", len(ins), len(outs))
	}
	in, out := ins[0].Dimensions, outs[0].Dimensions
	if len(in) != 4 || in[1] != 3 || in[2] != InputH || in[3] != InputW {
		return fmt.Errorf("input shape %v is not [N, 3, %d, %d]", in, InputH, InputW)
	}
	if len(out) != 2 || out[1] != Dim {
		return fmt.Errorf("output shape %v is not [N, %d]", out, Dim)
	}
	return nil
}

// Batch is the most crops one run takes.
func (e *Embedder) Batch() int { return e.batch }

// Embed returns one L2-normalised embedding per box (pixels of f), in
// order. A box is clipped to the frame; one with no area left gets a nil
// embedding.
func (e *Embedder) Embed(f *decode.Frame, boxes []geom.Box) ([][]float32, error) {
	if e.session == nil {
		return nil, errors.New("reid: embedder closed")
	}
	out := make([][]float32, len(boxes))
	idx := make([]int, 0, len(boxes))
	for i, b := range boxes {
		if c := b.Clip(float64(f.Width), float64(f.Height)); c.W >= 1 && c.H >= 1 {
			idx = append(idx, i)
		}
	}
	for start := 0; start < len(idx); start += e.batch {
		chunk := idx[start:min(start+e.batch, len(idx))]
		if err := e.run(f, boxes, chunk, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// run embeds boxes[chunk] in one inference and stores them in out.
func (e *Embedder) run(f *decode.Frame, boxes []geom.Box, chunk []int, out [][]float32) error {
	t, err := e.buffers(len(chunk))
	if err != nil {
		return err
	}
	in := t.in.GetData()
	for k, i := range chunk {
		Fill(in[k*3*InputH*InputW:(k+1)*3*InputH*InputW], f, boxes[i])
	}
	if err := e.session.Run([]ort.Value{t.in}, []ort.Value{t.out}); err != nil {
		return fmt.Errorf("reid inference: %v", err)
	}
	res := t.out.GetData()
	for k, i := range chunk {
		v := make([]float32, Dim)
		copy(v, res[k*Dim:(k+1)*Dim])
		out[i] = Normalize(v)
	}
	return nil
}

func (e *Embedder) buffers(n int) (*tensors, error) {
	if t, ok := e.bufs[n]; ok {
		return t, nil
	}
	in, err := ort.NewEmptyTensor[float32](ort.NewShape(int64(n), 3, InputH, InputW))
	if err != nil {
		return nil, err
	}
	out, err := ort.NewEmptyTensor[float32](ort.NewShape(int64(n), Dim))
	if err != nil {
		in.Destroy()
		return nil, err
	}
	t := &tensors{in: in, out: out}
	e.bufs[n] = t
	return t, nil
}

// Close frees the session and tensors.
func (e *Embedder) Close() error {
	if e.session == nil {
		return errors.New("reid: embedder already closed")
	}
	err := e.session.Destroy()
	for _, t := range e.bufs {
		t.in.Destroy()
		t.out.Destroy()
	}
	e.session, e.bufs = nil, nil
	onnx.ReleaseEnv()
	return err
}
