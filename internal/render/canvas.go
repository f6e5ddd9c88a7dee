// Package render draws Vigil's overlays — boxes, labels, trails, zones and a
// heads-up text block — onto packed RGB24 frames in place.
//
// It runs on every frame of an annotated video, so drawing writes straight
// into the frame's byte slice: no image.Image, no per-pixel interface calls.
// Every primitive clips to the frame: coordinates that are negative, far
// outside the frame, NaN or infinite, and boxes of zero or negative size never
// panic and never write outside the canvas.
//
// Colours are color.RGBA, which is alpha-premultiplied: A == 255 paints
// opaquely, a smaller A blends over what is there, and the zero colour draws
// nothing.
package render

import (
	"image"
	"image/color"
	"math"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/geom"
)

// Canvas is a packed RGB24 picture, row-major, W*H*3 bytes in Pix. Drawing
// methods modify Pix in place. A canvas whose Pix is shorter than W*H*3, or
// whose W or H is not positive, is treated as empty: every method is then a
// no-op.
type Canvas struct {
	W, H int
	Pix  []byte
}

// FromFrame returns a canvas drawing onto f.Pix in place.
func FromFrame(f *decode.Frame) Canvas {
	if f == nil {
		return Canvas{}
	}
	return Canvas{W: f.Width, H: f.Height, Pix: f.Pix}
}

// maxThickness bounds stroke widths so that a silly argument cannot turn a
// line into a full-frame fill for every pixel of its length.
const maxThickness = 64

// maxCoord is the largest magnitude a coordinate may have; points beyond it
// (and NaN or infinite ones) are not drawable. It keeps float arithmetic in
// clipping well away from overflow.
const maxCoord = 1e12

// ok reports whether the canvas is drawable.
func (c Canvas) ok() bool {
	return c.W > 0 && c.H > 0 && c.W <= math.MaxInt32/3 && c.H <= math.MaxInt32 &&
		len(c.Pix) >= c.W*c.H*3 && c.W*c.H*3 >= 0
}

// paint is a colour ready for blending: premultiplied components and the
// inverse alpha.
type paint struct {
	r, g, b uint32
	inv     uint32 // 255 - A
	opaque  bool
	none    bool
}

func mkPaint(c color.RGBA) paint {
	p := paint{r: uint32(c.R), g: uint32(c.G), b: uint32(c.B), inv: 255 - uint32(c.A)}
	// Premultiplied components may not exceed alpha; clamp malformed input.
	if p.r > uint32(c.A) {
		p.r = uint32(c.A)
	}
	if p.g > uint32(c.A) {
		p.g = uint32(c.A)
	}
	if p.b > uint32(c.A) {
		p.b = uint32(c.A)
	}
	p.opaque = c.A == 255
	p.none = c.A == 0
	return p
}

// scaled returns the paint with its coverage multiplied by a/255.
func (p paint) scaled(a uint32) paint {
	if a >= 255 {
		return p
	}
	alpha := (255 - p.inv) * a / 255
	q := paint{r: p.r * a / 255, g: p.g * a / 255, b: p.b * a / 255, inv: 255 - alpha}
	q.opaque = alpha == 255
	q.none = alpha == 0
	return q
}

// div255 is x/255 rounded, for x in [0, 255*255].
func div255(x uint32) uint32 { return (x + 1 + (x >> 8)) >> 8 }

// blend paints one pixel at s[0:3].
func (p paint) blend(s []byte) {
	_ = s[2]
	s[0] = byte(p.r + div255(uint32(s[0])*p.inv))
	s[1] = byte(p.g + div255(uint32(s[1])*p.inv))
	s[2] = byte(p.b + div255(uint32(s[2])*p.inv))
}

