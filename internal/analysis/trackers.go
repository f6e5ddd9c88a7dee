package analysis

import (
	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/track"
)

// Tracker turns a frame's detections into tracks and reports, once per
// track, when one has ended.
type Tracker interface {
	// Update returns the tracks matched in f, sorted by id.
	Update(f *decode.Frame, dets []detect.Detection) []track.Track
	// Ended lists the ids the latest Update ended.
	Ended() []int
	// Close ends the stream: every open track ends, and its id is listed.
	Close() []int
}

// Predictor is a Tracker that can carry its tracks through a frame
// without detections (Chain.Carry) and report their motion.
type Predictor interface {
	// Predict advances every track by one frame without detections and
	// returns the confirmed tracks being followed, sorted by id; Ended
	// then lists the tracks that frame retired.
	Predict(f *decode.Frame) []track.Track
	// Motions reports the live tracks' boxes and velocities.
	Motions() []track.Motion
}

// ByteTrack runs the live tracker.
type ByteTrack struct{ T *track.Tracker }

// Update tracks the detections.
func (b ByteTrack) Update(_ *decode.Frame, dets []detect.Detection) []track.Track {
	return b.T.Update(dets)
}

// Predict carries the tracks through a frame without detections.
func (b ByteTrack) Predict(_ *decode.Frame) []track.Track { return b.T.Predict() }

// Motions reports the live tracks' boxes and velocities.
func (b ByteTrack) Motions() []track.Motion { return b.T.Motions() }

// Ended lists the tracks retired by the latest Update or Predict.
func (b ByteTrack) Ended() []int { return b.T.Ended() }

// Close ends every track.
func (b ByteTrack) Close() []int { return b.T.Close() }

// Recorded replays recorded tracks instead of tracking: ground truth, a
// track file, or stored history. Frames are looked up by decode.Frame.Index
// (the source frame index from 0); detections are ignored.
type Recorded struct{ R *track.Replay }

// Update returns the tracks recorded for f.
func (r Recorded) Update(f *decode.Frame, _ []detect.Detection) []track.Track {
	return r.R.Update(f.Index)
}

// Ended lists the recorded tracks that ended.
func (r Recorded) Ended() []int { return r.R.Ended() }

// Close ends every recorded track still open.
func (r Recorded) Close() []int { return r.R.Close() }
