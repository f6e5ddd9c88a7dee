package moteval

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/motfile"
)

// gtRow is a 9-column gt row: flag in Conf, class in X, visibility in Y.
func gtRow(frame, id int, x float64, flag float64, class float64) motfile.Row {
	return motfile.Row{Frame: frame, ID: id, Box: geom.Box{X: x, Y: 0, W: 10, H: 20}, Conf: flag, X: class, Y: 1, Z: -1}
}

func hyp(frame, id int, x float64) motfile.Row {
	return motfile.Row{Frame: frame, ID: id, Box: geom.Box{X: x, Y: 0, W: 10, H: 20}, Conf: 1, X: -1, Y: -1, Z: -1}
}

// One pedestrian tracked perfectly, plus one extra hypothesis on the box
// of the given class and flag: the cases the issue names.
func scoreExtra(t *testing.T, b Benchmark, class, flag float64) Result {
	t.Helper()
	gt := []motfile.Row{gtRow(1, 1, 0, 1, ClassPedestrian), gtRow(1, 2, 100, flag, class)}
	pred := []motfile.Row{hyp(1, 1, 0), hyp(1, 2, 101)}
	res, err := Evaluate(gt, pred, Options{Benchmark: b})
	require.NoError(t, err)
	return res
}

func TestMOT17Preprocessing(t *testing.T) {
	for _, c := range []struct {
		name        string
		b           Benchmark
		class, flag float64
		fp, gt      int
	}{
		{"hypothesis on a distractor is removed", MOT17, ClassDistractor, 0, 0, 1},
		{"on a static person too", MOT17, ClassStaticPerson, 0, 0, 1},
		{"on a reflection too", MOT17, ClassReflection, 0, 0, 1},
		{"on a person on a vehicle too", MOT17, ClassPersonOnVehicle, 0, 0, 1},
		{"on an occluder it stays a false positive", MOT17, 9, 0, 1, 1},
		{"on a zero-flag pedestrian it stays a false positive; the box is not scored", MOT17, ClassPedestrian, 0, 1, 1},
		{"a flagged pedestrian is scored", MOT17, ClassPedestrian, 1, 0, 2},
		{"a non-MOT vehicle is a distractor in MOT20", MOT20, ClassNonMOTVehicle, 0, 0, 1},
		{"but not in MOT17", MOT17, ClassNonMOTVehicle, 0, 1, 1},
		{"MOT15 ignores classes: only the flag counts", MOT15, ClassDistractor, 0, 1, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := scoreExtra(t, c.b, c.class, c.flag)
			require.Equal(t, c.fp, res.FP)
			require.Equal(t, c.gt, res.NumGT)
			require.Zero(t, res.FN)
		})
	}
}

// The match is one assignment over all gt boxes: a hypothesis between a
// pedestrian and a distractor goes to the one it overlaps more, and a
// distractor box claims at most one hypothesis.
func TestMOT17PreprocessingAssignment(t *testing.T) {
	gt := []motfile.Row{gtRow(1, 1, 0, 1, ClassPedestrian), gtRow(1, 2, 3, 0, ClassDistractor)}
	// Hypothesis 1 overlaps the pedestrian 0.67 and the distractor 0.82:
	// it goes to the distractor and is removed; the pedestrian is missed.
	res, err := Evaluate(gt, []motfile.Row{hyp(1, 1, 2)}, Options{Benchmark: MOT17})
	require.NoError(t, err)
	require.Zero(t, res.FP)
	require.Equal(t, 1, res.FN)
	// Two hypotheses on the distractor: the better one is removed, the
	// other (IoU 0.54 with it) is left and is a false positive.
	gt = []motfile.Row{gtRow(1, 1, 200, 1, ClassPedestrian), gtRow(1, 2, 0, 0, ClassDistractor)}
	res, err = Evaluate(gt, []motfile.Row{hyp(1, 1, 0), hyp(1, 2, 3), hyp(1, 3, 200)}, Options{Benchmark: MOT17})
	require.NoError(t, err)
	require.Equal(t, 1, res.FP)
	require.Zero(t, res.FN)
}

func TestMOT17PreprocessingRejectsBadClass(t *testing.T) {
	_, err := Evaluate([]motfile.Row{gtRow(1, 1, 0, 1, 14)}, nil, Options{Benchmark: MOT17})
	require.ErrorContains(t, err, "class 14")
	_, err = ParseBenchmark("kitti")
	require.Error(t, err)
	b, err := ParseBenchmark("mot16")
	require.NoError(t, err)
	require.Equal(t, MOT17, b)
}
