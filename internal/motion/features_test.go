package motion

import (
	"math"
	"testing"
)

// scene renders a flat background with one textured w×h object whose left
// top corner is at (x, y): a stand-in for a walker or a cyclist.
func scene(obj plane, x, y int) plane {
	p := newPlane(180, 120)
	for i := range p.pix {
		p.pix[i] = 100
	}
	for oy := 0; oy < obj.h; oy++ {
		for ox := 0; ox < obj.w; ox++ {
			if px, py := x+ox, y+oy; px >= 0 && py >= 0 && px < p.w && py < p.h {
				p.pix[py*p.w+px] = obj.pix[oy*obj.w+ox]
			}
		}
	}
	return p
}

// object is a high-contrast texture so that frame differencing marks it.
func object(w, h int) plane {
	t := texture(w, h, 3)
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for _, v := range t.pix {
		lo, hi = min(lo, v), max(hi, v)
	}
	for i, v := range t.pix {
		t.pix[i] = 20 + 200*(v-lo)/(hi-lo)
	}
	return t
}

func maxOf(p plane) float64 {
	m := float32(0)
	for _, v := range p.pix {
		m = max(m, v)
	}
	return float64(m)
}

func TestMomentum(t *testing.T) {
	walker, cart := object(6, 12), object(24, 14)
	cases := []struct {
		name   string
		obj    plane
		x, y   int // position in the first frame
		dx, dy int // motion per frame
		lo, hi float64
	}{
		{"static", walker, 80, 50, 0, 0, 0, 0.01},
		{"walker", walker, 80, 50, 1, 0, 0.3, 0.7},
		{"walker towards camera", walker, 80, 50, 0, 1, 0.2, 0.6},
		// Three times the speed gives more than three times the momentum:
		// a faster object also changes more pixels.
		{"cyclist", walker, 80, 50, 3, 0, 1.5, 2.6},
		{"slow cart", cart, 80, 50, 1, 0, 0.4, 0.8},
		{"fast cart", cart, 80, 50, 3, 0, 2, 3.2},
		// Entering at the left edge: the border band is ignored, so the
		// partly visible walker does not look fast.
		{"entering", walker, -4, 50, 1, 0, 0, 0.2},
	}
	for _, c := range cases {
		prev := scene(c.obj, c.x, c.y)
		cur := scene(c.obj, c.x+c.dx, c.y+c.dy)
		if got := maxOf(momentum(prev, cur)); got < c.lo || got > c.hi {
			t.Errorf("%s: max momentum %.3f, want [%.2f, %.2f]", c.name, got, c.lo, c.hi)
		}
	}
}

func TestCellMax(t *testing.T) {
	p := newPlane(2*cellSize, cellSize+3) // the partial last row of cells is dropped
	p.pix[3*p.w+4] = 2                    // cell 0
	p.pix[5*p.w+cellSize+1] = 7           // cell 1
	p.pix[(cellSize+1)*p.w] = 9           // outside the grid
	got := cellMax(p, 2, 1)
	if len(got) != 2 || got[0] != 2 || got[1] != 7 {
		t.Errorf("cellMax = %v, want [2 7]", got)
	}
}

func TestBoxMeanZero(t *testing.T) {
	cases := []struct {
		name string
		x, y int
		want float32 // mean at (0, 0) of a 3×3 window over one spike of 9
	}{
		{"corner spike counted once", 0, 0, 1},
		{"inner spike in window", 1, 1, 1},
		{"outside window", 2, 2, 0},
	}
	for _, c := range cases {
		p := newPlane(4, 4)
		p.pix[c.y*4+c.x] = 9
		if got := boxMeanZero(p, 1).pix[0]; math.Abs(float64(got-c.want)) > 1e-5 {
			t.Errorf("%s: mean %v, want %v", c.name, got, c.want)
		}
		// with a repeated border the corner spike weighs four times
		if c.x == 0 && c.y == 0 {
			if got := boxMean(p, 1).pix[0]; math.Abs(float64(got-4)) > 1e-5 {
				t.Errorf("%s: repeated-border mean %v, want 4", c.name, got)
			}
		}
	}
}
