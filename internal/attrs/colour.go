package attrs

import (
	"math"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/search"
)

// Thresholds of the colour naming, in CIELAB units (L 0–100).
const (
	achromaticC = 13 // below this chroma a pixel is black, grey or white
	blackL      = 32 // achromatic darker than this is black
	whiteL      = 72 // achromatic lighter than this is white
	darkL       = 20 // any pixel this dark reads as black
	pinkL       = 65 // red or purple lighter than this is pink
	brownL      = 48 // red, orange or yellow darker than this is brown
)

// histogram counts pixels per named colour (index in search.Colours).
type histogram [16]float64

func (h *histogram) add(o *histogram, w float64) {
	for i := range h {
		h[i] += w * o[i]
	}
}

func (h *histogram) total() float64 {
	var s float64
	for _, x := range h {
		s += x
	}
	return s
}

// names lists the colours covering at least minShare of the pixels, most
// present first, at most max; the most present one when none does.
func (h *histogram) names(minShare float64, maxN int) []string {
	tot := h.total()
	if tot == 0 {
		return nil
	}
	type cs struct {
		i int
		n float64
	}
	var list []cs
	best := cs{-1, 0}
	for i, n := range h {
		if n > best.n {
			best = cs{i, n}
		}
		if n/tot >= minShare {
			list = append(list, cs{i, n})
		}
	}
	for a := 1; a < len(list); a++ { // insertion sort, descending, stable
		for b := a; b > 0 && list[b].n > list[b-1].n; b-- {
			list[b], list[b-1] = list[b-1], list[b]
		}
	}
	if len(list) == 0 {
		list = []cs{best}
	}
	var out []string
	for _, c := range list[:min(len(list), maxN)] {
		out = append(out, search.Colours[c.i])
	}
	return out
}

// paintedBlack is the share of a vehicle's region that must be black for
// the vehicle to be called black. Glass, tyres, grille, wheel arches and
// the shadow underneath are dark on a car of any colour and fill a third
// to a half of a front, rear or top view, so black that covers less than
// two thirds says nothing about the paint.
const paintedBlack = 2.0 / 3

// vehicleNames names a vehicle's colours: its paint is what is left once
// the dark parts every vehicle has are set aside, unless black covers so
// much that the paint itself must be black.
func (h *histogram) vehicleNames(minShare float64, maxN int) []string {
	tot := h.total()
	black := colourIndex("black")
	if tot == 0 || h[black]/tot >= paintedBlack || h[black] == tot {
		return h.names(minShare, maxN)
	}
	paint := *h
	paint[black] = 0
	return paint.names(minShare, maxN)
}

// gains are the grey-world white-balance gains of one frame.
type gains [3]float64

// greyWorld computes gains that make the frame's mean grey, from a
// subsample of its pixels, clamped to [0.6, 1.6].
func greyWorld(f *decode.Frame) gains {
	var sum [3]float64
	n := 0
	for y := 0; y < f.Height; y += 8 {
		row := f.Pix[y*f.Width*3:]
		for x := 0; x < f.Width; x += 8 {
			for c := range 3 {
				sum[c] += float64(row[x*3+c])
			}
			n++
		}
	}
	g := gains{1, 1, 1}
	if n == 0 {
		return g
	}
	mean := (sum[0] + sum[1] + sum[2]) / 3
	for c := range 3 {
		if sum[c] > 0 {
			g[c] = math.Max(0.6, math.Min(1.6, mean/sum[c]))
		}
	}
	return g
}

// regionHistogram names the pixels of box (clipped to the frame) after
// white balance, looking at every step-th pixel.
func regionHistogram(f *decode.Frame, b geom.Box, g gains, step int) histogram {
	var h histogram
	b = b.Clip(float64(f.Width), float64(f.Height))
	x0, y0 := int(b.X), int(b.Y)
	x1, y1 := int(b.X2()), int(b.Y2())
	for y := y0; y < y1; y += step {
		for x := x0; x < x1; x += step {
			p := f.Pix[(y*f.Width+x)*3:]
			h[nameRGB(float64(p[0])*g[0], float64(p[1])*g[1], float64(p[2])*g[2])]++
		}
	}
	return h
}

// nameRGB names an sRGB colour (0–255 per channel, may exceed 255 after
// white balance) as an index in search.Colours.
func nameRGB(r, g, b float64) int {
	l, a, bb := lab(r, g, b)
	c := math.Hypot(a, bb)
	switch {
	case l < darkL && c < 30:
		return colourIndex("black")
	case c < achromaticC:
		switch {
		case l < blackL:
			return colourIndex("black")
		case l > whiteL:
			return colourIndex("white")
		}
		return colourIndex("grey")
	}
	return colourIndex(hueName(l, c, math.Mod(math.Atan2(bb, a)*180/math.Pi+360, 360)))
}

// hueName names a chromatic colour by its CIELAB hue angle.
func hueName(l, c, h float64) string {
	switch {
	case h < 40 || h >= 345:
		if l > pinkL {
			return "pink"
		}
		if l < brownL && c < 40 {
			return "brown"
		}
		return "red"
	case h < 70:
		if l < brownL {
			return "brown"
		}
		return "orange"
	case h < 105:
		if l < brownL+5 {
			return "brown"
		}
		return "yellow"
	case h < 195:
		return "green"
	case h < 312:
		return "blue"
	}
	if l > pinkL {
		return "pink"
	}
	return "purple"
}

var colourIdx = func() map[string]int {
	m := map[string]int{}
	for i, n := range search.Colours {
		m[n] = i
	}
	return m
}()

func colourIndex(name string) int { return colourIdx[name] }

// lab converts sRGB (0–255, D65) to CIELAB.
func lab(r, g, b float64) (l, a, bb float64) {
	rl, gl, bl := linear(r/255), linear(g/255), linear(b/255)
	x := (0.4124*rl + 0.3576*gl + 0.1805*bl) / 0.95047
	y := 0.2126*rl + 0.7152*gl + 0.0722*bl
	z := (0.0193*rl + 0.1192*gl + 0.9505*bl) / 1.08883
	fx, fy, fz := labF(x), labF(y), labF(z)
	return 116*fy - 16, 500 * (fx - fy), 200 * (fy - fz)
}

// linear is the sRGB transfer function's inverse, via a table.
func linear(v float64) float64 {
	v = math.Max(0, math.Min(1, v))
	return linTable[int(v*1023+0.5)]
}

var linTable = func() [1024]float64 {
	var t [1024]float64
	for i := range t {
		v := float64(i) / 1023
		if v <= 0.04045 {
			t[i] = v / 12.92
		} else {
			t[i] = math.Pow((v+0.055)/1.055, 2.4)
		}
	}
	return t
}()

func labF(t float64) float64 {
	if t > 216.0/24389 {
		return math.Cbrt(t)
	}
	return t*24389/27/116 + 16.0/116
}
