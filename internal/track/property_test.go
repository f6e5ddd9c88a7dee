package track

import (
	"math"
	"testing"

	"github.com/vigil-cctv/vigil/internal/assign"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/geom"
	"pgregory.net/rapid"
)

// genDets draws a frame of detections in a small area so that boxes
// overlap often and association is actually exercised.
func genDets(t *rapid.T, label string) []detect.Detection {
	n := rapid.IntRange(0, 12).Draw(t, label+"n")
	dets := make([]detect.Detection, n)
	classes := []detect.Class{detect.Person, detect.Car, detect.Truck, detect.Bus, detect.Bicycle}
	for i := range dets {
		dets[i] = detect.Detection{
			Box: geom.Box{
				X: rapid.Float64Range(0, 200).Draw(t, label+"x"),
				Y: rapid.Float64Range(0, 200).Draw(t, label+"y"),
				W: rapid.Float64Range(0, 80).Draw(t, label+"w"),
				H: rapid.Float64Range(0, 120).Draw(t, label+"h"),
			},
			Class: rapid.SampledFrom(classes).Draw(t, label+"c"),
			Score: float32(rapid.Float64Range(0, 1).Draw(t, label+"s")),
		}
	}
	return dets
}

// genConfig varies the knobs that change which path a detection takes.
func genConfig(t *rapid.T) Config {
	cfg := DefaultConfig(rapid.SampledFrom([]float64{5, 10, 30}).Draw(t, "fps"))
	cfg.BufferSeconds = rapid.Float64Range(0, 1).Draw(t, "buffer")
	cfg.MinConfirmHits = rapid.IntRange(1, 3).Draw(t, "hits")
	cfg.FuseScore = rapid.Bool().Draw(t, "fuse")
	return cfg
}

// liveIDs are the ids of the tracks the tracker still holds.
func liveIDs(tr *Tracker) map[int]bool {
	live := map[int]bool{}
	for _, list := range [][]*strack{tr.tracked, tr.lost} {
		for _, s := range list {
			if s.confirmed {
				live[s.id] = true
			}
		}
	}
	return live
}

func TestPropertyTrackerInvariants(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		tr, err := New(genConfig(t))
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int]bool{}
		retired := map[int]bool{}
		maxID := 0
		frames := rapid.IntRange(1, 25).Draw(t, "frames")
		for f := 0; f < frames; f++ {
			dets := genDets(t, "")
			out := tr.Update(dets)
			checkFrame(t, tr, dets, out, seen, retired, &maxID)
		}
	})
}

// checkFrame asserts the per-frame invariants and updates the id ledger.
func checkFrame(t *rapid.T, tr *Tracker, dets []detect.Detection, out []Track, seen, retired map[int]bool, maxID *int) {
	if len(out) > len(dets) {
		t.Fatalf("%d tracks from %d detections", len(out), len(dets))
	}
	inFrame, usedDet := map[int]bool{}, map[int]bool{}
	newMax := *maxID
	for i, o := range out {
		if o.ID <= 0 || inFrame[o.ID] || retired[o.ID] {
			t.Fatalf("bad id %d (dup in frame %v, retired %v)", o.ID, inFrame[o.ID], retired[o.ID])
		}
		if i > 0 && out[i-1].ID >= o.ID {
			t.Fatalf("not sorted by id: %v", ids(out))
		}
		if !seen[o.ID] && o.ID <= *maxID {
			t.Fatalf("new id %d not above previous max %d", o.ID, *maxID)
		}
		inFrame[o.ID] = true
		newMax = max(newMax, o.ID)
		if o.DetIndex < 0 || o.DetIndex >= len(dets) || usedDet[o.DetIndex] {
			t.Fatalf("bad DetIndex %d", o.DetIndex)
		}
		usedDet[o.DetIndex] = true
		d := dets[o.DetIndex]
		if d.Class.Group() != o.Class.Group() || d.Score != o.Score || d.Score <= tr.cfg.LowThresh {
			t.Fatalf("track %+v fed by %+v", o, d)
		}
	}
	*maxID = newMax
	for id := range inFrame {
		seen[id] = true
	}
	live := liveIDs(tr)
	for id := range seen {
		if !live[id] {
			retired[id] = true
		}
	}
}

// The component split must find the same optimum as one dense solve.
func TestPropertyClustersMatchDenseSolve(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var m matcher
		rows := rapid.IntRange(0, 15).Draw(t, "rows")
		for i := 0; i < rows; i++ {
			d := genDets(t, "r")
			if len(d) > 0 {
				m.rows.add(d[0].Box, d[0].Class.Group(), d[0].Score)
			}
		}
		for _, d := range genDets(t, "c") {
			m.cols.add(d.Box, d.Class.Group(), d.Score)
		}
		minIoU := rapid.Float64Range(0.05, 1).Draw(t, "iou")
		fuse := rapid.Bool().Draw(t, "fuse")
		rowTo, colTo := m.match(minIoU, fuse, nil)
		gotN, gotCost := matchingCost(&m, rowTo, colTo, minIoU, fuse, t)
		wantN, wantCost := matchingCost(&m, assign.Solve(denseCost(&m, fuse), 1-minIoU), nil, minIoU, fuse, t)
		if gotN != wantN || math.Abs(gotCost-wantCost) > 1e-9 {
			t.Fatalf("clusters: %d pairs cost %v; dense: %d pairs cost %v", gotN, gotCost, wantN, wantCost)
		}
	})
}

func pairCost(m *matcher, r, c int, fuse bool) float64 {
	if m.rows.groups[r] != m.cols.groups[c] {
		return math.Inf(1)
	}
	iou := m.rows.boxes[r].IoU(m.cols.boxes[c])
	if fuse {
		iou *= float64(m.cols.scores[c])
	}
	if iou <= 0 {
		return math.Inf(1)
	}
	return 1 - iou
}

func denseCost(m *matcher, fuse bool) [][]float64 {
	cost := make([][]float64, len(m.rows.boxes))
	for r := range cost {
		cost[r] = make([]float64, len(m.cols.boxes))
		for c := range cost[r] {
			cost[r][c] = pairCost(m, r, c, fuse)
		}
	}
	return cost
}

// matchingCost validates a matching (and its inverse, when given) and
// returns its size and total cost.
func matchingCost(m *matcher, rowTo, colTo []int, minIoU float64, fuse bool, t *rapid.T) (int, float64) {
	n, total := 0, 0.0
	for r, c := range rowTo {
		if c < 0 {
			continue
		}
		cost := pairCost(m, r, c, fuse)
		if cost > 1-minIoU {
			t.Fatalf("pair (%d,%d) cost %v above gate", r, c, cost)
		}
		if colTo != nil && colTo[c] != r {
			t.Fatalf("colTo[%d] = %d, want %d", c, colTo[c], r)
		}
		n++
		total += cost
	}
	return n, total
}