// fill paints the pixels of the half-open rectangle [x0,x1)×[y0,y1), clipped
// to the canvas.
func (c Canvas) fill(x0, y0, x1, y1 int, p paint) {
	if p.none {
		return
	}
	x0, y0 = max(x0, 0), max(y0, 0)
	x1, y1 = min(x1, c.W), min(y1, c.H)
	if x0 >= x1 || y0 >= y1 {
		return
	}
	stride := c.W * 3
	n := (x1 - x0) * 3
	if p.opaque {
		first := c.Pix[y0*stride+x0*3 : y0*stride+x0*3+n]
		first[0], first[1], first[2] = byte(p.r), byte(p.g), byte(p.b)
		for k := 3; k < n; k *= 2 {
			copy(first[k:], first[:k])
		}
		for y := y0 + 1; y < y1; y++ {
			off := y*stride + x0*3
			copy(c.Pix[off:off+n], first)
		}
		return
	}
	for y := y0; y < y1; y++ {
		row := c.Pix[y*stride+x0*3 : y*stride+x0*3+n]
		for i := 0; i+2 < len(row); i += 3 {
			p.blend(row[i : i+3])
		}
	}
}

// Fill paints the box's pixels with col, clipped to the canvas.
func (c Canvas) Fill(b geom.Box, col color.RGBA) {
	if !c.ok() {
		return
	}
	x0, y0, x1, y1, ok := boxPixels(b)
	if !ok {
		return
	}
	c.fill(x0, y0, x1, y1, mkPaint(col))
}

// finite reports whether v is a drawable coordinate.
func finite(v float64) bool { return v >= -maxCoord && v <= maxCoord } // false for NaN

// pix converts a drawable coordinate to the pixel index containing it,
// clamped far enough outside any canvas that clipping still works.
func pix(v float64) int {
	v = math.Floor(v)
	const lim = 1 << 30
	if v < -lim {
		return -lim
	}
	if v > lim {
		return lim
	}
	return int(v)
}

// boxPixels converts b to a half-open pixel rectangle [x0,x1)×[y0,y1): the
// pixels whose centres lie inside the box, widened to at least one pixel for
// a box of positive size. ok is false for degenerate or undrawable boxes.
func boxPixels(b geom.Box) (x0, y0, x1, y1 int, ok bool) {
	if !finite(b.X) || !finite(b.Y) || !finite(b.W) || !finite(b.H) || !(b.W > 0) || !(b.H > 0) {
		return 0, 0, 0, 0, false
	}
	x2, y2 := b.X+b.W, b.Y+b.H
	x0, y0 = pix(b.X+0.5), pix(b.Y+0.5)
	x1, y1 = pix(x2+0.5), pix(y2+0.5)
	if x1 <= x0 {
		x1 = x0 + 1
	}
	if y1 <= y0 {
		y1 = y0 + 1
	}
	return x0, y0, x1, y1, true
}

func clampThickness(t int) int {
	if t < 1 {
		return 1
	}
	if t > maxThickness {
		return maxThickness
	}
	return t
}

// Rect strokes the outline of b with col, thickness pixels wide, drawn on the
// inside of the box so that the outline never grows past it. Thickness below
// 1 is 1; a very large thickness is capped.
func (c Canvas) Rect(b geom.Box, col color.RGBA, thickness int) {
	if !c.ok() {
		return
	}
	x0, y0, x1, y1, ok := boxPixels(b)
	if !ok {
		return
	}
	p := mkPaint(col)
	if p.none {
		return
	}
	t := clampThickness(thickness)
	if 2*t >= x1-x0 || 2*t >= y1-y0 {
		c.fill(x0, y0, x1, y1, p)
		return
	}
	c.fill(x0, y0, x1, y0+t, p)     // top
	c.fill(x0, y1-t, x1, y1, p)     // bottom
	c.fill(x0, y0+t, x0+t, y1-t, p) // left
	c.fill(x1-t, y0+t, x1, y1-t, p) // right
}

