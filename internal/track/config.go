package track

import (
	"errors"
	"fmt"
	"math"
)

// Config holds the tracker's thresholds. The defaults are ByteTrack's
// published MOT17 settings; detectors whose scores live in a different
// range (for example Faster R-CNN outputs that never go below 0.5) need
// the score thresholds moved, not the code.
type Config struct {
	// HighThresh splits detections: those scoring above it take part in
	// the first association stage and may start tracks.
	HighThresh float32
	// LowThresh is the floor of the second stage: detections scoring in
	// (LowThresh, HighThresh] may only extend existing tracks.
	LowThresh float32
	// NewTrackThresh is the score an unmatched high detection needs to
	// start a track. It sits above HighThresh so that borderline boxes
	// cannot spawn short-lived false tracks.
	NewTrackThresh float32
	// MatchIoU is the least IoU (score-weighted when FuseScore is set) for
	// a first-stage match; ByteTrack's match_thresh 0.8 on 1−IoU is 0.2.
	MatchIoU float64
	// SecondMatchIoU is the least IoU for low-score detections.
	SecondMatchIoU float64
	// UnconfirmedMatchIoU is the least IoU for a track seen only once.
	UnconfirmedMatchIoU float64
	// FPS is the frame rate of the input, used to turn BufferSeconds into
	// frames so that behaviour does not depend on the camera's rate.
	FPS float64
	// BufferSeconds is how long a lost track may wait to be re-found
	// before its id is retired.
	BufferSeconds float64
	// MinConfirmHits is how many associated detections a new track needs
	// before it is reported (ByteTrack: 2). Tracks born on the very first
	// frame are confirmed at once, as in ByteTrack, since there is no
	// earlier frame to have confirmed them.
	MinConfirmHits int
	// FuseScore multiplies IoU by the detection score in the first and
	// unconfirmed stages (ByteTrack's fuse_score), favouring confident
	// boxes when several overlap one track.
	FuseScore bool
	// AppearanceDist is the largest appearance distance, half the cosine
	// distance of two embeddings, at which appearance may lower a
	// first-stage cost (UpdateWith); BoT-SORT's appearance_thresh 0.25.
	AppearanceDist float64
	// ProximityIoU is the least box IoU for appearance to count at all,
	// so that a look-alike far away is never preferred; BoT-SORT's
	// proximity_thresh 0.5 on 1−IoU.
	ProximityIoU float64
	// FeatureMomentum weighs a track's appearance against a new clean
	// crop in its moving average; BoT-SORT's 0.9.
	FeatureMomentum float64
}

// DefaultConfig is ByteTrack's configuration for a source running at fps
// frames per second: a one-second (30 frames at 30 fps) lost-track buffer.
func DefaultConfig(fps float64) Config {
	return Config{
		HighThresh:          0.5,
		LowThresh:           0.1,
		NewTrackThresh:      0.6,
		MatchIoU:            0.2,
		SecondMatchIoU:      0.5,
		UnconfirmedMatchIoU: 0.3,
		FPS:                 fps,
		BufferSeconds:       1,
		MinConfirmHits:      2,
		FuseScore:           true,
		AppearanceDist:      0.25,
		ProximityIoU:        0.5,
		FeatureMomentum:     0.9,
	}
}

// Validate reports the first setting that would make the tracker
// meaningless rather than merely unusual.
func (c Config) Validate() error {
	for _, s := range []struct {
		name string
		v    float64
	}{
		{"HighThresh", float64(c.HighThresh)},
		{"LowThresh", float64(c.LowThresh)},
		{"NewTrackThresh", float64(c.NewTrackThresh)},
		{"AppearanceDist", c.AppearanceDist},
		{"ProximityIoU", c.ProximityIoU},
		{"FeatureMomentum", c.FeatureMomentum},
	} {
		if !(s.v >= 0 && s.v <= 1) {
			return fmt.Errorf("track: %s %v outside [0, 1]", s.name, s.v)
		}
	}
	if c.LowThresh > c.HighThresh {
		return fmt.Errorf("track: LowThresh %v above HighThresh %v", c.LowThresh, c.HighThresh)
	}
	for _, s := range []struct {
		name string
		v    float64
	}{
		{"MatchIoU", c.MatchIoU},
		{"SecondMatchIoU", c.SecondMatchIoU},
		{"UnconfirmedMatchIoU", c.UnconfirmedMatchIoU},
	} {
		// IoU 0 would let boxes that do not touch at all be matched.
		if !(s.v > 0 && s.v <= 1) {
			return fmt.Errorf("track: %s %v outside (0, 1]", s.name, s.v)
		}
	}
	if !(c.FPS > 0) || math.IsInf(c.FPS, 0) {
		return fmt.Errorf("track: FPS %v must be positive and finite", c.FPS)
	}
	if !(c.BufferSeconds >= 0) || math.IsInf(c.BufferSeconds, 0) {
		return fmt.Errorf("track: BufferSeconds %v must be non-negative and finite", c.BufferSeconds)
	}
	if c.MinConfirmHits < 1 {
		return errors.New("track: MinConfirmHits must be at least 1")
	}
	return nil
}

// bufferFrames is how many frames a lost track survives unmatched.
func (c Config) bufferFrames() int {
	return int(math.Round(c.FPS * c.BufferSeconds))
}
