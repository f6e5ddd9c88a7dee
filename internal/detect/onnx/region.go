package onnx

import (
	"image"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
)

// PrepareRegion fills tensor from the r part of a frame, letterboxed into
// the model input; InferRegion then returns its detections in frame
// pixels. A detector made for region detection is typically square and
// small (320×320), so a region of that size runs at the frame's own scale.
func (d *Detector) PrepareRegion(tensor []float32, f *decode.Frame, r image.Rectangle) error {
	return d.Letterbox(r.Dx(), r.Dy()).FillCrop(tensor, f.Pix, f.Width, r)
}

// InferRegion runs the model on a tensor prepared by PrepareRegion.
func (d *Detector) InferRegion(tensor []float32, r image.Rectangle) ([]detect.Detection, error) {
	dets, err := d.Infer(tensor, r.Dx(), r.Dy())
	if err != nil {
		return nil, err
	}
	for i := range dets {
		dets[i].Box = dets[i].Box.Translate(float64(r.Min.X), float64(r.Min.Y))
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
