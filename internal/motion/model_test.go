package motion

import (
	"math"
	"testing"
)

func TestFitModelRows(t *testing.T) {
	// One column, five rows; zeros are empty cells and must not count. Each
	// frame repeats minRowWeight times so that pooled rows reach the weight
	// needed to stand on their own.
	var frames [][]float32
	for range minRowWeight {
		frames = append(frames, []float32{1, 0, 10, 0, 0}, []float32{3, 0, 0, 0, 0})
	}
	m := fitModel([]clipFeatures{{gw: 1, gh: 5, cells: frames}})
	sd3 := math.Sqrt((math.Pow(1-14.0/3, 2) + math.Pow(3-14.0/3, 2) + math.Pow(10-14.0/3, 2)) / 3)
	cases := []struct {
		name      string
		row       int
		mean, std float64
	}{
		{"row 0 pools the empty row 1", 0, 2, 1},
		{"row 1 pools both neighbours", 1, 14.0 / 3, sd3},
		{"row 2 one value: std floor", 2, 10, stdFloor},
		{"row 3 borrows row 2", 3, 10, stdFloor},
		{"row 4 without data falls back to all rows", 4, 14.0 / 3, sd3},
	}
	for _, c := range cases {
		if math.Abs(m.mean[c.row]-c.mean) > 1e-9 || math.Abs(m.std[c.row]-c.std) > 1e-9 {
			t.Errorf("%s: mean %.4f std %.4f, want %.4f %.4f", c.name, m.mean[c.row], m.std[c.row], c.mean, c.std)
		}
	}
}

func TestFrameScoresTopK(t *testing.T) {
	m := rowModel{gw: 2, gh: 1, mean: []float64{1}, std: []float64{0.5}}
	cf := clipFeatures{gw: 2, gh: 1, cells: [][]float32{{1, 3}, {2, 2}}}
	cases := []struct {
		topK int
		want []float64
	}{
		{1, []float64{4, 2}}, // the most abnormal cell: (3-1)/0.5
		{2, []float64{2, 2}}, // mean of (0, 4) and (2, 2)
		{9, []float64{2, 2}}, // clamped to the number of cells
		{0, []float64{4, 2}}, // at least one cell
	}
	for _, c := range cases {
		got := m.frameScores(cf, c.topK, -1)
		for i := range got {
			if math.Abs(got[i]-c.want[i]) > 1e-9 {
				t.Errorf("topK %d: scores %v, want %v", c.topK, got, c.want)
				break
			}
		}
	}
}
