package detplan

import (
	"image"
	"math"
	"sort"

	"github.com/vigil-cctv/vigil/internal/geom"
)

// Region is one crop of a plan: Rect in frame pixels, Input the model
// input (width, height) the detector runs it at.
type Region struct {
	Rect  image.Rectangle
	Input image.Point
}

// Cost is the detector work for the region in input pixels, plus its
// fixed cost per run.
func (r Region) Cost() int { return r.Input.X*r.Input.Y + runCost }

// PlanRegions covers boxes (motion and grown track boxes, frame pixels)
// with crops, each box wholly inside one crop, so that no object is cut
// by a crop edge. With cfg.AnySize a crop is its content's extent (at
// least cfg.MinRegion a side, in steps of 32); otherwise a square of at
// least cfg.RegionSize. Each crop carries the model input it runs at.
// ok is false when the whole frame is the better choice: more than
// cfg.MaxRegions crops, crops that together cost as much as a whole-frame
// pass, a crop larger than cfg.MaxRegionScale × RegionSize or than the
// frame, or content over cfg.LargeMotion of the frame. No boxes give no
// crops. The plan depends only on its inputs.
func PlanRegions(boxes []geom.Box, w, h int, cfg Config) (regions []Region, ok bool) {
	cfg = cfg.withDefaults()
	m := merger{cfg: cfg, maxSide: float64(cfg.RegionSize) * cfg.MaxRegionScale}
	var groups []geom.Box
	area := 0.0
	for _, b := range clipAll(boxes, w, h) {
		groups = m.place(groups, b)
		area += b.Area()
	}
	groups = m.mergeGroups(groups)
	if len(groups) > cfg.MaxRegions || area > cfg.LargeMotion*float64(w*h) {
		return nil, false
	}
	work := 0
	for _, g := range groups {
		r, fits := m.crop(g, w, h)
		if !fits || float64(max(r.Dx(), r.Dy())) > m.maxSide {
			return nil, false
		}
		reg := Region{Rect: r, Input: cfg.input(r)}
		regions = append(regions, reg)
		work += reg.Cost()
	}
	if work >= cfg.FullW*cfg.FullH+runCost {
		return nil, false
	}
	return regions, true
}

// runCost is the detector's fixed cost per run in input pixels: measured
// with yolov8n on one core, a 128×128 input takes about a fifth of a
// 320×320 one, not a sixth.
const runCost = 64 * 64

// input is the model input crop r runs at: with AnySize its own size
// rounded up to multiples of 32, or scaled down to fit a RegionSize
// square; otherwise the RegionSize square.
func (c Config) input(r image.Rectangle) image.Point {
	if !c.AnySize || r.Dx() <= 0 || r.Dy() <= 0 {
		return image.Pt(c.RegionSize, c.RegionSize)
	}
	s := min(1, float64(c.RegionSize)/float64(max(r.Dx(), r.Dy())))
	return image.Pt(min(c.RegionSize, ceil32(float64(r.Dx())*s)), min(c.RegionSize, ceil32(float64(r.Dy())*s)))
}

func ceil32(v float64) int { return max(32, int(math.Ceil(v/32-1e-9))*32) }

// clipAll clips boxes to the frame and drops empty ones, largest first.
func clipAll(boxes []geom.Box, w, h int) []geom.Box {
	var out []geom.Box
	for _, b := range boxes {
		c := b.Clip(float64(w), float64(h))
		if c.W > 0 && c.H > 0 {
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Area() > out[j].Area() })
	return out
}

// merger joins boxes into groups, each to become one crop, when one crop
// for both costs no more than two. Cost here is the crop's area in frame
// pixels: past RegionSize a crop is scaled down, which the detector pays
// for in small objects missed rather than in time.
type merger struct {
	cfg     Config
	maxSide float64
}

// extent is the crop side holding a group's side of length v.
func (m merger) extent(v float64) float64 {
	if !m.cfg.AnySize {
		return max(v, float64(m.cfg.RegionSize))
	}
	return float64(ceil32(max(v, float64(m.cfg.MinRegion))))
}

func (m merger) cost(b geom.Box) float64 {
	if !m.cfg.AnySize {
		s := m.extent(max(b.W, b.H))
		return s * s
	}
	return m.extent(b.W)*m.extent(b.H) + runCost
}

func (m merger) joins(a, b geom.Box) (geom.Box, bool) {
	u := union(a, b)
	return u, max(u.W, u.H) <= m.maxSide && m.cost(u) <= m.cost(a)+m.cost(b)
}

// place adds b to the group it joins most cheaply, or starts a new group.
func (m merger) place(groups []geom.Box, b geom.Box) []geom.Box {
	best, bestCost := -1, math.Inf(1)
	for i, g := range groups {
		if u, ok := m.joins(g, b); ok && m.cost(u) < bestCost {
			best, bestCost = i, m.cost(u)
		}
	}
	if best < 0 {
		return append(groups, b)
	}
	groups[best] = union(groups[best], b)
	return groups
}

// mergeGroups joins groups that join, until none does.
func (m merger) mergeGroups(groups []geom.Box) []geom.Box {
	for merged := true; merged; {
		merged = false
		for i := 0; i < len(groups) && !merged; i++ {
			for j := i + 1; j < len(groups); j++ {
				if u, ok := m.joins(groups[i], groups[j]); ok {
					groups[i] = u
					groups = append(groups[:j], groups[j+1:]...)
					merged = true
					break
				}
			}
		}
	}
	return groups
}

func union(a, b geom.Box) geom.Box {
	return geom.BoxFromCorners(min(a.X, b.X), min(a.Y, b.Y), max(a.X2(), b.X2()), max(a.Y2(), b.Y2()))
}

// crop is the crop for a group, centred on it and shifted inside the
// frame: a square of side max(RegionSize, the group's larger side), or
// with AnySize the group's own extent, each rounded up to a multiple of
// 32; fits is false when the group needs more than the frame. A side
// longer than the frame shrinks to it.
func (m merger) crop(g geom.Box, w, h int) (image.Rectangle, bool) {
	// The group's hull in whole pixels, so that centring never leaves a
	// fraction of it outside the crop.
	gx0, gy0 := int(math.Floor(g.X)), int(math.Floor(g.Y))
	gx1, gy1 := int(math.Ceil(g.X2())), int(math.Ceil(g.Y2()))
	sw, sh := m.extent(float64(gx1-gx0)), m.extent(float64(gy1-gy0))
	if !m.cfg.AnySize {
		sw = float64(ceil32(max(sw, sh)))
		sh = sw
		if int(sw) > w || int(sh) > h {
			return image.Rectangle{}, false
		}
	}
	cw, ch := min(int(sw), w), min(int(sh), h)
	if cw < gx1-gx0 || ch < gy1-gy0 {
		return image.Rectangle{}, false
	}
	x0 := clampInt(gx0-(cw-(gx1-gx0))/2, 0, w-cw)
	y0 := clampInt(gy0-(ch-(gy1-gy0))/2, 0, h-ch)
	return image.Rect(x0, y0, x0+cw, y0+ch), true
}

func clampInt(v, lo, hi int) int { return max(lo, min(v, hi)) }
