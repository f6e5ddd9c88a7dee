package ingest

import (
	"math"

	"github.com/vigil-cctv/vigil/internal/geom"
)

// globalOffset is the exposure step (grey levels, of 255) that makes the
// whole view new to the detector: several times compression noise and
// automatic exposure's small corrections.
const globalOffset = 16

// globalChanged is the fraction of cells changed beyond the exposure step
// that means the view itself moved.
const globalChanged = 0.5

// Boxes returns where the latest Check saw change, as frame-pixel boxes:
// the connected groups (8-neighbour) of changed thumbnail cells, each grown
// by one cell so that a figure's edges are inside. Region detection plans
// its crops from them (package detplan). Global reports a change over the
// whole view (lighting, a moved camera) where boxes mean nothing and the
// whole frame should be examined; after the first frame or a size change
// Global is true too, since nothing is known yet. The whole view changed
// when its exposure stepped by globalOffset grey levels or more (lights
// on), or when most cells changed beyond the exposure step (the camera
// moved). A large object passing (a car filling a third of a top-down
// view) raises the mean difference, not these, and gets boxes like any
// other; an exposure drift moves no cell once its offset is out.
func (g *MotionGate) Boxes() (boxes []geom.Box, global bool) {
	if g.w == 0 || g.fresh {
		return nil, true
	}
	if math.Abs(g.last.Offset) >= globalOffset || g.last.Changed >= globalChanged {
		return nil, true
	}
	tw, th := g.opt.Width, g.opt.Height
	seen := make([]bool, len(g.changed))
	var stack []int
	for start, ch := range g.changed {
		if !ch || seen[start] {
			continue
		}
		x0, y0, x1, y1 := tw, th, -1, -1
		stack = append(stack[:0], start)
		seen[start] = true
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			cx, cy := i%tw, i/tw
			x0, y0, x1, y1 = min(x0, cx), min(y0, cy), max(x1, cx), max(y1, cy)
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					nx, ny := cx+dx, cy+dy
					if nx < 0 || ny < 0 || nx >= tw || ny >= th {
						continue
					}
					if j := ny*tw + nx; g.changed[j] && !seen[j] {
						seen[j] = true
						stack = append(stack, j)
					}
				}
			}
		}
		boxes = append(boxes, g.cellBox(max(x0-1, 0), max(y0-1, 0), min(x1+1, tw-1), min(y1+1, th-1)))
	}
	return boxes, false
}

// cellBox is the frame-pixel box covering thumbnail cells x0..x1, y0..y1.
func (g *MotionGate) cellBox(x0, y0, x1, y1 int) geom.Box {
	tw, th := g.opt.Width, g.opt.Height
	px0, px1 := x0*g.w/tw, (x1+1)*g.w/tw
	py0, py1 := y0*g.h/th, (y1+1)*g.h/th
	return geom.BoxFromCorners(float64(px0), float64(py0), float64(px1), float64(py1))
}
