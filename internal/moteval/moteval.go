// Package moteval scores a tracker's output against MOTChallenge ground
// truth with the metrics the multi-object tracking literature reports:
// CLEAR-MOT (MOTA, MOTP, FP, FN, ID switches, fragmentations, MT/PT/ML), the
// identity measures (IDF1, IDP, IDR) and HOTA (HOTA, DetA, AssA, LocA).
//
// Published numbers are only comparable when every convention matches, so
// each metric follows a named reference implementation rather than the
// papers alone:
//
//   - preprocessing, CLEAR-MOT and the identity measures follow the
//     MOTChallenge devkit (evaluateTracking.m with 'MOT15', clearMOTMex.cpp,
//     CLEAR_MOT_HUN.m, IDmeasures.m), which py-motmetrics reproduces;
//   - HOTA follows TrackEval's trackeval/metrics/hota.py.
//
// Where those references disagree the choice is documented at the code that
// makes it. Boxes are never clipped to the image, because the published
// numbers were computed on raw boxes.
package moteval

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/motfile"
)

// DefaultIoU is the MOTChallenge 2D matching threshold.
const DefaultIoU = 0.5

// Options tune an evaluation; the zero value is the MOTChallenge protocol.
type Options struct {
	// IoU is the minimum box overlap for a gt/prediction pair to count as
	// a match in CLEAR-MOT and the identity measures; 0 means DefaultIoU.
	// HOTA does not use it: it integrates over all thresholds.
	IoU float64
	// Benchmark is the gt convention: MOT15 (the zero value) or, for 9
	// column gt with classes, MOT17 or MOT20, which add TrackEval's
	// distractor preprocessing (see preprocessClasses).
	Benchmark Benchmark
}

// Evaluate scores pred against gt for one sequence. Both slices are taken as
// read from MOTChallenge files; the MOT15 preprocessing is applied here:
// gt rows whose Conf (the evaluate flag) is 0 and rows with frame < 1 are
// dropped, and prediction rows beyond the last gt frame are dropped.
// A (frame, id) pair that occurs twice in either input is an error, as in
// the devkit and TrackEval.
func Evaluate(gt, pred []motfile.Row, opts Options) (Result, error) {
	thr := opts.IoU
	if thr == 0 {
		thr = DefaultIoU
	}
	if !(thr > 0 && thr <= 1) {
		return Result{}, fmt.Errorf("moteval: IoU threshold %v outside (0, 1]", opts.IoU)
	}
	if opts.Benchmark != MOT15 {
		var err error
		if gt, pred, err = preprocessClasses(gt, pred, opts.Benchmark); err != nil {
			return Result{}, err
		}
	}
	seq, err := prepare(gt, pred)
	if err != nil {
		return Result{}, err
	}
	c := clearMOT(seq, thr)
	id := identity(seq, thr)
	h := hota(seq)
	return assemble(seq, c, id, h), nil
}

// frame holds one time step with dense ids. iou is row-major
// len(gt) × len(pred) and is computed once, because all three metric
// families need it.
type frame struct {
	num            int // MOT frame number
	gt, pred       []int
	gtBox, predBox []geom.Box
	iou            []float64
}

// sequence is the preprocessed input. Only frames holding a box are stored,
// in order, so a corrupt frame number cannot make the evaluator allocate
// per frame; ids are renumbered 0..n-1 as the devkit and TrackEval do.
type sequence struct {
	frames               []frame
	lastFrame            int
	numGTIDs, numPredIDs int
	numGT, numPred       int
}

// prepare applies the MOT15 filters, renumbers ids and computes overlaps.
func prepare(gt, pred []motfile.Row) (*sequence, error) {
	gt = slices.DeleteFunc(slices.Clone(gt), func(r motfile.Row) bool { return r.Conf == 0 || r.Frame < 1 })
	if len(gt) == 0 {
		return nil, errors.New("moteval: no ground-truth boxes to evaluate (all rows have frame < 1 or conf 0)")
	}
	last := 0
	for _, r := range gt {
		last = max(last, r.Frame)
	}
	pred = slices.DeleteFunc(slices.Clone(pred), func(r motfile.Row) bool { return r.Frame < 1 || r.Frame > last })
	if err := sortUnique(gt, "ground truth"); err != nil {
		return nil, err
	}
	if err := sortUnique(pred, "prediction"); err != nil {
		return nil, err
	}
	gtIDs, predIDs := denseIDs(gt), denseIDs(pred)
	seq := &sequence{
		lastFrame: last,
		numGTIDs:  len(gtIDs), numPredIDs: len(predIDs),
		numGT: len(gt), numPred: len(pred),
	}
	// Merge the two frame-sorted lists into frames.
	for len(gt) > 0 || len(pred) > 0 {
		n := nextFrame(gt, pred)
		f := frame{num: n}
		for len(gt) > 0 && gt[0].Frame == n {
			f.gt, f.gtBox = append(f.gt, gtIDs[gt[0].ID]), append(f.gtBox, gt[0].Box)
			gt = gt[1:]
		}
		for len(pred) > 0 && pred[0].Frame == n {
			f.pred, f.predBox = append(f.pred, predIDs[pred[0].ID]), append(f.predBox, pred[0].Box)
			pred = pred[1:]
		}
		f.computeIoU()
		seq.frames = append(seq.frames, f)
	}
	return seq, nil
}

