package detect

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/vigil-cctv/vigil/internal/geom"
)

// Letterbox maps a source frame into a model input of fixed size: the frame
// is scaled uniformly to fit and centred on grey padding, so aspect ratio is
// kept. It also maps model-space boxes back to source pixels.
type Letterbox struct {
	SrcW, SrcH int
	DstW, DstH int
	Scale      float64 // source pixels × Scale = model pixels
	PadX, PadY int     // offset of the scaled image inside the input
	ScaledW    int
	ScaledH    int
}

// NewLetterbox computes the geometry for a srcW×srcH frame into dstW×dstH.
func NewLetterbox(srcW, srcH, dstW, dstH int) Letterbox {
	s := math.Min(float64(dstW)/float64(srcW), float64(dstH)/float64(srcH))
	sw := int(math.Round(float64(srcW) * s))
	sh := int(math.Round(float64(srcH) * s))
	return Letterbox{
		SrcW: srcW, SrcH: srcH, DstW: dstW, DstH: dstH, Scale: s,
		ScaledW: sw, ScaledH: sh, PadX: (dstW - sw) / 2, PadY: (dstH - sh) / 2,
	}
}

// ToSource maps a box from model input pixels to source pixels.
func (l Letterbox) ToSource(b geom.Box) geom.Box {
	return b.Translate(-float64(l.PadX), -float64(l.PadY)).Scale(1 / l.Scale)
}

// padValue is the grey YOLO models were trained with for letterbox borders.
const padValue = 114.0 / 255.0

// Fill writes the letterboxed RGB24 frame into dst as planar CHW float32 in
// [0,1] (dst has 3*DstW*DstH elements), using bilinear sampling.
func (l Letterbox) Fill(dst []float32, pix []byte) error {
	if len(pix) != l.SrcW*l.SrcH*3 {
		return fmt.Errorf("letterbox: frame has %d bytes, want %d", len(pix), l.SrcW*l.SrcH*3)
	}
	return l.fill(dst, pix, l.SrcW*3)
}

var errCrop = errors.New("letterbox: crop outside the frame or of another size")

// fill letterboxes SrcW×SrcH pixels whose rows start stride bytes apart.
func (l Letterbox) fill(dst []float32, pix []byte, stride int) error {
	plane := l.DstW * l.DstH
	if len(dst) != 3*plane {
		return fmt.Errorf("letterbox: tensor has %d elements, want %d", len(dst), 3*plane)
	}
	l.fillPadding(dst)
	if l.ScaledW == l.SrcW && l.ScaledH == l.SrcH {
		l.fillUnscaled(dst, pix, stride)
		return nil
	}
	l.fillScaled(dst, pix, stride)
	return nil
}

// fillUnscaled copies pixels one to one (a crop at the frame's own scale,
// what region detection mostly runs): the values bilinear sampling gives
// at scale 1, for a third of its work.
func (l Letterbox) fillUnscaled(dst []float32, pix []byte, stride int) {
	plane := l.DstW * l.DstH
	r, g, b := dst[:plane], dst[plane:2*plane], dst[2*plane:]
	const inv = 1.0 / 255.0
	for y := range l.SrcH {
		row := pix[y*stride : y*stride+l.SrcW*3]
		base := (y+l.PadY)*l.DstW + l.PadX
		rr, gg, bb := r[base:base+l.SrcW], g[base:base+l.SrcW], b[base:base+l.SrcW]
		for x := range rr {
			k := x * 3
			rr[x] = float32(row[k]) * inv
			gg[x] = float32(row[k+1]) * inv
			bb[x] = float32(row[k+2]) * inv
		}
	}
}

// fillScaled resamples with separable bilinear taps.
func (l Letterbox) fillScaled(dst []float32, pix []byte, stride int) {
	plane := l.DstW * l.DstH
	xs := l.taps(l.ScaledW, l.SrcW)
	ys := l.taps(l.ScaledH, l.SrcH)
	// Rows are resampled horizontally once each and reused by the (usually
	// two) output rows that blend them: separable bilinear, cache-friendly.
	rows := rowCache{xs: xs, stride: stride, rowLen: l.SrcW * 3, pix: pix}
	rows.init(l.ScaledW)
	r, g, b := dst[:plane], dst[plane:2*plane], dst[2*plane:]
	const inv = 1.0 / 255.0
	for oy, ty := range ys {
		top, bot := rows.get(ty.i0), rows.get(ty.i1)
		wb := ty.w * inv
		wt := inv - wb
		base := (oy+l.PadY)*l.DstW + l.PadX
		rr, gg, bb := r[base:base+l.ScaledW], g[base:base+l.ScaledW], b[base:base+l.ScaledW]
		for ox := range rr {
			k := ox * 3
			rr[ox] = top[k]*wt + bot[k]*wb
			gg[ox] = top[k+1]*wt + bot[k+1]*wb
			bb[ox] = top[k+2]*wt + bot[k+2]*wb
		}
	}
}

// rowCache holds the last two horizontally resampled source rows.
type rowCache struct {
	xs     []tap
	stride int // bytes from one row's start to the next
	rowLen int // bytes of a row that are read
	pix    []byte
	idx    [2]int
	buf    [2][]float32
	last   int
}

