package motion

import "math"

// plane is a single-channel float image.
type plane struct {
	w, h int
	pix  []float32
}

func newPlane(w, h int) plane { return plane{w: w, h: h, pix: make([]float32, w*h)} }

// at returns the pixel at (x, y) with coordinates clamped to the image.
func (p plane) at(x, y int) float32 {
	x = min(max(x, 0), p.w-1)
	y = min(max(y, 0), p.h-1)
	return p.pix[y*p.w+x]
}

// sample interpolates bilinearly; outside the image the border repeats.
func (p plane) sample(x, y float32) float32 {
	x = min(max(x, 0), float32(p.w-1))
	y = min(max(y, 0), float32(p.h-1))
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, p.w-1), min(y0+1, p.h-1)
	fx, fy := x-float32(x0), y-float32(y0)
	r0 := p.pix[y0*p.w+x0]*(1-fx) + p.pix[y0*p.w+x1]*fx
	r1 := p.pix[y1*p.w+x0]*(1-fx) + p.pix[y1*p.w+x1]*fx
	return r0*(1-fy) + r1*fy
}

// blur3 applies the separable [1 2 1]/4 binomial filter: LK gradients of a
// JPEG frame are otherwise dominated by block and sensor noise.
func blur3(p plane) plane {
	tmp, out := newPlane(p.w, p.h), newPlane(p.w, p.h)
	for y := 0; y < p.h; y++ {
		for x := 0; x < p.w; x++ {
			tmp.pix[y*p.w+x] = (p.at(x-1, y) + 2*p.at(x, y) + p.at(x+1, y)) / 4
		}
	}
	for y := 0; y < p.h; y++ {
		for x := 0; x < p.w; x++ {
			out.pix[y*p.w+x] = (tmp.at(x, y-1) + 2*tmp.at(x, y) + tmp.at(x, y+1)) / 4
		}
	}
	return out
}

// half downsamples 2×2 by averaging (odd trailing rows/columns are dropped).
func half(p plane) plane {
	w, h := p.w/2, p.h/2
	out := newPlane(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := 2*y*p.w + 2*x
			out.pix[y*w+x] = (p.pix[i] + p.pix[i+1] + p.pix[i+p.w] + p.pix[i+p.w+1]) / 4
		}
	}
	return out
}

// boxMean replaces every pixel by the mean over the (2r+1)² window around it,
// repeating the border so every window has the same weight.
func boxMean(p plane, r int) plane { return boxFilter(p, r, false) }

// boxMeanZero is boxMean with zeros outside the image: a window that hangs
// over the border is only partly filled, instead of giving the edge pixels
// up to (r+1)² times their weight.
func boxMeanZero(p plane, r int) plane { return boxFilter(p, r, true) }

// boxFilter computes separable running means; zero selects zeros outside the
// image instead of the repeated border.
func boxFilter(p plane, r int, zero bool) plane {
	w, h := p.w, p.h
	tmp, out := newPlane(w, h), newPlane(w, h)
	n := float32(2*r + 1)
	row := make([]float32, w+2*r+1)
	for y := 0; y < h; y++ {
		src := p.pix[y*w : (y+1)*w]
		for i := range row {
			x := i - r - 1
			switch {
			case x >= 0 && x < w:
				row[i] = src[x]
			case zero:
				row[i] = 0
			default:
				row[i] = src[min(max(x, 0), w-1)]
			}
		}
		var s float32
		for i := 0; i < 2*r+1; i++ {
			s += row[i]
		}
		dst := tmp.pix[y*w : (y+1)*w]
		for x := range dst {
			s += row[x+2*r+1] - row[x]
			dst[x] = s / n
		}
	}
	// Vertical pass: running column sums, one row in and one out per step.
	rowOf := func(y int) []float32 {
		if zero && (y < 0 || y >= h) {
			return nil
		}
		y = min(max(y, 0), h-1)
		return tmp.pix[y*w : (y+1)*w]
	}
	col := make([]float32, w)
	for y := -r - 1; y < r; y++ {
		for x, v := range rowOf(y) {
			col[x] += v
		}
	}
	for y := 0; y < h; y++ {
		in, gone := rowOf(y+r), rowOf(y-r-1)
		dst := out.pix[y*w : (y+1)*w]
		for x := range dst {
			if in != nil {
				col[x] += in[x]
			}
			if gone != nil {
				col[x] -= gone[x]
			}
			dst[x] = col[x] / n
		}
	}
	return out
}

