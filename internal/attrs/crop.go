package attrs

import (
	"image"
	"math"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/track"
)

// part is the sub-box of b between fractions x0..x1 of its width and
// y0..y1 of its height.
func part(b geom.Box, x0, x1, y0, y1 float64) geom.Box {
	return geom.Box{X: b.X + x0*b.W, Y: b.Y + y0*b.H, W: (x1 - x0) * b.W, H: (y1 - y0) * b.H}
}

// occlusion is the largest share of track i's box covered by another
// track's box.
func occlusion(tracks []track.Track, i int) float64 {
	b := tracks[i].Box
	if b.Area() == 0 {
		return 1
	}
	var worst float64
	for j := range tracks {
		if j != i {
			worst = math.Max(worst, b.Intersection(tracks[j].Box)/b.Area())
		}
	}
	return worst
}

// atBorder reports a box touching the frame's edge (cut off).
func atBorder(f *decode.Frame, b geom.Box) bool {
	const m = 2
	return b.X < m || b.Y < m || b.X2() > float64(f.Width-m) || b.Y2() > float64(f.Height-m)
}

// sharpness is 1 plus the mean absolute Laplacian of the box's grey
// levels (every second pixel), normalised to about 1 for a crisp crop.
func sharpness(f *decode.Frame, b geom.Box) float64 {
	x0, y0 := max(int(b.X), 1), max(int(b.Y), 1)
	x1, y1 := min(int(b.X2()), f.Width-1), min(int(b.Y2()), f.Height-1)
	grey := func(x, y int) float64 {
		p := f.Pix[(y*f.Width+x)*3:]
		return 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
	}
	var sum float64
	n := 0
	for y := y0; y < y1; y += 2 {
		for x := x0; x < x1; x += 2 {
			sum += math.Abs(4*grey(x, y) - grey(x-1, y) - grey(x+1, y) - grey(x, y-1) - grey(x, y+1))
			n++
		}
	}
	if n == 0 {
		return 1
	}
	return 1 + sum/float64(n)/32
}

// thumbnail copies box out of f scaled to height h (nearest neighbour).
func thumbnail(f *decode.Frame, b geom.Box, h int) *image.RGBA {
	w := max(1, int(math.Round(b.W*float64(h)/math.Max(b.H, 1))))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		sy := min(f.Height-1, max(0, int(b.Y+(float64(y)+0.5)*b.H/float64(h))))
		for x := range w {
			sx := min(f.Width-1, max(0, int(b.X+(float64(x)+0.5)*b.W/float64(w))))
			p := f.Pix[(sy*f.Width+sx)*3:]
			o := img.PixOffset(x, y)
			img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = p[0], p[1], p[2], 255
		}
	}
	return img
}
