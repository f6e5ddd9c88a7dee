package reid

import (
	"math"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/geom"
)

// ImageNet mean and std per RGB channel, the normalisation OSNet was
// trained with.
var (
	mean = [3]float32{0.485, 0.456, 0.406}
	std  = [3]float32{0.229, 0.224, 0.225}
)

// Fill writes the crop of f at box, resized bilinearly to InputW×InputH
// (half-pixel centres, as OpenCV and PIL sample) and normalised, into dst
// as planar RGB (3·InputH·InputW floats, CHW). The box is clipped to the
// frame; an empty one leaves dst at the normalised value of black.
func Fill(dst []float32, f *decode.Frame, box geom.Box) {
	c := box.Clip(float64(f.Width), float64(f.Height))
	plane := InputH * InputW
	if c.W < 1 || c.H < 1 {
		for ch := range 3 {
			for i := range plane {
				dst[ch*plane+i] = -mean[ch] / std[ch]
			}
		}
		return
	}
	xs := axis(c.X, c.W, InputW)
	sy := c.H / InputH
	for y := range InputH {
		y0, y1, wy := sample(c.Y, sy, y, c.Y2())
		r0 := f.Pix[y0*f.Width*3:]
		r1 := f.Pix[y1*f.Width*3:]
		for x, s := range xs {
			for ch := range 3 {
				a := lerp(r0[s.i0*3+ch], r0[s.i1*3+ch], s.w)
				b := lerp(r1[s.i0*3+ch], r1[s.i1*3+ch], s.w)
				v := (a + (b-a)*wy) / 255
				dst[ch*plane+y*InputW+x] = (v - mean[ch]) / std[ch]
			}
		}
	}
}

type tap struct {
	i0, i1 int
	w      float32
}

// axis precomputes the horizontal taps of one row.
func axis(x0, w float64, n int) []tap {
	s := w / float64(n)
	taps := make([]tap, n)
	for x := range taps {
		i0, i1, wx := sample(x0, s, x, x0+w)
		taps[x] = tap{i0, i1, wx}
	}
	return taps
}

// sample maps output index i to the two source pixels around it and the
// weight of the second, clamped to the crop [origin, end) as if the crop
// had been cut out first and then resized.
func sample(origin, scale float64, i int, end float64) (int, int, float32) {
	lo, hi := math.Floor(origin), math.Ceil(end)-1
	p := origin + (float64(i)+0.5)*scale - 0.5
	p = math.Max(lo, math.Min(p, hi))
	i0 := int(p)
	i1 := min(i0+1, int(hi))
	return i0, i1, float32(p - float64(i0))
}

func lerp(a, b byte, w float32) float32 {
	return float32(a) + (float32(b)-float32(a))*w
}
