// Command int8calib measures the activation ranges the int8 YOLOv8 model is
// quantised with (scripts/quantise-yolo.py quantise). It runs the
// calibration graph (quantise-yolo.py calib-graph: the export cut at its
// head, every tensor an output) on frames of the given footage, decoded and
// letterboxed exactly as Vigil does at inference, and writes each tensor's
// min and max over all frames as JSON, with the frames it used.
//
// The graph is made by the Python script, not here, because the quantiser
// needs python3-onnx anyway and onnx.helper builds it in a few lines;
// Vigil's own protobuf editing (internal/detect/onnx/graph.go) stays what
// inference needs. See testdata/int8/README.md for the committed run.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/detect/onnx"
)

// defaultInputs are the committed calibration frames: footage that is not
// PETS09 (vtest.avi), on which accuracy is reported. PATH:N takes N frames
// evenly spread over PATH.
const defaultInputs = "../shared/data/cdnet-highway/input:16," +
	"../shared/data/videos/car-detection.mp4:16," +
	"../shared/data/ucsd-ped2/training/frames/01:4,../shared/data/ucsd-ped2/training/frames/05:4," +
	"../shared/data/ucsd-ped2/training/frames/09:4,../shared/data/ucsd-ped2/training/frames/13:4"

// Range is one tensor's calibrated interval. float32 keeps the JSON short
// and is the precision the tensors have.
type Range struct {
	Min float32 `json:"min"`
	Max float32 `json:"max"`
}

// Ranges is the file quantise-yolo.py reads.
type Ranges struct {
	Size   string           `json:"size"`   // model input, WxH
	Frames []string         `json:"frames"` // PATH#index, in run order
	Ranges map[string]Range `json:"ranges"`
}

func main() {
	home, _ := os.UserHomeDir()
	graph := flag.String("graph", "", "calibration graph (quantise-yolo.py calib-graph)")
	lib := flag.String("ort-lib", filepath.Join(home, ".cache", "vigil", "lib", "libonnxruntime.so.1"), "ONNX Runtime library")
	inputs := flag.String("inputs", defaultInputs, "comma-separated PATH:N, N frames evenly spread over each video or image folder")
	size := flag.Int("size", 320, "side of the square model input")
	out := flag.String("out", "", "ranges JSON to write")
	flag.Parse()
	if *graph == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: int8calib -graph CALIB.onnx -out RANGES.json [-inputs PATH:N,...] [-size 320]")
		os.Exit(2)
	}
	if err := run(*graph, *lib, *inputs, *size, *out); err != nil {
		fmt.Fprintln(os.Stderr, "int8calib:", err)
		os.Exit(1)
	}
}

func run(graph, lib, inputs string, size int, out string) error {
	if err := onnx.AcquireEnv(lib); err != nil {
		return err
	}
	defer onnx.ReleaseEnv()
	c, err := newCalibrator(graph, size)
	if err != nil {
		return err
	}
	defer c.close()
	res := Ranges{Size: fmt.Sprintf("%dx%d", size, size), Ranges: map[string]Range{}}
	for _, spec := range strings.Split(inputs, ",") {
		path, n, err := parseSpec(spec)
		if err != nil {
			return err
		}
		if err := eachFrame(path, n, func(f *decode.Frame) error {
			res.Frames = append(res.Frames, fmt.Sprintf("%s#%d", path, f.Index))
			return c.observe(f, res.Ranges)
		}); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	b, err := json.MarshalIndent(res, "", " ")
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "int8calib: %d tensors over %d frames -> %s\n", len(res.Ranges), len(res.Frames), out)
	return os.WriteFile(out, append(b, '\n'), 0o644)
}

func parseSpec(spec string) (string, int, error) {
	i := strings.LastIndex(spec, ":")
	if i < 0 {
		return "", 0, fmt.Errorf("input %q: want PATH:N", spec)
	}
	n, err := strconv.Atoi(spec[i+1:])
	if err != nil || n <= 0 {
		return "", 0, fmt.Errorf("input %q: N must be a positive number", spec)
	}
	return spec[:i], n, nil
}

// eachFrame calls fn on n frames of path, every (frames/n)-th from the first.
func eachFrame(path string, n int, fn func(*decode.Frame) error) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// One decoder thread: the frames are the same with any count, and the
	// calibration is not worth the cores.
	src, err := decode.Open(ctx, path, decode.Options{Threads: 1})
	if err != nil {
		return err
	}
	step := max(1, src.Info.Frames/n)
	src, err = decode.Open(ctx, path, decode.Options{Threads: 1, MaxFrames: step*(n-1) + 1})
	if err != nil {
		return err
	}
	ch, err := src.Start(ctx)
	if err != nil {
		return err
	}
	var ferr error
	for f := range ch {
		if ferr == nil && f.Index%step == 0 {
			ferr = fn(f)
		}
	}
	if err := src.Wait(); err != nil {
		return err
	}
	return ferr
}

// calibrator runs the calibration graph on letterboxed frames.
type calibrator struct {
	session *ort.DynamicAdvancedSession
	input   *ort.Tensor[float32]
	names   []string
	size    int
}

func newCalibrator(graph string, size int) (*calibrator, error) {
	ins, outs, err := ort.GetInputOutputInfo(graph)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", graph, err)
	}
	c := &calibrator{size: size}
	for _, o := range outs {
		c.names = append(c.names, o.Name)
	}
	// One thread: ORT's results do not depend on it, and it keeps the
	// reductions in one order run after run.
	opts, err := onnx.SessionOptions(1, false)
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	c.session, err = ort.NewDynamicAdvancedSession(graph, []string{ins[0].Name}, c.names, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", graph, err)
	}
	c.input, err = ort.NewEmptyTensor[float32](ort.NewShape(1, 3, int64(size), int64(size)))
	if err != nil {
		c.session.Destroy()
		return nil, err
	}
	return c, nil
}

func (c *calibrator) close() {
	c.session.Destroy()
	c.input.Destroy()
}

// observe runs one frame and widens every tensor's range in r.
func (c *calibrator) observe(f *decode.Frame, r map[string]Range) error {
	lb := detect.NewLetterbox(f.Width, f.Height, c.size, c.size)
	if err := lb.Fill(c.input.GetData(), f.Pix); err != nil {
		return err
	}
	vals := make([]ort.Value, len(c.names))
	if err := c.session.Run([]ort.Value{c.input}, vals); err != nil {
		return err
	}
	for i, v := range vals {
		t, ok := v.(*ort.Tensor[float32])
		if ok {
			widen(r, c.names[i], t.GetData())
		}
		v.Destroy()
	}
	return nil
}

func widen(r map[string]Range, name string, d []float32) {
	cur, ok := r[name]
	if !ok {
		cur = Range{Min: math.MaxFloat32, Max: -math.MaxFloat32}
	}
	for _, x := range d {
		cur.Min = min(cur.Min, x)
		cur.Max = max(cur.Max, x)
	}
	r[name] = cur
}
