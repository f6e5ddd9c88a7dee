package track

import "github.com/vigil-cctv/vigil/internal/geom"

// Predict advances every track by one frame without detections and
// reports the confirmed tracks being followed, at their predicted boxes:
// the frames a detection policy skips (detect.Policy "carry") are carried
// by the Kalman filter this way, so rules still see every analysed frame.
// No track is lost or born by a carried frame, but carried frames count
// toward a lost track's buffer, since they are real time passing. Reported
// tracks have DetIndex -1 and keep the score of their last detection.
// Ended then lists only the tracks this frame retired (a lost track whose
// buffer ran out), like after Update.
func (t *Tracker) Predict() []Track {
	t.frame++
	t.ended = t.ended[:0]
	t.predict()
	t.expireLost()
	t.rebuild(nil)
	return t.output()
}

// Motion is a tracked object's predicted box and velocity, for detection
// planning (where to look, whether prediction can be trusted).
type Motion struct {
	ID  int // 0 for a track not yet confirmed
	Box geom.Box
	// VX and VY are the centre's velocity in pixels per frame.
	VX, VY float64
	// Lost is true for a track currently unmatched.
	Lost bool
}

// Motions reports every live track (tracked, unconfirmed and lost) with
// its current box and velocity, in no particular order.
func (t *Tracker) Motions() []Motion {
	out := make([]Motion, 0, len(t.tracked)+len(t.lost))
	for _, list := range [][]*strack{t.tracked, t.lost} {
		for _, s := range list {
			out = append(out, Motion{ID: s.id, Box: s.box, VX: s.kf.mean[4], VY: s.kf.mean[5], Lost: s.state == stateLost})
		}
	}
	return out
}
