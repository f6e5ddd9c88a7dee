package motion

import (
	"math"
	"testing"
)

func TestAUC(t *testing.T) {
	cases := []struct {
		name   string
		scores []float64
		labels []bool
		want   float64
	}{
		{"perfect", []float64{0.1, 0.2, 0.8, 0.9}, []bool{false, false, true, true}, 1},
		{"inverted", []float64{0.9, 0.8, 0.2, 0.1}, []bool{false, false, true, true}, 0},
		{"mixed", []float64{0.1, 0.4, 0.35, 0.8}, []bool{false, true, false, true}, 1},
		// pos {0.3, 0.6}, neg {0.5, 0.1}: (0.3>0.5)=0 (0.3>0.1)=1 (0.6>0.5)=1 (0.6>0.1)=1 -> 3/4
		{"three-quarters", []float64{0.3, 0.6, 0.5, 0.1}, []bool{true, true, false, false}, 0.75},
		{"all tied", []float64{1, 1, 1, 1}, []bool{true, false, true, false}, 0.5},
		// pos {0.5, 0.9}, neg {0.5, 0.2}: (0.5,0.5)=0.5 (0.5,0.2)=1 (0.9,*)=2 -> 3.5/4
		{"one tie", []float64{0.5, 0.9, 0.5, 0.2}, []bool{true, true, false, false}, 0.875},
		// pos {2}, neg {2, 2, 1}: 0.5+0.5+1 = 2/3
		{"tie group", []float64{2, 2, 2, 1}, []bool{true, false, false, false}, 2.0 / 3},
	}
	for _, c := range cases {
		if got := AUC(c.scores, c.labels); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: AUC = %v, want %v", c.name, got, c.want)
		}
	}
	if !math.IsNaN(AUC([]float64{1, 2}, []bool{true, true})) {
		t.Error("single class should give NaN")
	}
	if !math.IsNaN(AUC([]float64{1, 2}, []bool{true})) {
		t.Error("length mismatch should give NaN")
	}
}

func TestSmoothAndMinMax(t *testing.T) {
	x := []float64{0, 0, 10, 0, 0}
	s := smooth(x, 1)
	if s[2] >= 10 || s[2] <= s[1] || math.Abs(s[1]-s[3]) > 1e-12 {
		t.Errorf("smooth = %v", s)
	}
	m := minMax([]float64{2, 4, 3})
	if m[0] != 0 || m[1] != 1 || m[2] != 0.5 {
		t.Errorf("minMax = %v", m)
	}
	if z := minMax([]float64{5, 5}); z[0] != 0 || z[1] != 0 {
		t.Errorf("minMax constant = %v", z)
	}
}