// Line strokes the segment from a to b with a square brush thickness pixels
// wide. Points that are NaN, infinite or absurdly far away draw nothing.
func (c Canvas) Line(a, b geom.Point, col color.RGBA, thickness int) {
	if !c.ok() {
		return
	}
	p := mkPaint(col)
	if p.none {
		return
	}
	c.line(a, b, p, clampThickness(thickness), false)
}

// line draws a segment. When skipFirst is set the first pixel is left out,
// so that joined segments of a translucent polyline do not paint their shared
// vertex twice.
func (c Canvas) line(a, b geom.Point, p paint, t int, skipFirst bool) {
	if !finite(a.X) || !finite(a.Y) || !finite(b.X) || !finite(b.Y) {
		return
	}
	// Clip to the canvas grown by the brush so the loop below only ever
	// visits pixels that can touch the frame.
	m := float64(t + 1)
	ax, ay, bx, by, ok := clipSegment(a.X, a.Y, b.X, b.Y, -m, -m, float64(c.W)+m, float64(c.H)+m)
	if !ok {
		return
	}
	x0, y0, x1, y1 := pix(ax), pix(ay), pix(bx), pix(by)
	lo := (t - 1) / 2 // brush covers [x-lo, x-lo+t)
	dx, dy := x1-x0, y1-y0
	if dx < 0 {
		dx = -dx
	}
	if dy < 0 {
		dy = -dy
	}
	sx, sy := 1, 1
	if x0 > x1 {
		sx = -1
	}
	if y0 > y1 {
		sy = -1
	}
	err := dx - dy
	first := true
	for {
		if !(first && skipFirst) {
			if t == 1 {
				if uint(x0) < uint(c.W) && uint(y0) < uint(c.H) {
					i := (y0*c.W + x0) * 3
					if p.opaque {
						c.Pix[i], c.Pix[i+1], c.Pix[i+2] = byte(p.r), byte(p.g), byte(p.b)
					} else {
						p.blend(c.Pix[i : i+3])
					}
				}
			} else {
				// A translucent thick line blends overlapping brush
				// stamps more than once; overlays use opaque strokes.
				c.fill(x0-lo, y0-lo, x0-lo+t, y0-lo+t, p)
			}
		}
		first = false
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * err
		if e2 > -dy {
			err -= dy
			x0 += sx
		}
		if e2 < dx {
			err += dx
			y0 += sy
		}
	}
}

// clipSegment clips the segment to the rectangle [xmin,xmax]×[ymin,ymax]
// (Liang–Barsky). ok is false when nothing of it is inside.
func clipSegment(x0, y0, x1, y1, xmin, ymin, xmax, ymax float64) (ax, ay, bx, by float64, ok bool) {
	dx, dy := x1-x0, y1-y0
	t0, t1 := 0.0, 1.0
	edge := func(p, q float64) bool {
		if p == 0 {
			return q >= 0
		}
		r := q / p
		if p < 0 {
			if r > t1 {
				return false
			}
			if r > t0 {
				t0 = r
			}
		} else {
			if r < t0 {
				return false
			}
			if r < t1 {
				t1 = r
			}
		}
		return true
	}
	if !edge(-dx, x0-xmin) || !edge(dx, xmax-x0) || !edge(-dy, y0-ymin) || !edge(dy, ymax-y0) {
		return 0, 0, 0, 0, false
	}
	return x0 + t0*dx, y0 + t0*dy, x0 + t1*dx, y0 + t1*dy, true
}

// Polyline strokes the segments joining consecutive points. Segments with an
// undrawable end point are skipped.
func (c Canvas) Polyline(pts []geom.Point, col color.RGBA, thickness int) {
	if !c.ok() || len(pts) == 0 {
		return
	}
	p := mkPaint(col)
	if p.none {
		return
	}
	t := clampThickness(thickness)
	if len(pts) == 1 {
		c.line(pts[0], pts[0], p, t, false)
		return
	}
	for i := 1; i < len(pts); i++ {
		// Translucent thin lines skip the shared vertex so it is not
		// blended twice.
		c.line(pts[i-1], pts[i], p, t, i > 1 && !p.opaque && t == 1)
	}
}

