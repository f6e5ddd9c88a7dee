package moteval

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/motfile"
)

// row is a gt-style row (Conf 1) with a 10×10 box whose left edge is x.
func row(frame, id int, x float64) motfile.Row {
	return motfile.Row{Frame: frame, ID: id, Box: geom.Box{X: x, Y: 0, W: 10, H: 10}, Conf: 1, X: -1, Y: -1, Z: -1}
}

func evaluate(t *testing.T, gt, pred []motfile.Row) Result {
	t.Helper()
	r, err := Evaluate(gt, pred, Options{})
	require.NoError(t, err)
	return r
}

// twoWalkers is two targets 100 px apart over n frames.
func twoWalkers(n int) []motfile.Row {
	var rows []motfile.Row
	for f := 1; f <= n; f++ {
		rows = append(rows, row(f, 1, 0), row(f, 2, 100))
	}
	return rows
}

func TestPerfectPrediction(t *testing.T) {
	gt := twoWalkers(5)
	requirePerfect(t, evaluate(t, gt, gt))
}

func TestEmptyPrediction(t *testing.T) {
	gt := twoWalkers(5)
	r := evaluate(t, gt, nil)
	require.Equal(t, r.NumGT, r.FN)
	require.Equal(t, 10, r.FN)
	require.Zero(t, r.MOTA)
	require.Zero(t, r.TP+r.FP+r.IDSW+r.Frag)
	require.Zero(t, r.MOTP) // the devkit forces it to 0 without matches
	require.Zero(t, r.IDF1)
	require.Zero(t, r.IDP)
	require.Zero(t, r.HOTA)
	require.Equal(t, 1.0, r.LocA) // TrackEval's value when nothing is matched
	require.Equal(t, 2, r.ML)
}

func TestSwappedIdentities(t *testing.T) {
	// Tracker ids 10 and 20 follow targets 1 and 2 for frames 1–3, swap
	// for frames 4–6, and swap back for 7–8: two switches per target.
	var pred []motfile.Row
	for f := 1; f <= 8; f++ {
		a, b := 10, 20
		if f >= 4 && f <= 6 {
			a, b = b, a
		}
		pred = append(pred, row(f, a, 0), row(f, b, 100))
	}
	r := evaluate(t, twoWalkers(8), pred)
	require.Equal(t, 4, r.IDSW)
	require.Zero(t, r.FP+r.FN+r.Frag)
	require.InDelta(t, 1-4.0/16, r.MOTA, 1e-12)
	// Best global pairing keeps 5 of 8 frames per target.
	require.Equal(t, 10, r.IDTP)
	require.InDelta(t, 10.0/16, r.IDF1, 1e-12)
}

func TestSwitchAfterGapCounts(t *testing.T) {
	// The target is missed in frame 2 and re-acquired under a new id:
	// still a switch, since it compares with the last match ever.
	gt := []motfile.Row{row(1, 1, 0), row(2, 1, 0), row(3, 1, 0)}
	pred := []motfile.Row{row(1, 7, 0), row(3, 8, 0)}
	r := evaluate(t, gt, pred)
	require.Equal(t, 1, r.IDSW)
	require.Equal(t, 1, r.Frag)
	require.Equal(t, 1, r.FN)
}

func TestPreviousMatchIsKept(t *testing.T) {
	// In frame 2 prediction 20 fits target 1 better than 10 does, but 10
	// still overlaps enough, so the devkit keeps it: no switch, 20 is a FP.
	gt := []motfile.Row{row(1, 1, 0), row(2, 1, 0)}
	pred := []motfile.Row{row(1, 10, 0), row(2, 10, 2), row(2, 20, 0)}
	r := evaluate(t, gt, pred)
	require.Zero(t, r.IDSW)
	require.Equal(t, 1, r.FP)
	require.Equal(t, 2, r.TP)
	require.InDelta(t, (1+80.0/120)/2, r.MOTP, 1e-12) // IoU of 10 in frame 2: 80/120
}

func TestHungarianMaximisesMatches(t *testing.T) {
	// Greedy best-IoU would pair target 1 with prediction 10 and leave
	// target 2 unmatched; the assignment matches both.
	gt := []motfile.Row{row(1, 1, 0), row(1, 2, 4)}
	pred := []motfile.Row{row(1, 10, 2), row(1, 20, -2)}
	r := evaluate(t, gt, pred)
	require.Equal(t, 2, r.TP)
}

// track builds one gt trajectory and a prediction from a pattern, one
// character per frame: 'T' present and tracked, '.' present and missed,
// ' ' absent from the ground truth.
func track(pattern string) (gt, pred []motfile.Row) {
	for i, c := range pattern {
		switch c {
		case 'T':
			gt = append(gt, row(i+1, 1, 0))
			pred = append(pred, row(i+1, 9, 0))
		case '.':
			gt = append(gt, row(i+1, 1, 0))
		}
	}
	return gt, pred
}

