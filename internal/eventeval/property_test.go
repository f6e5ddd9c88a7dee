package eventeval

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/vigil-cctv/vigil/internal/event"
)

// genEvent draws from a small vocabulary so that compatible pairs, and
// contention between them, are common.
func genEvent() *rapid.Generator[event.Event] {
	return rapid.Custom(func(t *rapid.T) event.Event {
		start := float64(rapid.IntRange(0, 40).Draw(t, "start")) / 2
		e := event.Event{
			Rule:      rapid.SampledFrom([]string{"intrusion", "loitering", "line_crossing"}).Draw(t, "rule"),
			Camera:    rapid.SampledFrom([]string{"", "c1", "c2"}).Draw(t, "camera"),
			Zone:      rapid.SampledFrom([]string{"", "z1", "z2"}).Draw(t, "zone"),
			Direction: rapid.SampledFrom([]string{"", "in", "out"}).Draw(t, "direction"),
			Start:     start,
			End:       start + float64(rapid.IntRange(0, 12).Draw(t, "dur"))/2,
		}
		if n := rapid.IntRange(0, 2).Draw(t, "ntracks"); n > 0 {
			e.Tracks = rapid.SliceOfNDistinct(rapid.IntRange(1, 4), n, n, rapid.ID[int]).Draw(t, "tracks")
		}
		return e
	})
}

func genOptions(t *rapid.T) Options {
	return Options{
		Slack:               float64(rapid.IntRange(0, 4).Draw(t, "slack")) / 2,
		MinOverlap:          float64(rapid.IntRange(0, 4).Draw(t, "minOverlap")) / 4,
		RequireTrackOverlap: rapid.Bool().Draw(t, "tracks"),
		ByCamera:            rapid.Bool().Draw(t, "byCamera"),
	}
}

func genEvents(t *rapid.T, label string) []event.Event {
	return rapid.SliceOfN(genEvent(), 0, 12).Draw(t, label)
}

func TestPropertyCountsConsistent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		gt, pred, opt := genEvents(t, "gt"), genEvents(t, "pred"), genOptions(t)
		r := Evaluate(gt, pred, opt)
		for _, c := range append(r.PerRule, r.Overall) {
			require.LessOrEqual(t, c.TP, min(c.GT, c.Pred), c.Rule)
			require.Equal(t, c.GT, c.TP+c.FN, c.Rule)
			require.Equal(t, c.Pred, c.TP+c.FP, c.Rule)
			for _, v := range []float64{c.Precision, c.Recall, c.F1} {
				require.True(t, v >= 0 && v <= 1, "%s: %v", c.Rule, v)
			}
		}
		require.Equal(t, len(gt), r.Overall.GT)
		require.Equal(t, len(pred), r.Overall.Pred)
		require.Equal(t, len(r.Matches), r.Overall.TP)
		require.Len(t, r.MissedGT, r.Overall.FN)
		require.Len(t, r.FalsePred, r.Overall.FP)
	})
}

func TestPropertyMatchesOneToOneAndCompatible(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		gt, pred, opt := genEvents(t, "gt"), genEvents(t, "pred"), genOptions(t)
		r := Evaluate(gt, pred, opt)
		seenGT, seenPred := map[int]bool{}, map[int]bool{}
		for _, m := range r.Matches {
			require.False(t, seenGT[m.GT], "gt %d matched twice", m.GT)
			require.False(t, seenPred[m.Pred], "pred %d matched twice", m.Pred)
			seenGT[m.GT], seenPred[m.Pred] = true, true
			tiou, ok := compatible(gt[m.GT], pred[m.Pred], opt)
			require.True(t, ok, "incompatible match %+v", m)
			require.Equal(t, tiou, m.TIoU)
		}
		for _, i := range r.MissedGT {
			require.False(t, seenGT[i])
		}
		for _, j := range r.FalsePred {
			require.False(t, seenPred[j])
		}
	})
}

func TestPropertySelfIsPerfect(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		evs, opt := genEvents(t, "events"), genOptions(t)
		r := Evaluate(evs, evs, opt)
		for _, c := range append(r.PerRule, r.Overall) {
			require.Equal(t, []float64{1, 1, 1}, []float64{c.Precision, c.Recall, c.F1}, c.Rule)
		}
	})
}

func TestPropertyShuffleInvariant(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		gt, pred, opt := genEvents(t, "gt"), genEvents(t, "pred"), genOptions(t)
		want := Evaluate(gt, pred, opt)
		got := Evaluate(permute(t, gt, "gtPerm"), permute(t, pred, "predPerm"), opt)
		require.Equal(t, want.PerRule, got.PerRule)
		require.Equal(t, want.Overall, got.Overall)
	})
}

func permute(t *rapid.T, evs []event.Event, label string) []event.Event {
	idx := rapid.Permutation(indices(len(evs))).Draw(t, label)
	out := make([]event.Event, len(evs))
	for i, j := range idx {
		out[i] = evs[j]
	}
	return out
}

func indices(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// TestPropertyMaximumMatching checks TP against an independent maximum
// bipartite matching (Kuhn's augmenting paths) over compatible pairs.
func TestPropertyMaximumMatching(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		gt, pred, opt := genEvents(t, "gt"), genEvents(t, "pred"), genOptions(t)
		require.Equal(t, kuhn(gt, pred, opt), Evaluate(gt, pred, opt).Overall.TP)
	})
}

func kuhn(gt, pred []event.Event, opt Options) int {
	owner := make([]int, len(pred))
	for j := range owner {
		owner[j] = -1
	}
	var try func(g int, seen []bool) bool
	try = func(g int, seen []bool) bool {
		for p := range pred {
			if _, ok := compatible(gt[g], pred[p], opt); !ok || seen[p] {
				continue
			}
			seen[p] = true
			if owner[p] < 0 || try(owner[p], seen) {
				owner[p] = g
				return true
			}
		}
		return false
	}
	n := 0
	for g := range gt {
		if try(g, make([]bool, len(pred))) {
			n++
		}
	}
	return n
}

// BenchmarkEvaluateLong is an hour of one busy rule, 2000 events a side,
// spaced so that every event overlaps its neighbours: they chain into one
// component, the worst case for the per-component split.
func BenchmarkEvaluateLong(b *testing.B) {
	var gt, pred []event.Event
	for i := range 2000 {
		s := float64(i) * 1.8
		gt = append(gt, event.Event{Rule: "intrusion", Zone: "z", Start: s, End: s + 3})
		pred = append(pred, event.Event{Rule: "intrusion", Zone: "z", Start: s + 0.5, End: s + 2})
	}
	for b.Loop() {
		Evaluate(gt, pred, DefaultOptions())
	}
}
