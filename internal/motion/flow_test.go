package motion

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// texture returns a smooth random pattern: LK needs gradients in both axes.
func texture(w, h int, seed uint64) plane {
	r := rand.New(rand.NewPCG(seed, 1))
	p := newPlane(w, h)
	for i := range p.pix {
		p.pix[i] = float32(r.IntN(256))
	}
	return blur3(blur3(blur3(p)))
}

// shifted returns p moved by (dx, dy): out(x+dx, y+dy) = p(x, y).
func shifted(p plane, dx, dy float32) plane {
	out := newPlane(p.w, p.h)
	for y := 0; y < p.h; y++ {
		for x := 0; x < p.w; x++ {
			out.pix[y*p.w+x] = p.sample(float32(x)-dx, float32(y)-dy)
		}
	}
	return out
}

func median32(x []float32) float64 {
	s := append([]float32(nil), x...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return float64(s[len(s)/2])
}

// interior drops a margin where the shift brings in repeated border pixels.
func interior(p plane, m int) []float32 {
	var out []float32
	for y := m; y < p.h-m; y++ {
		out = append(out, p.pix[y*p.w+m:y*p.w+p.w-m]...)
	}
	return out
}

func TestLKFlowRecoversShift(t *testing.T) {
	cases := []struct {
		name   string
		dx, dy float32
		fp     flowParams
	}{
		{"still", 0, 0, defaultFlow},
		{"subpixel", 0.4, -0.3, defaultFlow},
		{"pedestrian", 2, 1, defaultFlow},
		{"bicycle", 7, -2, defaultFlow},
		{"vertical", 0, 5, defaultFlow},
		{"fast single level fails", 7, 0, flowParams{levels: 1, iters: 3, radius: 3, lambda: 4}},
	}
	base := texture(96, 64, 7)
	for _, c := range cases {
		u, v := lkFlow(base, shifted(base, c.dx, c.dy), c.fp)
		gu, gv := median32(interior(u, 12)), median32(interior(v, 12))
		ok := math.Abs(gu-float64(c.dx)) < 0.25 && math.Abs(gv-float64(c.dy)) < 0.25
		if want := c.fp.levels > 1; ok != want {
			t.Errorf("%s: median flow (%.2f, %.2f) for shift (%.1f, %.1f); recovered=%v, want %v",
				c.name, gu, gv, c.dx, c.dy, ok, want)
		}
	}
}

func TestBoxMean(t *testing.T) {
	p := newPlane(5, 3)
	p.pix[1*5+2] = 9 // single spike in the centre
	got := boxMean(p, 1)
	for y := 0; y < 3; y++ {
		for x := 0; x < 5; x++ {
			want := float32(0)
			if x >= 1 && x <= 3 {
				want = 1
			}
			if math.Abs(float64(got.pix[y*5+x]-want)) > 1e-5 {
				t.Errorf("box(%d,%d) = %v, want %v", x, y, got.pix[y*5+x], want)
			}
		}
	}
}
