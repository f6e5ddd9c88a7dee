package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/detect/onnx"
)

// modelFlags locate the detector's files: flag, then environment, then the
// cache that `make setup` fills.
type modelFlags struct {
	Model     string  `help:"YOLOv8 ONNX model file (env VIGIL_MODEL; default <cache>/models/yolov8n.onnx)." type:"path"`
	ORTLib    string  `name:"ort-lib" help:"ONNX Runtime shared library (env VIGIL_ORT_LIB; default <cache>/lib/libonnxruntime.so.1)." type:"path"`
	Threads   int     `help:"Inference threads." default:"2"`
	Conf      float32 `help:"Minimum detection score kept for tracking." default:"0.1"`
	NMSIoU    float64 `name:"nms-iou" help:"NMS overlap threshold within a class group." default:"0.6"`
	ModelSize string  `name:"model-size" help:"Shorthand for a cached model: n, s, m, or n-int8 (yolov8n quantised to int8 by make setup); ignored when --model is given." default:"n" enum:"n,s,m,n-int8"`
	InputSize string  `name:"input-size" help:"Model input WxH (multiples of 32), or auto: 640 on the long side, keeping the frame's aspect." default:"auto"`
	FullGraph bool    `name:"full-graph" help:"Run the exported graph unmodified at its fixed 640x640 input."`
	Spin      bool    `name:"ort-spin" help:"Let idle ONNX Runtime threads busy-wait (faster alone, slower beside decoding)."`
}

// inputSize resolves --input-size for a w×h frame.
func (m modelFlags) inputSize(w, h int) (int, int, error) {
	if m.InputSize == "" || m.InputSize == "auto" {
		if m.FullGraph {
			return 0, 0, nil // the exported graph's own fixed size
		}
		iw, ih := detect.InputSizeFor(w, h, 640)
		return iw, ih, nil
	}
	var iw, ih int
	if _, err := fmt.Sscanf(m.InputSize, "%dx%d", &iw, &ih); err != nil || iw <= 0 || ih <= 0 || iw%32 != 0 || ih%32 != 0 {
		return 0, 0, fmt.Errorf("--input-size %q: want WxH with multiples of 32 (e.g. 640x480) or auto", m.InputSize)
	}
	return iw, ih, nil
}

// open loads the detector for w×h frames.
func (m modelFlags) open(w, h int) (*onnx.Detector, error) {
	iw, ih, err := m.inputSize(w, h)
	if err != nil {
		return nil, err
	}
	return onnx.New(m.onnxConfig(iw, ih))
}

// openRegion loads a region detector of a side×side input, whose crops
// run at their own size when anySize (onnx.Config.AnySize).
func (m modelFlags) openRegion(side int, anySize bool) (*onnx.Detector, error) {
	cfg := m.onnxConfig(side, side)
	cfg.AnySize = anySize
	return onnx.New(cfg)
}

// onnxConfig is the detector the flags name, at an iw×ih input.
func (m modelFlags) onnxConfig(iw, ih int) onnx.Config {
	return onnx.Config{Model: m.modelPath(), Library: m.libPath(), Threads: m.Threads,
		InputW: iw, InputH: ih, FullGraph: m.FullGraph, Spin: m.Spin,
		Decode: detect.DecodeOptions{Conf: m.Conf, IoU: m.NMSIoU}}
}

// cacheDir is where make setup puts the model and the runtime library.
func cacheDir() string {
	if d := os.Getenv("VIGIL_CACHE"); d != "" {
		return d
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".cache", "vigil")
	}
	return ".cache/vigil"
}

func (m modelFlags) modelPath() string {
	return firstSet(m.Model, os.Getenv("VIGIL_MODEL"), filepath.Join(cacheDir(), "models", "yolov8"+m.ModelSize+".onnx"))
}

func (m modelFlags) libPath() string {
	return firstSet(m.ORTLib, os.Getenv("VIGIL_ORT_LIB"), filepath.Join(cacheDir(), "lib", "libonnxruntime.so.1"))
}

func firstSet(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
