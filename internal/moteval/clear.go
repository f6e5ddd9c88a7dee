package moteval

import "github.com/vigil-cctv/vigil/internal/assign"

// clearStats are the CLEAR-MOT counts (Bernardin & Stiefelhagen 2008) plus
// the trajectory-level counts MOTChallenge prints beside them.
type clearStats struct {
	tp, fp, fn, idsw, frag int
	mt, pt, ml             int
	iouSum                 float64
}

// clearState is the per-gt-id memory carried from frame to frame.
type clearState struct {
	prev        []int // pred id matched in the previous frame, -1 if none
	cur         []int // pred id matched in this frame, -1 if none
	last        []int // pred id of the most recent match ever, -1 if none
	lastTracked []int // number of the last frame the gt id was matched in, 0 if never
	tracked     []int // frames in which the gt id was matched
	present     []int // frames in which the gt id exists
}

func newClearState(numGT int) *clearState {
	s := &clearState{}
	for _, p := range []*[]int{&s.prev, &s.cur, &s.last, &s.lastTracked, &s.tracked, &s.present} {
		*p = make([]int, numGT)
	}
	unset(s.prev)
	unset(s.cur)
	unset(s.last)
	return s
}

// unset marks every entry of an id-indexed slice as "no id".
func unset(ids []int) {
	for i := range ids {
		ids[i] = -1
	}
}

// clearMOT runs the devkit's frame-by-frame matching and counts errors.
func clearMOT(seq *sequence, thr float64) clearStats {
	var st clearStats
	s := newClearState(seq.numGTIDs)
	predCol := make([]int, seq.numPredIDs) // column of a pred id in the current frame, -1 if absent
	unset(predCol)
	prevNum := 0
	for k := range seq.frames {
		f := &seq.frames[k]
		// Only the previous frame's matches carry over (devkit M(t-1,:)):
		// a gt id absent or missed there must be matched afresh, and after
		// a frame with no boxes at all nothing carries over.
		if f.num != prevNum+1 {
			unset(s.prev)
		}
		for j, p := range f.pred {
			predCol[p] = j
		}
		rowMatch := matchFrame(f, s.prev, predCol, thr)
		st.count(f, rowMatch, s)
		for _, p := range f.pred {
			predCol[p] = -1
		}
		unset(s.prev)
		for _, g := range f.gt {
			s.prev[g] = s.cur[g]
		}
		prevNum = f.num
	}
	st.classify(s)
	return st
}

// matchFrame pairs the frame's gt boxes (rows) with predictions (columns).
// As in the devkit, a pair matched in the previous frame is kept whenever it
// still overlaps enough, even if another pairing would fit better; this is
// what makes an identity switch cost something. The rest is a min-cost
// assignment on 1−IoU gated at the threshold, which first maximises the
// number of matches, then their total overlap.
func matchFrame(f *frame, prev, predCol []int, thr float64) []int {
	rowMatch := make([]int, len(f.gt))
	colUsed := make([]bool, len(f.pred))
	var freeRows, freeCols []int
	for i, g := range f.gt {
		rowMatch[i] = -1
		if p := prev[g]; p >= 0 {
			if j := predCol[p]; j >= 0 && overlaps(f.at(i, j), thr) {
				rowMatch[i], colUsed[j] = j, true
				continue
			}
		}
		freeRows = append(freeRows, i)
	}
	for j := range f.pred {
		if !colUsed[j] {
			freeCols = append(freeCols, j)
		}
	}
	if len(freeRows) == 0 || len(freeCols) == 0 {
		return rowMatch
	}
	cost := newMatrix(len(freeRows), len(freeCols))
	for a, i := range freeRows {
		for b, j := range freeCols {
			cost[a][b] = 1 - f.at(i, j)
		}
	}
	for a, b := range assign.Solve(cost, 1-thr) {
		if b >= 0 {
			rowMatch[freeRows[a]] = freeCols[b]
		}
	}
	return rowMatch
}

// count books one frame's matches.
func (st *clearStats) count(f *frame, rowMatch []int, s *clearState) {
	matches := 0
	for i, g := range f.gt {
		s.present[g]++
		s.cur[g] = -1
		j := rowMatch[i]
		if j < 0 {
			continue
		}
		p := f.pred[j]
		matches++
		st.iouSum += f.at(i, j)
		s.cur[g] = p
		// A switch compares with the last match ever, not just the
		// previous frame, so re-acquiring a target under a new id after an
		// occlusion still counts (py-motmetrics, TrackEval and the devkit
		// agree; the devkit alone also requires the gt to exist in the
		// previous frame, which is left out here as an artefact).
		if s.last[g] >= 0 && s.last[g] != p {
			st.idsw++
		}
		s.last[g] = p
		// A fragmentation is a tracked stretch that resumes after at least
		// one untracked frame; frames where the gt is absent count as
		// untracked, as in the devkit's alltracked column.
		if s.lastTracked[g] > 0 && s.lastTracked[g] != f.num-1 {
			st.frag++
		}
		s.lastTracked[g] = f.num
		s.tracked[g]++
	}
	st.tp += matches
	st.fn += len(f.gt) - matches
	st.fp += len(f.pred) - matches
}

// classify sorts gt trajectories by the share of their life that was
// tracked: mostly tracked above 80%, mostly lost below 20%, partially
// tracked otherwise. The strict bounds are TrackEval's and, for every
// trajectory the tracker's output spans, the devkit's (py-motmetrics counts
// exactly 80% as mostly tracked instead).
func (st *clearStats) classify(s *clearState) {
	for g, n := range s.present { // every gt id exists in some frame, so n > 0
		r := float64(s.tracked[g]) / float64(n)
		switch {
		case r > 0.8:
			st.mt++
		case r < 0.2:
			st.ml++
		default:
			st.pt++
		}
	}
}