// flowParams configures lkFlow.
type flowParams struct {
	levels int     // pyramid levels (1 = full resolution only)
	iters  int     // warping iterations per level
	radius int     // LK window radius in pixels at every level
	lambda float32 // Tikhonov term: pulls flow to 0 where texture is weak
}

var defaultFlow = flowParams{levels: 3, iters: 3, radius: 3, lambda: 4}

// lkFlow estimates dense optical flow from prev to cur with coarse-to-fine
// iterative Lucas–Kanade: at pixel p, prev(p) ≈ cur(p + (u,v)).
func lkFlow(prev, cur plane, fp flowParams) (u, v plane) {
	p0 := pyramid(blur3(prev), fp.levels)
	p1 := pyramid(blur3(cur), fp.levels)
	for l := len(p0) - 1; l >= 0; l-- {
		if l == len(p0)-1 {
			u, v = newPlane(p0[l].w, p0[l].h), newPlane(p0[l].w, p0[l].h)
		} else {
			u, v = upFlow(u, p0[l].w, p0[l].h), upFlow(v, p0[l].w, p0[l].h)
		}
		lkLevel(p0[l], p1[l], u, v, fp)
	}
	return u, v
}

func pyramid(p plane, levels int) []plane {
	out := []plane{p}
	for len(out) < levels && p.w >= 16 && p.h >= 16 {
		p = half(p)
		out = append(out, p)
	}
	return out
}

// upFlow doubles a flow component to the next finer level of size w×h.
func upFlow(f plane, w, h int) plane {
	out := newPlane(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			out.pix[y*w+x] = 2 * f.sample((float32(x)-0.5)/2, (float32(y)-0.5)/2)
		}
	}
	return out
}

// lkLevel refines (u, v) in place on one pyramid level. The structure tensor
// comes from prev, so only the temporal term changes between iterations.
func lkLevel(prev, cur, u, v plane, fp flowParams) {
	w, h := prev.w, prev.h
	gx, gy := newPlane(w, h), newPlane(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			gx.pix[y*w+x] = (prev.at(x+1, y) - prev.at(x-1, y)) / 2
			gy.pix[y*w+x] = (prev.at(x, y+1) - prev.at(x, y-1)) / 2
		}
	}
	xx, xy, yy := newPlane(w, h), newPlane(w, h), newPlane(w, h)
	for i := range gx.pix {
		xx.pix[i] = gx.pix[i] * gx.pix[i]
		xy.pix[i] = gx.pix[i] * gy.pix[i]
		yy.pix[i] = gy.pix[i] * gy.pix[i]
	}
	sxx, sxy, syy := boxMean(xx, fp.radius), boxMean(xy, fp.radius), boxMean(yy, fp.radius)
	xt, yt := newPlane(w, h), newPlane(w, h)
	for range fp.iters {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				i := y*w + x
				it := cur.sample(float32(x)+u.pix[i], float32(y)+v.pix[i]) - prev.pix[i]
				xt.pix[i] = gx.pix[i] * it
				yt.pix[i] = gy.pix[i] * it
			}
		}
		sxt, syt := boxMean(xt, fp.radius), boxMean(yt, fp.radius)
		for i := range u.pix {
			a, b, d := sxx.pix[i]+fp.lambda, sxy.pix[i], syy.pix[i]+fp.lambda
			det := a*d - b*b
			du := -(d*sxt.pix[i] - b*syt.pix[i]) / det
			dv := -(a*syt.pix[i] - b*sxt.pix[i]) / det
			u.pix[i] += du
			v.pix[i] += dv
		}
	}
}

// magnitude returns the per-pixel length of the flow (u, v).
func magnitude(u, v plane) plane {
	out := newPlane(u.w, u.h)
	for i := range u.pix {
		out.pix[i] = float32(math.Hypot(float64(u.pix[i]), float64(v.pix[i])))
	}
	return out
}
