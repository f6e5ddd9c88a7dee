// Package decode turns video files, image sequences and RTSP streams into
// RGB frames stamped with their presentation time, using ffmpeg as a
// subprocess. Time inside Vigil is always a frame's PTS, never the wall
// clock, so files, replays and live streams give the same answers.
package decode

import (
	"math"
	"time"
)

// Frame is one decoded picture.
type Frame struct {
	// Index is the frame's position in the source from 0, counting every
	// decoded frame, also those left out by fps selection; MOT frame
	// numbers are Index+1, so output at a reduced rate still scores against
	// the sequence's ground truth.
	Index int
	// PTS is the presentation time relative to the start of the stream.
	PTS time.Duration
	// Width and Height are in pixels; Pix is packed RGB24, row-major,
	// Width*Height*3 bytes.
	Width, Height int
	Pix           []byte
	// Received is the wall-clock arrival time, set by live ingest; it is
	// only for latency metrics, never for analysis (time is PTS).
	Received time.Time
}

// PTSAt is the timestamp of frame i at a constant fps, rounded to the
// nanosecond so that i/fps lands exactly on whole milliseconds when it can.
func PTSAt(i int, fps float64) time.Duration {
	return time.Duration(math.Round(float64(i) / fps * float64(time.Second)))
}