// nextFrame is the smallest frame number at the head of either list.
func nextFrame(gt, pred []motfile.Row) int {
	switch {
	case len(gt) == 0:
		return pred[0].Frame
	case len(pred) == 0:
		return gt[0].Frame
	}
	return min(gt[0].Frame, pred[0].Frame)
}

// sortUnique orders rows by frame, then id (so results do not depend on
// file order), and rejects duplicate (frame, id) pairs, which would make
// "the box of id i in frame f" ambiguous.
func sortUnique(rows []motfile.Row, what string) error {
	slices.SortStableFunc(rows, func(a, b motfile.Row) int {
		if a.Frame != b.Frame {
			return cmp.Compare(a.Frame, b.Frame)
		}
		return cmp.Compare(a.ID, b.ID)
	})
	for i := 1; i < len(rows); i++ {
		if rows[i-1].Frame == rows[i].Frame && rows[i-1].ID == rows[i].ID {
			return fmt.Errorf("moteval: %s has id %d twice in frame %d", what, rows[i].ID, rows[i].Frame)
		}
	}
	return nil
}

// denseIDs maps each distinct id to its rank, so per-id state can live in
// slices instead of maps.
func denseIDs(rows []motfile.Row) map[int]int {
	ids := make([]int, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	m := make(map[int]int, len(ids))
	for i, id := range ids {
		m[id] = i
	}
	return m
}

func (f *frame) computeIoU() {
	f.iou = make([]float64, len(f.gt)*len(f.pred))
	for i, g := range f.gtBox {
		for j, p := range f.predBox {
			f.iou[i*len(f.pred)+j] = g.IoU(p)
		}
	}
}

// at is the overlap of the frame's i-th gt box with its j-th prediction.
func (f *frame) at(i, j int) float64 { return f.iou[i*len(f.pred)+j] }

// overlaps is the devkit's match test, written as it is there (distance
// 1−IoU against 1−threshold) so that boundary cases round the same way.
func overlaps(iou, thr float64) bool { return 1-iou <= 1-thr }

// newMatrix allocates a zeroed rows×cols matrix in one block.
func newMatrix(rows, cols int) [][]float64 {
	back := make([]float64, rows*cols)
	m := make([][]float64, rows)
	for i := range m {
		m[i] = back[i*cols : (i+1)*cols]
	}
	return m
}

// ratio is a/b, or 0 when b is 0 (the devkit's "force to 0" for empty
// denominators).
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// assemble turns the three metric families into a Result.
func assemble(seq *sequence, c clearStats, id idStats, h hotaStats) Result {
	numGT := float64(seq.numGT)
	return Result{
		MOTA:      1 - float64(c.fn+c.fp+c.idsw)/numGT,
		MOTP:      ratio(c.iouSum, float64(c.tp)),
		MOTAL:     1 - (float64(c.fn+c.fp)+math.Log10(float64(c.idsw)+1))/numGT,
		Recall:    float64(c.tp) / numGT,
		Precision: ratio(float64(c.tp), float64(c.tp+c.fp)),
		FAR:       float64(c.fp) / float64(seq.lastFrame),
		IDF1:      2 * float64(id.idtp) / float64(seq.numGT+seq.numPred),
		IDP:       ratio(float64(id.idtp), float64(seq.numPred)),
		IDR:       float64(id.idtp) / numGT,
		HOTA:      h.hota, DetA: h.detA, AssA: h.assA, LocA: h.locA,
		TP: c.tp, FP: c.fp, FN: c.fn, IDSW: c.idsw, Frag: c.frag,
		MT: c.mt, PT: c.pt, ML: c.ml,
		IDTP: id.idtp, IDFP: seq.numPred - id.idtp, IDFN: seq.numGT - id.idtp,
		NumGT: seq.numGT, NumPred: seq.numPred,
		GTIDs: seq.numGTIDs, PredIDs: seq.numPredIDs,
		Frames: seq.lastFrame,
	}
}
