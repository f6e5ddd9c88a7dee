package moteval

import (
	"fmt"
	"math"
	"slices"

	"github.com/vigil-cctv/vigil/internal/motfile"
)

// Benchmark names the ground-truth convention, which decides the
// preprocessing.
type Benchmark string

// The conventions. MOT15 (6 or 10 columns, no classes) only drops gt rows
// whose flag is 0. MOT16/MOT17 and MOT20 gt has 9 columns, the 8th the
// class and the 9th the visibility, and is preprocessed as TrackEval's
// MotChallenge2DBox.get_preprocessed_seq_data does (see preprocessClasses).
const (
	MOT15 Benchmark = ""
	MOT17 Benchmark = "MOT17" // also MOT16: the same classes and rules
	MOT20 Benchmark = "MOT20"
)

// MOTChallenge gt classes (the 8th column of MOT16/17/20 gt).
const (
	ClassPedestrian      = 1
	ClassPersonOnVehicle = 2
	ClassNonMOTVehicle   = 6
	ClassStaticPerson    = 7
	ClassDistractor      = 8
	ClassReflection      = 12
	maxClass             = 13 // crowd
)

// Distractors are the gt classes whose matched hypotheses are dropped
// before scoring: person on vehicle, static person, distractor and
// reflection, plus non-MOT vehicle in MOT20 only (TrackEval adds it for
// MOT20; in MOT17 a hypothesis on a non-MOT vehicle stays a false
// positive).
func (b Benchmark) Distractors() []int {
	d := []int{ClassPersonOnVehicle, ClassStaticPerson, ClassDistractor, ClassReflection}
	if b == MOT20 {
		d = append(d, ClassNonMOTVehicle)
	}
	return d
}

// ParseBenchmark accepts mot15, mot16, mot17 and mot20 in any case.
func ParseBenchmark(s string) (Benchmark, error) {
	switch s {
	case "mot15", "MOT15", "":
		return MOT15, nil
	case "mot16", "MOT16", "mot17", "MOT17":
		return MOT17, nil
	case "mot20", "MOT20":
		return MOT20, nil
	}
	return MOT15, fmt.Errorf("benchmark %q: want mot15, mot17 (or mot16) or mot20", s)
}

// preprocessClasses applies TrackEval's MOT16/17/20 preprocessing, frame
// by frame:
//  1. every hypothesis is matched against every gt box of the frame, of
//     any class and flag, by a maximum-IoU-sum assignment in which pairs
//     below IoU 0.5 do not count;
//  2. hypotheses matched to a distractor-class box are removed;
//  3. only pedestrian gt (class 1) with a non-zero flag is kept.
//
// The gt class is motfile.Row.X, the 8th column. A class outside 1..13 is
// an error, as in TrackEval. The returned gt has Conf 1 on every row so
// that the MOT15 filter that follows keeps it.
func preprocessClasses(gt, pred []motfile.Row, b Benchmark) (keptGT, keptPred []motfile.Row, err error) {
	for _, r := range gt {
		if r.X != math.Trunc(r.X) || r.X < 1 || r.X > maxClass {
			return nil, nil, fmt.Errorf("moteval: gt frame %d id %d has class %v; %s gt needs a class 1..%d in column 8", r.Frame, r.ID, r.X, b, maxClass)
		}
	}
	gtBy, predBy := rowsByFrame(gt), rowsByFrame(pred)
	distractor := b.Distractors()
	for f, ps := range predBy {
		removed := distractorMatches(gtBy[f], ps, distractor)
		for j, p := range ps {
			if !removed[j] {
				keptPred = append(keptPred, p)
			}
		}
	}
	for _, r := range gt {
		if int(r.X) == ClassPedestrian && r.Conf != 0 {
			r.Conf = 1
			keptGT = append(keptGT, r)
		}
	}
	return keptGT, keptPred, nil
}

// preprocessEps is the float64 machine epsilon TrackEval allows around its
// 0.5 and 0 comparisons.
const preprocessEps = 2.220446049250313e-16

// distractorMatches reports, per hypothesis of one frame, whether the
// frame's assignment pairs it with a distractor-class gt box.
func distractorMatches(gt, pred []motfile.Row, distractor []int) []bool {
	removed := make([]bool, len(pred))
	if len(gt) == 0 || len(pred) == 0 {
		return removed
	}
	w := make([][]float64, len(gt))
	for i, g := range gt {
		w[i] = make([]float64, len(pred))
		for j, p := range pred {
			if iou := g.Box.IoU(p.Box); iou >= 0.5-preprocessEps {
				w[i][j] = iou
			}
		}
	}
	for i, j := range maxWeightAssign(w) {
		if j >= 0 && w[i][j] > preprocessEps && slices.Contains(distractor, int(gt[i].X)) {
			removed[j] = true
		}
	}
	return removed
}

// rowsByFrame groups rows by frame number, keeping file order.
func rowsByFrame(rows []motfile.Row) map[int][]motfile.Row {
	m := map[int][]motfile.Row{}
	for _, r := range rows {
		m[r.Frame] = append(m[r.Frame], r)
	}
	return m
}
