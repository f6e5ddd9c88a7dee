package onnx

import (
	"errors"
	"image"
	"math"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
)

// RegionInput is the model input a crop r is seen at: for a
// Config.AnySize detector, r's own size rounded up to multiples of 32
// when it fits the detector's input, else r scaled down to fit it; for
// any other detector its one input size. Inference costs about the
// input's area, so a 160×160 crop costs about a quarter of a 320×320 one.
func (d *Detector) RegionInput(r image.Rectangle) (w, h int) {
	if d.anySize == nil || r.Dx() <= 0 || r.Dy() <= 0 {
		return d.inW, d.inH
	}
	s := min(1, float64(d.inW)/float64(r.Dx()), float64(d.inH)/float64(r.Dy()))
	return min(d.inW, ceil32(float64(r.Dx())*s)), min(d.inH, ceil32(float64(r.Dy())*s))
}

func ceil32(v float64) int { return max(32, int(math.Ceil(v/32-1e-9))*32) }

var errShortTensor = errors.New("tensor smaller than the detector's input (use NewInput)")

// AnySize reports a Config.AnySize detector: its crops run at their own
// size, and the detection plan sizes them to what they hold.
func (d *Detector) AnySize() bool { return d.anySize != nil }

// regionBox is the letterbox of crop r into its RegionInput.
func (d *Detector) regionBox(r image.Rectangle) (detect.Letterbox, int) {
	w, h := d.RegionInput(r)
	if w == d.inW && h == d.inH {
		return d.Letterbox(r.Dx(), r.Dy()), 3 * w * h
	}
	return detect.NewLetterbox(r.Dx(), r.Dy(), w, h), 3 * w * h
}

// PrepareRegion fills tensor (a NewInput buffer) from the r part of a
// frame, letterboxed into its RegionInput; InferRegion then returns its
// detections in frame pixels. A detector made for region detection is
// typically square and small (320×320), so a region of that size or
// smaller runs at the frame's own scale.
func (d *Detector) PrepareRegion(tensor []float32, f *decode.Frame, r image.Rectangle) error {
	lb, n := d.regionBox(r)
	if len(tensor) < n {
		return errShortTensor
	}
	return lb.FillCrop(tensor[:n], f.Pix, f.Width, r)
}

// InferRegion runs the model on a tensor prepared by PrepareRegion.
func (d *Detector) InferRegion(tensor []float32, r image.Rectangle) ([]detect.Detection, error) {
	lb, _ := d.regionBox(r)
	dets, err := d.inferAt(tensor, lb.DstW, lb.DstH)
	if err != nil {
		return nil, err
	}
	for i := range dets {
		dets[i].Box = lb.ToSource(dets[i].Box).Translate(float64(r.Min.X), float64(r.Min.Y))
	}
	return dets, nil
}

// DetectRegion prepares and infers one region of a frame.
func (d *Detector) DetectRegion(f *decode.Frame, r image.Rectangle) ([]detect.Detection, error) {
	t := d.input.GetData()
	if err := d.PrepareRegion(t, f, r); err != nil {
		return nil, err
	}
	return d.InferRegion(t, r)
}
