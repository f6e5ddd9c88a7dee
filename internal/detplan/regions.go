package detplan

import (
	"image"
	"math"
	"sort"

	"github.com/vigil-cctv/vigil/internal/geom"
)

// PlanRegions covers boxes (motion and grown track boxes, frame pixels)
// with square crops of at least cfg.RegionSize pixels, each box wholly
// inside one crop, so that no object is cut by a crop edge. ok is false
// when the whole frame is the better choice: more than cfg.MaxRegions
// crops, a crop larger than cfg.MaxRegionScale × RegionSize or than the
// frame, or content over cfg.LargeMotion of the frame. No boxes give no
// crops. The plan depends only on its inputs.
func PlanRegions(boxes []geom.Box, w, h int, cfg Config) (regions []image.Rectangle, ok bool) {
	cfg = cfg.withDefaults()
	m := merger{size: float64(cfg.RegionSize), maxSide: float64(cfg.RegionSize) * cfg.MaxRegionScale}
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
	for _, g := range groups {
		r, fits := square(g, cfg.RegionSize, w, h)
		if !fits || float64(r.Dx()) > float64(cfg.RegionSize)*cfg.MaxRegionScale {
			return nil, false
		}
		regions = append(regions, r)
	}
	return regions, true
}

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
// for both costs no more than two: the detector's work grows with the
// crop's area once it is larger than the model input.
type merger struct{ size, maxSide float64 }

// cost is the work of a crop holding a group of side s, relative to a
// crop of the model's own size.
func (m merger) cost(b geom.Box) float64 {
	s := max(m.size, b.W, b.H)
	return (s / m.size) * (s / m.size)
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

// square is the crop for a group: a square of side max(size, the group's
// larger side) rounded up to a multiple of 32, centred on the group and
// shifted inside the frame; fits is false when it is larger than the frame.
func square(g geom.Box, size, w, h int) (image.Rectangle, bool) {
	side := int(math.Ceil(max(float64(size), g.W, g.H)/32)) * 32
	if side > w || side > h {
		return image.Rectangle{}, false
	}
	c := g.Center()
	x0 := clampInt(int(math.Round(c.X))-side/2, 0, w-side)
	y0 := clampInt(int(math.Round(c.Y))-side/2, 0, h-side)
	return image.Rect(x0, y0, x0+side, y0+side), true
}

func clampInt(v, lo, hi int) int { return max(lo, min(v, hi)) }
