package detect

import (
	"fmt"
	"math"

	"github.com/vigil-cctv/vigil/internal/geom"
)

// regMax is YOLOv8's distribution-focal-loss bin count per box side.
const regMax = 16

// HeadLevel is one stride level of a raw YOLOv8 head, shape
// [1, 4·regMax+classes, H, W] in channel-major order.
type HeadLevel struct {
	Data     []float32
	Channels int
	H, W     int
	Stride   float64
}

// DecodeYOLOv8Head decodes raw head levels (the graph cut before its
// anchor constants, see package onnx) into detections in model-input
// pixels: sigmoid class scores, DFL box distances around each cell centre,
// then grouped NMS. It matches the exported graph's own decoding.
func DecodeYOLOv8Head(levels []HeadLevel, opt DecodeOptions) ([]Detection, error) {
	var dets []Detection
	for _, lv := range levels {
		if err := lv.check(); err != nil {
			return nil, err
		}
		dets = lv.decode(dets, opt)
	}
	maxDet := opt.MaxDet
	if maxDet <= 0 {
		maxDet = 300
	}
	return NMS(dets, opt.IoU, maxDet), nil
}

func (lv HeadLevel) check() error {
	if lv.Channels <= 4*regMax || lv.H <= 0 || lv.W <= 0 || lv.Stride <= 0 {
		return fmt.Errorf("yolov8 head: bad level %dx%dx%d stride %v", lv.Channels, lv.H, lv.W, lv.Stride)
	}
	if len(lv.Data) != lv.Channels*lv.H*lv.W {
		return fmt.Errorf("yolov8 head: %d values for %dx%dx%d", len(lv.Data), lv.Channels, lv.H, lv.W)
	}
	return nil
}

// logit is the inverse sigmoid: comparing raw logits against it avoids a
// sigmoid per cell and class.
func logit(p float32) float32 {
	switch {
	case p <= 0:
		return float32(math.Inf(-1))
	case p >= 1:
		return float32(math.Inf(1))
	}
	return float32(math.Log(float64(p) / (1 - float64(p))))
}

func (lv HeadLevel) decode(dets []Detection, opt DecodeOptions) []Detection {
	hw := lv.H * lv.W
	best := make([]float32, hw)
	cls := make([]int32, hw)
	for i := range best {
		best[i], cls[i] = float32(math.Inf(-1)), -1
	}
	// Channel-major scan: each class plane is contiguous in memory.
	for c := 0; c < lv.Channels-4*regMax; c++ {
		if !opt.Classes.Allows(Class(c)) {
			continue
		}
		plane := lv.Data[(4*regMax+c)*hw : (4*regMax+c+1)*hw]
		for i, v := range plane {
			if v > best[i] {
				best[i], cls[i] = v, int32(c)
			}
		}
	}
	min := logit(opt.Conf)
	for i, v := range best {
		if cls[i] < 0 || !(v >= min) {
			continue
		}
		box, ok := lv.box(i, hw)
		if !ok {
			continue
		}
		score := float32(1 / (1 + math.Exp(-float64(v))))
		dets = append(dets, Detection{Box: box, Class: Class(cls[i]), Score: score})
	}
	return dets
}

// box turns cell i's four DFL distributions into a box around the cell
// centre, in input pixels.
func (lv HeadLevel) box(i, hw int) (geom.Box, bool) {
	var d [4]float64
	var bins [regMax]float64
	for side := 0; side < 4; side++ {
		mx := math.Inf(-1)
		for b := 0; b < regMax; b++ {
			bins[b] = float64(lv.Data[(side*regMax+b)*hw+i])
			mx = math.Max(mx, bins[b])
		}
		sum, exp := 0.0, 0.0
		for b := 0; b < regMax; b++ {
			e := math.Exp(bins[b] - mx)
			sum += e
			exp += e * float64(b)
		}
		d[side] = exp / sum
	}
	cx, cy := float64(i%lv.W)+0.5, float64(i/lv.W)+0.5
	b := geom.BoxFromCorners((cx-d[0])*lv.Stride, (cy-d[1])*lv.Stride, (cx+d[2])*lv.Stride, (cy+d[3])*lv.Stride)
	return b, finite(b.X, b.Y, b.W, b.H) && b.W > 0 && b.H > 0
}

// InputSizeFor picks a model input for a w×h frame: the long side is long
// pixels and the short side keeps the aspect ratio, rounded up to the
// network's stride of 32 so no content is cut.
func InputSizeFor(w, h, long int) (int, int) {
	if w <= 0 || h <= 0 {
		return long, long
	}
	short := func(a, b int) int {
		s := int(math.Ceil(float64(long) * float64(a) / float64(b) / 32))
		return max(s*32, 32)
	}
	if w >= h {
		return long, short(h, w)
	}
	return short(w, h), long
}
