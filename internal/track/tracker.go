package track

import (
	"cmp"
	"math"
	"slices"

	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/geom"
)

// duplicateIoU is ByteTrack's threshold (distance 0.15) above which a
// tracked and a lost track are taken to be the same object.
const duplicateIoU = 0.85

// Tracker is a ByteTrack multi-object tracker for one camera. It is not
// safe for concurrent use; run one Tracker per stream.
type Tracker struct {
	cfg          Config
	bufferFrames int
	frame        int
	lastID       int
	tracked      []*strack // matched last frame, confirmed or not
	lost         []*strack // confirmed, unmatched for up to bufferFrames
	m            matcher
	sortBuf      []*strack // scratch for reportSorted
	ended        []int     // ids retired by the latest Update
	// app gives embeddings during UpdateWith; embs caches this frame's,
	// by detection index (a nil entry: asked, none given).
	app  Appearance
	embs map[int][]float32
}

// New builds a tracker, rejecting an invalid configuration.
func New(cfg Config) (*Tracker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Tracker{cfg: cfg, bufferFrames: cfg.bufferFrames()}, nil
}

// Frame is the number of frames processed so far: 1 after the first
// Update.
func (t *Tracker) Frame() int { return t.frame }

// Update feeds one frame's detections and returns the confirmed tracks
// matched in this frame, sorted by ID; each carries the index of its
// detection in dets. Detections with empty or non-finite boxes are
// ignored. dets is not retained.
func (t *Tracker) Update(dets []detect.Detection) []Track {
	return t.UpdateWith(dets, nil)
}

// UpdateWith is Update with appearance (BoT-SORT style): where the first
// association stage is ambiguous, a detection that looks like a track
// (AppearanceDist) and overlaps it (ProximityIoU) costs the lower of the
// IoU and appearance distances, and clean crops keep each track's
// appearance current. app is asked only for the detections it needs and
// is not retained; with a nil app this is Update.
func (t *Tracker) UpdateWith(dets []detect.Detection, app Appearance) []Track {
	t.frame++
	t.ended = t.ended[:0]
	t.app = app
	if app != nil {
		t.embs = map[int][]float32{}
	}
	high, low := t.splitDets(dets)
	pool, unconfirmed := t.predict()

	unmatchedTracked, remainHigh := t.associateFirst(pool, dets, high)
	t.associateSecond(unmatchedTracked, dets, low)
	newDets := t.associateUnconfirmed(unconfirmed, dets, remainHigh)
	born := t.startTracks(dets, newDets)
	t.expireLost()
	t.rebuild(born)
	t.removeDuplicates()
	t.learnAppearance()
	t.app, t.embs = nil, nil
	return t.output()
}

// Ended returns the ids of the reported tracks that the latest Update
// retired for good: lost for longer than the buffer, or merged into a
// duplicate. Each id is reported exactly once, sorted; it is the one
// signal every consumer (rules, baseline, summaries) ends a track on.
func (t *Tracker) Ended() []int { return t.ended }

