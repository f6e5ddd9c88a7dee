package onnx

import (
	"errors"
	"fmt"
	"image"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
)

var errShortTensor = errors.New("tensor smaller than the detector's input (use NewInput)")

// AnySize reports a Config.AnySize detector: its crops run at their own
// size, and the detection plan sizes them to what they hold.
func (d *Detector) AnySize() bool { return d.anySize != nil }

// regionBox is the letterbox of crop r into input in: for a
// Config.AnySize detector any multiple of 32 within its own input (the
// detection plan chooses it, detplan.Region), for any other its own
// input, which a zero in also asks for.
func (d *Detector) regionBox(r image.Rectangle, in image.Point) (detect.Letterbox, int, error) {
	if in == (image.Point{}) || d.anySize == nil || in == image.Pt(d.inW, d.inH) {
		return d.Letterbox(r.Dx(), r.Dy()), 3 * d.inW * d.inH, nil
	}
	if in.X <= 0 || in.Y <= 0 || in.X > d.inW || in.Y > d.inH || in.X%32 != 0 || in.Y%32 != 0 {
		return detect.Letterbox{}, 0, fmt.Errorf("region input %dx%d is not a multiple of 32 within %dx%d", in.X, in.Y, d.inW, d.inH)
	}
	return detect.NewLetterbox(r.Dx(), r.Dy(), in.X, in.Y), 3 * in.X * in.Y, nil
}

// PrepareRegion fills tensor (a NewInput buffer) from the r part of a
// frame, letterboxed into an in.X×in.Y input (see regionBox); InferRegion
// then returns its detections in frame pixels.
func (d *Detector) PrepareRegion(tensor []float32, f *decode.Frame, r image.Rectangle, in image.Point) error {
	lb, n, err := d.regionBox(r, in)
	if err != nil {
		return err
	}
	if len(tensor) < n {
		return errShortTensor
	}
	return lb.FillCrop(tensor[:n], f.Pix, f.Width, r)
}

// InferRegion runs the model on a tensor prepared by PrepareRegion with
// the same r and in.
func (d *Detector) InferRegion(tensor []float32, r image.Rectangle, in image.Point) ([]detect.Detection, error) {
	lb, _, err := d.regionBox(r, in)
	if err != nil {
		return nil, err
	}
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
func (d *Detector) DetectRegion(f *decode.Frame, r image.Rectangle, in image.Point) ([]detect.Detection, error) {
	t := d.input.GetData()
	if err := d.PrepareRegion(t, f, r, in); err != nil {
		return nil, err
	}
	return d.InferRegion(t, r, in)
}
