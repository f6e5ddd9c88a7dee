package assign

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func TestSolveTable(t *testing.T) {
	inf := math.Inf(1)
	cases := []struct {
		name    string
		cost    [][]float64
		maxCost float64
		want    []int
	}{
		{"empty", nil, 1, []int{}},
		{"square", [][]float64{{4, 1, 3}, {2, 0, 5}, {3, 2, 2}}, 10, []int{1, 0, 2}},
		{"wide", [][]float64{{5, 1, 9}, {1, 5, 9}}, 10, []int{1, 0}},
		{"tall", [][]float64{{5, 1}, {1, 5}, {0.5, 0.6}}, 10, []int{1, -1, 0}},
		{"gated", [][]float64{{0.9, 0.2}, {0.95, 0.99}}, 0.8, []int{1, -1}},
		{"forbidden", [][]float64{{inf, 1}, {inf, 0.5}}, 10, []int{-1, 1}},
		{"all forbidden", [][]float64{{inf}, {inf}}, 10, []int{-1, -1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Solve(tc.cost, tc.maxCost)
			require.Equal(t, tc.want, got)
		})
	}
}

// bruteForce finds the minimum cost over all assignments of rows to
// distinct columns (or none), counting only admissible pairs and
// maximising the number of pairs first, as Solve does.
func bruteForce(cost [][]float64, maxCost float64) (pairs int, total float64) {
	rows := len(cost)
	cols := len(cost[0])
	used := make([]bool, cols)
	best, bestTotal := -1, 0.0
	var rec func(i, n int, sum float64)
	rec = func(i, n int, sum float64) {
		if i == rows {
			if n > best || (n == best && sum < bestTotal) {
				best, bestTotal = n, sum
			}
			return
		}
		rec(i+1, n, sum)
		for j := 0; j < cols; j++ {
			if !used[j] && cost[i][j] <= maxCost {
				used[j] = true
				rec(i+1, n+1, sum+cost[i][j])
				used[j] = false
			}
		}
	}
	rec(0, 0, 0)
	return best, bestTotal
}

func TestSolveMatchesBruteForce(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rows := rapid.IntRange(1, 5).Draw(t, "rows")
		cols := rapid.IntRange(1, 5).Draw(t, "cols")
		cost := make([][]float64, rows)
		for i := range cost {
			cost[i] = make([]float64, cols)
			for j := range cost[i] {
				cost[i][j] = float64(rapid.IntRange(0, 20).Draw(t, "c")) / 10
			}
		}
		maxCost := 1.5
		got := Solve(cost, maxCost)
		seen := map[int]bool{}
		n, total := 0, 0.0
		for i, j := range got {
			if j < 0 {
				continue
			}
			if seen[j] {
				t.Fatalf("column %d matched twice", j)
			}
			seen[j] = true
			if cost[i][j] > maxCost {
				t.Fatalf("pair (%d,%d) above gate", i, j)
			}
			n++
			total += cost[i][j]
		}
		wantN, wantTotal := bruteForce(cost, maxCost)
		if n != wantN || math.Abs(total-wantTotal) > 1e-9 {
			t.Fatalf("got %d pairs cost %.2f, want %d pairs cost %.2f", n, total, wantN, wantTotal)
		}
	})
}

func BenchmarkSolve200(b *testing.B) {
	cost := make([][]float64, 200)
	for i := range cost {
		cost[i] = make([]float64, 200)
		for j := range cost[i] {
			cost[i][j] = float64((i*7919+j*104729)%1000) / 1000
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Solve(cost, 0.8)
	}
}