// FillPolygon fills the inside of the polygon (even–odd rule, sampling pixel
// centres) with col's colour at the given alpha (0 transparent, 255 opaque),
// leaving its outline alone. It needs at least three drawable points; a
// polygon with any undrawable point draws nothing.
func (c Canvas) FillPolygon(pts []geom.Point, col color.RGBA, alpha uint8) {
	if !c.ok() || len(pts) < 3 || alpha == 0 {
		return
	}
	minY, maxY := math.Inf(1), math.Inf(-1)
	for _, q := range pts {
		if !finite(q.X) || !finite(q.Y) {
			return
		}
		minY, maxY = math.Min(minY, q.Y), math.Max(maxY, q.Y)
	}
	p := mkPaint(color.RGBA{R: col.R, G: col.G, B: col.B, A: 255}).scaled(uint32(alpha))
	if p.none {
		return
	}
	ys := max(pix(minY-0.5), 0)
	ye := min(pix(maxY+0.5), c.H-1)
	var stack [32]float64
	xs := stack[:0]
	for y := ys; y <= ye; y++ {
		sy := float64(y) + 0.5
		xs = xs[:0]
		j := len(pts) - 1
		for i := range pts {
			a, b := pts[j], pts[i]
			j = i
			if (a.Y <= sy) == (b.Y <= sy) {
				continue
			}
			xs = append(xs, a.X+(sy-a.Y)*(b.X-a.X)/(b.Y-a.Y))
		}
		sortFloats(xs)
		for k := 0; k+1 < len(xs); k += 2 {
			// Pixels whose centre x+0.5 lies in [xa, xb).
			x0 := pix(math.Ceil(xs[k] - 0.5))
			x1 := pix(math.Ceil(xs[k+1] - 0.5))
			c.fill(x0, y, x1, y+1, p)
		}
	}
}

// Polygon fills the polygon with col at fillAlpha (0 for no fill) and strokes
// its closed outline opaquely, 2 pixels wide. It is the zone overlay. A
// polygon with any undrawable point draws nothing.
func (c Canvas) Polygon(pts []geom.Point, col color.RGBA, fillAlpha uint8) {
	if !c.ok() || len(pts) == 0 {
		return
	}
	for _, q := range pts {
		if !finite(q.X) || !finite(q.Y) {
			return
		}
	}
	c.FillPolygon(pts, col, fillAlpha)
	outline := color.RGBA{R: col.R, G: col.G, B: col.B, A: 255}
	c.Polyline(pts, outline, 2)
	if len(pts) > 2 {
		c.Line(pts[len(pts)-1], pts[0], outline, 2)
	}
}

// sortFloats is an insertion sort: polygon crossings per row are few.
func sortFloats(xs []float64) {
	for i := 1; i < len(xs); i++ {
		v := xs[i]
		j := i - 1
		for j >= 0 && xs[j] > v {
			xs[j+1] = xs[j]
			j--
		}
		xs[j+1] = v
	}
}

// RGBA copies rectangle r of the canvas (clipped to it) into a new opaque
// image whose bounds start at (0, 0), for the image encoders.
func (c Canvas) RGBA(r image.Rectangle) *image.RGBA {
	r = r.Intersect(image.Rect(0, 0, c.W, c.H))
	img := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	if len(c.Pix) < c.W*c.H*3 {
		return img
	}
	for y := range r.Dy() {
		src := c.Pix[((r.Min.Y+y)*c.W+r.Min.X)*3:]
		dst := img.Pix[y*img.Stride:]
		for x := range r.Dx() {
			dst[4*x], dst[4*x+1], dst[4*x+2], dst[4*x+3] = src[3*x], src[3*x+1], src[3*x+2], 255
		}
	}
	return img
}