func TestFragmentations(t *testing.T) {
	cases := []struct {
		pattern string
		frag    int
	}{
		{"TTTT", 0},
		{"TT..TT", 1},
		{"T.T.T", 2},
		{"..TT..", 0}, // misses before the first and after the last match do not count
		{"....", 0},
		{"T...", 0},
		{"TT  TT", 1}, // a gap in the gt is untracked too, as in the devkit
		{"T. T", 1},
	}
	for _, tc := range cases {
		t.Run(strings.ReplaceAll(tc.pattern, " ", "_"), func(t *testing.T) {
			gt, pred := track(tc.pattern)
			require.Equal(t, tc.frag, evaluate(t, gt, pred).Frag)
		})
	}
}

func TestMostlyTrackedLost(t *testing.T) {
	cases := []struct {
		pattern    string
		mt, pt, ml int
	}{
		{"TTTTT", 1, 0, 0},
		{"TTTTTTTTT.", 1, 0, 0}, // 90%
		{"TTTT.", 0, 1, 0},      // exactly 80% is not "mostly" (devkit, TrackEval)
		{"TT...", 0, 1, 0},
		{"T....", 0, 1, 0}, // exactly 20% is not "lost"
		{"T.........", 0, 0, 1},
		{".....", 0, 0, 1},
		{"T  TT", 1, 0, 0}, // ratio is over the frames where the target exists
	}
	for _, tc := range cases {
		t.Run(strings.ReplaceAll(tc.pattern, " ", "_"), func(t *testing.T) {
			gt, pred := track(tc.pattern)
			r := evaluate(t, gt, pred)
			require.Equal(t, []int{tc.mt, tc.pt, tc.ml}, []int{r.MT, r.PT, r.ML})
		})
	}
}

func TestPreprocessing(t *testing.T) {
	ignored := row(2, 3, 50)
	ignored.Conf = 0
	gt := []motfile.Row{row(0, 1, 0), row(1, 1, 0), row(2, 1, 0), ignored, row(-1, 2, 0)}
	zeroConfPred := row(2, 10, 0)
	zeroConfPred.Conf = 0 // only the gt flag matters
	pred := []motfile.Row{row(0, 10, 0), row(1, 10, 0), zeroConfPred, row(3, 10, 0), row(2, 11, 50)}
	r := evaluate(t, gt, pred)
	require.Equal(t, 2, r.NumGT)
	require.Equal(t, 1, r.GTIDs)
	require.Equal(t, 2, r.Frames)
	require.Equal(t, 3, r.NumPred) // frame 0 and frame 3 (> last gt frame) dropped
	require.Equal(t, 2, r.PredIDs)
	require.Equal(t, 2, r.TP)
	require.Equal(t, 1, r.FP) // the box on the ignored gt is not excused (MOT15 has no distractors)
}

func TestBoxesAreNotClipped(t *testing.T) {
	gt := []motfile.Row{{Frame: 1, ID: 1, Box: geom.Box{X: -20, Y: -20, W: 40, H: 40}, Conf: 1}}
	pred := []motfile.Row{{Frame: 1, ID: 1, Box: geom.Box{X: 0, Y: 0, W: 20, H: 20}, Conf: 1}}
	r := evaluate(t, gt, pred)
	require.Zero(t, r.TP) // IoU 0.25 unclipped; clipping to the image would make it 1
}

func TestIoUOption(t *testing.T) {
	gt := []motfile.Row{row(1, 1, 0)}
	pred := []motfile.Row{row(1, 1, 4)} // IoU 60/140 ≈ 0.43
	r, err := Evaluate(gt, pred, Options{IoU: 0.4})
	require.NoError(t, err)
	require.Equal(t, 1, r.TP)
	r, err = Evaluate(gt, pred, Options{})
	require.NoError(t, err)
	require.Zero(t, r.TP)

	// A box twice the size, containing the target: IoU exactly 0.5, which
	// matches (the threshold is inclusive).
	exact := []motfile.Row{{Frame: 1, ID: 1, Box: geom.Box{W: 20, H: 10}}}
	r, err = Evaluate(gt, exact, Options{})
	require.NoError(t, err)
	require.Equal(t, 1, r.TP)

	for _, bad := range []float64{-0.1, 1.5, math.NaN()} {
		_, err := Evaluate(gt, pred, Options{IoU: bad})
		require.Error(t, err, "IoU %v", bad)
	}
}

func TestInputErrors(t *testing.T) {
	_, err := Evaluate(nil, nil, Options{})
	require.ErrorContains(t, err, "no ground-truth boxes")

	_, err = Evaluate([]motfile.Row{row(1, 1, 0), row(1, 1, 5)}, nil, Options{})
	require.EqualError(t, err, "moteval: ground truth has id 1 twice in frame 1")

	_, err = Evaluate([]motfile.Row{row(1, 1, 0)}, []motfile.Row{row(1, 4, 0), row(1, 4, 5)}, Options{})
	require.EqualError(t, err, "moteval: prediction has id 4 twice in frame 1")
}

