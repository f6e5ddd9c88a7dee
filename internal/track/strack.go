package track

import (
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/geom"
)

// Track is one tracked object as reported for a frame.
type Track struct {
	// ID is positive, unique within a Tracker and never reused.
	ID int
	// Class is the score-weighted majority class of the detections this
	// track has absorbed, always within one class group.
	Class detect.Class
	// Box is the Kalman estimate after this frame's correction, which is
	// smoother than the raw detection (ByteTrack reports the same).
	Box geom.Box
	// Score is the score of the detection matched this frame.
	Score float32
	// DetIndex is the index, in the slice passed to Update, of the
	// detection matched this frame; -1 for a track reported by Lost.
	DetIndex int
	// Hits counts the detections associated with the track so far.
	Hits int
	// Age is the number of frames since the track started (0 on its
	// first frame).
	Age int
}

type trackState uint8

const (
	stateTracked trackState = iota
	stateLost
	stateRemoved
)

// classVote accumulates detection scores for one class of the group.
type classVote struct {
	class  detect.Class
	weight float64
}

// strack is the tracker's private state for one track.
type strack struct {
	// id is 0 until the track is confirmed: ids are handed out only to
	// tracks that are reported, so single-frame false positives do not
	// burn ids and reported ids stay dense.
	id        int
	kf        kalman
	box       geom.Box // kf.box(), cached after each predict/update
	state     trackState
	confirmed bool
	group     int
	votes     []classVote
	class     detect.Class
	score     float32
	detIndex  int // -1 unless matched in the current frame
	hits      int
	start     int // frame the track was born
	last      int // frame of the latest association
	// feat is the appearance embedding (an EMA of clean crops), nil
	// until one is seen; featFrame is the frame it was last updated.
	feat      []float32
	featFrame int
}

// newStrack starts a track from detection i of the current frame.
func newStrack(d detect.Detection, i, frame int) *strack {
	s := &strack{
		kf:    newKalman(xyah(d.Box)),
		group: d.Class.Group(),
		start: frame,
	}
	s.box = s.kf.box()
	s.associate(d, i, frame)
	return s
}

// predict moves the track one frame ahead.
func (s *strack) predict() {
	if s.state != stateTracked {
		// A lost track's height velocity is stale (often from the
		// occlusion that lost it), so it is not extrapolated further.
		s.kf.mean[7] = 0
	}
	s.kf.predict()
	s.box = s.kf.box()
}

// associate absorbs detection i: Kalman correction, class vote, counters.
// It covers both ByteTrack's update and re_activate, which differ only in
// bookkeeping Vigil does not report.
func (s *strack) associate(d detect.Detection, i, frame int) {
	if s.hits > 0 { // a new track's filter already sits on the detection
		s.kf.update(xyah(d.Box))
		s.box = s.kf.box()
	}
	s.state = stateTracked
	s.score = d.Score
	s.detIndex = i
	s.hits++
	s.last = frame
	s.vote(d.Class, float64(d.Score))
}

// vote adds a score-weighted vote for class c and re-elects the class.
// Ties go to the class voted first, so the label does not flicker.
func (s *strack) vote(c detect.Class, w float64) {
	found := false
	for i := range s.votes {
		if s.votes[i].class == c {
			s.votes[i].weight += w
			found = true
			break
		}
	}
	if !found {
		s.votes = append(s.votes, classVote{class: c, weight: w})
	}
	best := s.votes[0]
	for _, v := range s.votes[1:] {
		if v.weight > best.weight {
			best = v
		}
	}
	s.class = best.class
}

// report is the public view of the track at frame.
func (s *strack) report(frame int) Track {
	return Track{
		ID:       s.id,
		Class:    s.class,
		Box:      s.box,
		Score:    s.score,
		DetIndex: s.detIndex,
		Hits:     s.hits,
		Age:      frame - s.start,
	}
}