func (c *rowCache) init(w int) {
	c.idx = [2]int{-1, -1}
	c.buf[0] = make([]float32, w*3)
	c.buf[1] = make([]float32, w*3)
}

func (c *rowCache) get(y int) []float32 {
	for i := range c.idx {
		if c.idx[i] == y {
			c.last = i
			return c.buf[i]
		}
	}
	// Evict the row not handed out last: it may still be in use as "top".
	slot := 1 - c.last
	c.last = slot
	c.idx[slot] = y
	out := c.buf[slot]
	row := c.pix[y*c.stride : y*c.stride+c.rowLen]
	for ox, t := range c.xs {
		a0, a1 := t.i0*3, t.i1*3
		w1 := t.w
		w0 := 1 - w1
		k := ox * 3
		out[k] = float32(row[a0])*w0 + float32(row[a1])*w1
		out[k+1] = float32(row[a0+1])*w0 + float32(row[a1+1])*w1
		out[k+2] = float32(row[a0+2])*w0 + float32(row[a1+2])*w1
	}
	return out
}

func (l Letterbox) fillPadding(dst []float32) {
	if l.ScaledW == l.DstW && l.ScaledH == l.DstH {
		return
	}
	for i := range dst {
		dst[i] = padValue
	}
}

type tap struct {
	i0, i1 int
	w      float32
}

// taps precomputes, for each output coordinate, the two source samples and
// the weight of the second (pixel-centre aligned, like OpenCV INTER_LINEAR).
func (l Letterbox) taps(out, in int) []tap {
	t := make([]tap, out)
	ratio := float64(in) / float64(out)
	for o := range t {
		x := (float64(o)+0.5)*ratio - 0.5
		if x < 0 {
			x = 0
		}
		i0 := int(x)
		if i0 > in-1 {
			i0 = in - 1
		}
		i1 := i0 + 1
		if i1 > in-1 {
			i1 = in - 1
		}
		t[o] = tap{i0: i0, i1: i1, w: float32(x - float64(i0))}
	}
	return t
}

// DecodeOptions filter raw model outputs.
type DecodeOptions struct {
	Conf    float32  // minimum class score kept (0.1 lets ByteTrack's second stage see weak boxes)
	IoU     float64  // NMS overlap threshold within a class group
	Classes ClassSet // classes kept; empty keeps every kept class
	MaxDet  int      // at most this many detections after NMS (0: 300)
}

// DecodeYOLOv8 turns a YOLOv8 output tensor of shape [1, 4+nc, anchors]
// (rows: cx, cy, w, h, then one score per class) into detections in model
// input pixels, after confidence filtering and grouped NMS.
func DecodeYOLOv8(out []float32, shape []int64, opt DecodeOptions) ([]Detection, error) {
	if len(shape) != 3 || shape[0] != 1 || shape[1] < 5 || shape[2] < 1 {
		return nil, fmt.Errorf("yolov8 output: unexpected shape %v (want [1, 4+classes, anchors])", shape)
	}
	rows, n := int(shape[1]), int(shape[2])
	if int64(len(out)) != int64(rows)*int64(n) {
		return nil, fmt.Errorf("yolov8 output: %d values for shape %v", len(out), shape)
	}
	var dets []Detection
	for a := 0; a < n; a++ {
		best, cls := float32(0), -1
		for c := 0; c < rows-4; c++ {
			s := out[(4+c)*n+a]
			if s > best && opt.Classes.Allows(Class(c)) {
				best, cls = s, c
			}
		}
		// A score of +Inf (a broken export or input) is not a confidence.
		if cls < 0 || !(best >= opt.Conf) || !finite(float64(best)) {
			continue
		}
		cx, cy, w, h := float64(out[a]), float64(out[n+a]), float64(out[2*n+a]), float64(out[3*n+a])
		if !finite(cx, cy, w, h) || w <= 0 || h <= 0 {
			continue
		}
		dets = append(dets, Detection{Box: geom.Box{X: cx - w/2, Y: cy - h/2, W: w, H: h}, Class: Class(cls), Score: best})
	}
	maxDet := opt.MaxDet
	if maxDet <= 0 {
		maxDet = 300
	}
	return NMS(dets, opt.IoU, maxDet), nil
}

func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// NMS keeps the highest-scoring box of each overlapping cluster. Boxes only
// suppress boxes of the same class group, so all vehicle classes compete
// (one car is not also a truck) while a person never suppresses a bicycle.
func NMS(dets []Detection, iou float64, maxDet int) []Detection {
	sort.SliceStable(dets, func(i, j int) bool { return dets[i].Score > dets[j].Score })
	kept := make([]Detection, 0, len(dets))
	for _, d := range dets {
		ok := true
		for _, k := range kept {
			if k.Class.Group() == d.Class.Group() && k.Box.IoU(d.Box) > iou {
				ok = false
				break
			}
		}
		if ok {
			kept = append(kept, d)
			if len(kept) == maxDet {
				break
			}
		}
	}
	return kept
}