func TestInputOrderDoesNotMatter(t *testing.T) {
	gt := twoWalkers(4)
	pred := []motfile.Row{row(1, 5, 1), row(1, 6, 99), row(2, 6, 2), row(3, 5, 98), row(4, 5, 0)}
	want := evaluate(t, gt, pred)
	rev := func(rows []motfile.Row) []motfile.Row {
		out := slices.Clone(rows)
		slices.Reverse(out)
		return out
	}
	require.Equal(t, want, evaluate(t, rev(gt), rev(pred)))
}

func TestResultJSONAndTable(t *testing.T) {
	r := evaluate(t, twoWalkers(3), twoWalkers(3))
	b, err := json.Marshal(r)
	require.NoError(t, err)
	var fields map[string]any
	require.NoError(t, json.Unmarshal(b, &fields))
	for _, key := range strings.Fields("mota motp idf1 idp idr hota deta assa loca fp fn idsw frag mt pt ml " +
		"num_gt num_pred gt_ids pred_ids idtp idfp idfn frames") {
		require.Contains(t, fields, key)
	}
	s := r.String()
	require.Contains(t, s, "IDF1")
	require.Contains(t, s, "MOTA")
	require.Contains(t, s, "HOTA")
	require.Contains(t, s, "100.0")
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	require.Len(t, lines, 5) // header, values, blank, header, values
	require.Equal(t, len(lines[0]), len(lines[1]), "columns align")
}

// genScene draws a small scene where overlaps, misses and switches are all
// likely: few ids, few frames, boxes on a coarse grid.
func genScene(t *rapid.T, label string, minRows int) []motfile.Row {
	var rows []motfile.Row
	frames := rapid.IntRange(1, 6).Draw(t, label+"_frames")
	for f := 1; f <= frames; f++ {
		for id := 1; id <= 4; id++ {
			if !rapid.Bool().Draw(t, label+"_present") {
				continue
			}
			x := float64(rapid.IntRange(0, 6).Draw(t, label+"_x")) * 3
			w := float64(rapid.IntRange(1, 4).Draw(t, label+"_w")) * 4
			rows = append(rows, motfile.Row{Frame: f, ID: id, Box: geom.Box{X: x, W: w, H: 10}, Conf: 1})
		}
	}
	if len(rows) < minRows {
		rows = append(rows, row(1, 1, 0))
	}
	return rows
}

func TestMetricInvariants(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		gt := genScene(t, "gt", 1)
		pred := genScene(t, "pred", 0)
		thr := rapid.SampledFrom([]float64{0.3, 0.5, 0.7}).Draw(t, "iou")
		r, err := Evaluate(gt, pred, Options{IoU: thr})
		require.NoError(t, err)
		require.LessOrEqual(t, r.MOTA, 1.0)
		require.LessOrEqual(t, r.MOTAL, 1.0)
		require.GreaterOrEqual(t, r.MOTAL, r.MOTA)
		for name, v := range map[string]float64{
			"IDF1": r.IDF1, "IDP": r.IDP, "IDR": r.IDR, "MOTP": r.MOTP, "HOTA": r.HOTA,
			"DetA": r.DetA, "AssA": r.AssA, "LocA": r.LocA, "Recall": r.Recall, "Precision": r.Precision,
		} {
			require.True(t, v >= 0 && v <= 1+1e-12, "%s = %v", name, v)
		}
		if r.TP > 0 {
			require.GreaterOrEqual(t, r.MOTP, thr-1e-12, "matches overlap at least the threshold")
		}
		require.Equal(t, r.NumPred, r.TP+r.FP)
		require.Equal(t, r.NumGT, r.TP+r.FN)
		require.Equal(t, r.NumGT, r.IDTP+r.IDFN)
		require.Equal(t, r.NumPred, r.IDTP+r.IDFP)
		require.Equal(t, r.GTIDs, r.MT+r.PT+r.ML)
		require.LessOrEqual(t, r.IDSW, r.TP)
		// HOTA averages per-alpha geometric means, which by Cauchy–Schwarz
		// cannot exceed the geometric mean of the averages.
		require.LessOrEqual(t, r.HOTA, math.Sqrt(r.DetA*r.AssA)+1e-12)
	})
}

func TestSparseFrames(t *testing.T) {
	// Frames are stored only where boxes exist, so a huge frame number
	// costs nothing; the frames in between still count as untracked.
	gt := []motfile.Row{row(1, 1, 0), row(2_000_000_000, 1, 0)}
	r := evaluate(t, gt, gt)
	require.Equal(t, 2_000_000_000, r.Frames)
	require.Equal(t, 1, r.Frag)
	require.Equal(t, 2, r.TP)
	require.Zero(t, r.IDSW)
}