// Open returns the ids of the reported tracks still alive (tracked or
// lost), sorted: at the end of a stream they are the ones to end.
func (t *Tracker) Open() []int {
	var ids []int
	for _, list := range [][]*strack{t.tracked, t.lost} {
		for _, s := range list {
			if s.confirmed {
				ids = append(ids, s.id)
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// Close ends the stream: it forgets every track and returns the ids of
// the reported ones (Open), which end now. Ids are never reused after.
func (t *Tracker) Close() []int {
	ids := t.Open()
	t.tracked, t.lost = nil, nil
	return ids
}

// Lost returns the confirmed tracks that are currently unmatched but may
// still be re-found, at their predicted boxes, sorted by ID. Their
// DetIndex is -1 and Score is that of their last detection.
func (t *Tracker) Lost() []Track {
	return t.reportSorted(t.lost)
}

// splitDets returns the indices of usable high- and low-score detections.
func (t *Tracker) splitDets(dets []detect.Detection) (high, low []int) {
	for i, d := range dets {
		if !usableBox(d.Box) {
			continue
		}
		switch {
		case d.Score > t.cfg.HighThresh:
			high = append(high, i)
		case d.Score > t.cfg.LowThresh:
			low = append(low, i)
		}
	}
	return high, low
}

// usableBox rejects boxes the filter cannot represent (aspect ratio
// needs a positive height) and non-finite input.
func usableBox(b geom.Box) bool {
	for _, v := range [...]float64{b.X, b.Y, b.W, b.H} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return b.W > 0 && b.H > 0
}

// predict advances every live track and splits them into the first-stage
// pool (confirmed tracked plus lost) and the unconfirmed tracks.
func (t *Tracker) predict() (pool, unconfirmed []*strack) {
	pool = make([]*strack, 0, len(t.tracked)+len(t.lost))
	for _, s := range t.tracked {
		if s.confirmed {
			pool = append(pool, s)
		} else {
			unconfirmed = append(unconfirmed, s)
		}
	}
	pool = append(pool, t.lost...)
	for _, s := range pool {
		s.detIndex = -1
		s.predict()
	}
	for _, s := range unconfirmed {
		s.detIndex = -1
		s.predict()
	}
	return pool, unconfirmed
}

// associateFirst matches high-score detections to confirmed tracks, lost
// ones included so that a re-appearing object gets its id back. It
// returns the still-unmatched tracks that were being tracked (lost ones
// do not get a second chance with weak boxes) and the unused detections.
func (t *Tracker) associateFirst(pool []*strack, dets []detect.Detection, high []int) (unmatchedTracked []*strack, remainHigh []int) {
	rowTo, colTo := t.matchTracks(pool, dets, high, t.cfg.MatchIoU, t.cfg.FuseScore, t.refineByAppearance(pool, high))
	for r, c := range rowTo {
		s := pool[r]
		switch {
		case c >= 0:
			s.associate(dets[high[c]], high[c], t.frame)
		case s.state == stateTracked:
			unmatchedTracked = append(unmatchedTracked, s)
		}
	}
	return unmatchedTracked, unmatchedDets(high, colTo)
}

// associateSecond is ByteTrack's key step: tracks left over by the first
// stage may take low-score detections, typically the same objects
// partly occluded. Tracks still unmatched become lost.
func (t *Tracker) associateSecond(tracks []*strack, dets []detect.Detection, low []int) {
	// No score fusion: every candidate is weak by construction, so the
	// score would only shrink the IoU margin.
	rowTo, _ := t.matchTracks(tracks, dets, low, t.cfg.SecondMatchIoU, false, nil)
	for r, c := range rowTo {
		if c >= 0 {
			tracks[r].associate(dets[low[c]], low[c], t.frame)
		} else {
			tracks[r].state = stateLost
		}
	}
}

// associateUnconfirmed gives tracks seen only once a chance at the
// remaining high detections. An unconfirmed track that misses is dropped
// outright: one unmatched frame is evidence it was a false positive.
func (t *Tracker) associateUnconfirmed(unconfirmed []*strack, dets []detect.Detection, high []int) (remain []int) {
	rowTo, colTo := t.matchTracks(unconfirmed, dets, high, t.cfg.UnconfirmedMatchIoU, t.cfg.FuseScore, nil)
	for r, c := range rowTo {
		s := unconfirmed[r]
		if c < 0 {
			s.state = stateRemoved
			continue
		}
		s.associate(dets[high[c]], high[c], t.frame)
		if s.hits >= t.cfg.MinConfirmHits {
			t.confirm(s)
		}
	}
	return unmatchedDets(high, colTo)
}

// startTracks births tracks from confident unmatched detections. Only
// the first frame confirms them at once: later, a new track must be seen
// again before it is reported.
func (t *Tracker) startTracks(dets []detect.Detection, idx []int) []*strack {
	var born []*strack
	for _, i := range idx {
		if dets[i].Score < t.cfg.NewTrackThresh {
			continue
		}
		s := newStrack(dets[i], i, t.frame)
		if t.frame == 1 || t.cfg.MinConfirmHits <= 1 {
			t.confirm(s)
		}
		born = append(born, s)
	}
	return born
}

// confirm makes a track reportable and gives it the next id.
func (t *Tracker) confirm(s *strack) {
	s.confirmed = true
	t.lastID++
	s.id = t.lastID
}

// expireLost retires tracks lost for longer than the buffer.
func (t *Tracker) expireLost() {
	for _, s := range t.lost {
		if s.state == stateLost && t.frame-s.last > t.bufferFrames {
			s.state = stateRemoved
		}
	}
}

// rebuild re-files every live track by its state after this frame.
func (t *Tracker) rebuild(born []*strack) {
	var tracked, lost []*strack
	for _, list := range [][]*strack{t.tracked, t.lost, born} {
		for _, s := range list {
			switch s.state {
			case stateTracked:
				tracked = append(tracked, s)
			case stateLost:
				lost = append(lost, s)
			case stateRemoved:
				if s.confirmed {
					t.ended = append(t.ended, s.id)
				}
			}
		}
	}
	t.tracked, t.lost = tracked, lost
	slices.Sort(t.ended)
}

// removeDuplicates handles a lost track that sits on a tracked one: the
// same object has been picked up by two tracks, and the one followed for
// longer keeps it.
func (t *Tracker) removeDuplicates() {
	if len(t.tracked) == 0 || len(t.lost) == 0 {
		return
	}
	t.loadSide(&t.m.rows, t.tracked)
	t.loadSide(&t.m.cols, t.lost)
	t.m.gatedPairs(1-duplicateIoU, false)
	for _, p := range t.m.pairs {
		if p.cost >= 1-duplicateIoU { // strictly above the IoU threshold
			continue
		}
		a, b := t.tracked[p.r], t.lost[p.c]
		if a.last-a.start > b.last-b.start {
			b.state = stateRemoved
		} else {
			a.state = stateRemoved
		}
	}
	t.rebuild(nil)
}

// output reports the confirmed tracks matched this frame.
func (t *Tracker) output() []Track {
	return t.reportSorted(t.tracked)
}

// reportSorted reports the confirmed tracks of list in id order. Pointers
// are sorted rather than the much larger Track values.
func (t *Tracker) reportSorted(list []*strack) []Track {
	t.sortBuf = t.sortBuf[:0]
	for _, s := range list {
		if s.confirmed {
			t.sortBuf = append(t.sortBuf, s)
		}
	}
	slices.SortFunc(t.sortBuf, func(a, b *strack) int { return cmp.Compare(a.id, b.id) })
	out := make([]Track, len(t.sortBuf))
	for i, s := range t.sortBuf {
		out[i] = s.report(t.frame)
	}
	clear(t.sortBuf) // do not keep removed tracks reachable
	return out
}

// matchTracks runs one association stage between tracks and the
// detections dets[idx[k]].
func (t *Tracker) matchTracks(tracks []*strack, dets []detect.Detection, idx []int, minIoU float64, fuse bool, refine func([]pair)) (rowTo, colTo []int) {
	t.loadSide(&t.m.rows, tracks)
	t.m.cols.reset()
	for _, i := range idx {
		t.m.cols.add(dets[i].Box, dets[i].Class.Group(), dets[i].Score)
	}
	return t.m.match(minIoU, fuse, refine)
}

func (t *Tracker) loadSide(s *side, tracks []*strack) {
	s.reset()
	for _, tr := range tracks {
		s.add(tr.box, tr.group, tr.score)
	}
}

// unmatchedDets returns the detection indices whose column found no row.
func unmatchedDets(idx, colTo []int) []int {
	var out []int
	for c, r := range colTo {
		if r < 0 {
			out = append(out, idx[c])
		}
	}
	return out
}
