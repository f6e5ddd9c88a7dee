package ingest

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/vigil-cctv/vigil/internal/camurl"
	"github.com/vigil-cctv/vigil/internal/decode"
)

// ReplayScheme starts the location of a replay source: frames generated in
// process, with no decoder, for a camera whose detections are recorded
// (config `recorded:` or `detector.recorded`). The recorded detections
// carry their own coordinates, so the picture only has to keep the chain
// moving: it alternates between two grey levels, so that the motion gate
// sees a change in every frame, as it would in a busy street. Example:
//
//	replay:frames=795,size=48x32,fps=7
//
// frames (required) is one pass of the recording; size (default 48x32)
// the picture; fps (default the camera's image_fps, else 25) the
// recording's own rate. A replay source behaves like a file: paced at its
// rate on the frame clock, looping or ending as the camera's `loop` says,
// analysed in full when it plays once.
const ReplayScheme = camurl.ReplayScheme

// Bounds of a replay location.
const (
	maxReplayLoc    = 128     // characters
	MaxReplayFrames = 1 << 24 // the recorded model's frame index limit
	maxReplaySide   = 4096
	maxReplayPixels = 3840 * 2160
	maxReplayFPS    = 120.0
)

// Replay is a parsed replay location.
type Replay struct {
	Frames        int     // frames in one pass, 1 to MaxReplayFrames
	Width, Height int     // the picture, 2 to 4096 pixels a side, at most 4K
	FPS           float64 // the source's rate; 0: the image rate option, else 25
}

// IsReplay reports whether a location names a replay source.
func IsReplay(loc string) bool { return camurl.IsReplay(loc) }

// ParseReplay reads a replay location; the error names what is wrong.
func ParseReplay(loc string) (Replay, error) {
	if !IsReplay(loc) {
		return Replay{}, fmt.Errorf("replay source: location must start with %q", ReplayScheme)
	}
	if len(loc) > maxReplayLoc {
		return Replay{}, fmt.Errorf("replay source: location longer than %d characters", maxReplayLoc)
	}
	r := Replay{Width: 48, Height: 32}
	seen := map[string]bool{}
	for _, kv := range strings.Split(strings.TrimPrefix(loc, ReplayScheme), ",") {
		key, val, ok := strings.Cut(kv, "=")
		if !ok || key == "" {
			return Replay{}, fmt.Errorf("replay source: want key=value pairs separated by commas (frames, size, fps), got %q", kv)
		}
		if seen[key] {
			return Replay{}, fmt.Errorf("replay source: %s given twice", key)
		}
		seen[key] = true
		if err := r.set(key, val); err != nil {
			return Replay{}, fmt.Errorf("replay source: %w", err)
		}
	}
	if r.Frames == 0 {
		return Replay{}, fmt.Errorf("replay source: frames is required (one pass of the recording, 1 to %d)", MaxReplayFrames)
	}
	return r, nil
}

func (r *Replay) set(key, val string) error {
	switch key {
	case "frames":
		n, err := strconv.Atoi(val)
		if err != nil || n < 1 || n > MaxReplayFrames {
			return fmt.Errorf("frames must be a whole number from 1 to %d, got %q", MaxReplayFrames, val)
		}
		r.Frames = n
	case "size":
		w, h, err := parseSize(val)
		if err != nil {
			return err
		}
		r.Width, r.Height = w, h
	case "fps":
		f, err := strconv.ParseFloat(val, 64)
		if err != nil || math.IsNaN(f) || f <= 0 || f > maxReplayFPS {
			return fmt.Errorf("fps must be above 0 and at most %v, got %q", maxReplayFPS, val)
		}
		r.FPS = f
	default:
		return fmt.Errorf("unknown key %q (want frames, size, fps)", key)
	}
	return nil
}

func parseSize(val string) (w, h int, err error) {
	ws, hs, ok := strings.Cut(val, "x")
	w, errW := strconv.Atoi(ws)
	h, errH := strconv.Atoi(hs)
	if !ok || errW != nil || errH != nil || w < 2 || h < 2 || w > maxReplaySide || h > maxReplaySide || w*h > maxReplayPixels {
		return 0, 0, fmt.Errorf("size must be WIDTHxHEIGHT, 2 to %d pixels a side and at most %d pixels, got %q",
			maxReplaySide, maxReplayPixels, val)
	}
	return w, h, nil
}

// replaySource generates one pass of a replay location's frames.
type replaySource struct {
	spec   Replay
	rate   float64 // output frames per second
	frames int     // output frames in one pass
	pix    [2][]byte
	// phase is the picture of the pass's first frame: a loop goes on
	// alternating where the last pass ended.
	phase int
}

// newReplaySource prepares a replay source: target is the camera's frame
// rate (0 keeps the source's), imageFPS the fallback source rate. Frames
// are selected by timestamp, as the decoder does for a file: a pass keeps
// its duration whatever the output rate.
func newReplaySource(loc string, target, imageFPS float64) (*replaySource, error) {
	spec, err := ParseReplay(loc)
	if err != nil {
		return nil, err
	}
	if spec.FPS == 0 {
		spec.FPS = imageFPS
	}
	if spec.FPS <= 0 {
		spec.FPS = 25
	}
	s := &replaySource{spec: spec, rate: spec.FPS, frames: spec.Frames}
	if target > 0 && target < spec.FPS {
		s.rate = target
		s.frames = max(1, int(math.Ceil(float64(spec.Frames)*target/spec.FPS)))
	}
	n := spec.Width * spec.Height * 3
	for i, level := range []byte{96, 160} {
		s.pix[i] = make([]byte, n)
		for j := range s.pix[i] {
			s.pix[i][j] = level
		}
	}
	return s, nil
}

// run sends one pass of frames, PTS from the frame index at the output
// rate, and closes the channel at its end or when ctx ends. The pictures
// are shared between frames and never written: consumers only read them.
func (s *replaySource) run(ctx context.Context, out chan<- *decode.Frame) {
	defer close(out)
	for i := range s.frames {
		f := &decode.Frame{Index: i, PTS: decode.PTSAt(i, s.rate), Width: s.spec.Width, Height: s.spec.Height, Pix: s.pix[(s.phase+i)%2]}
		select {
		case out <- f:
		case <-ctx.Done():
			return
		}
	}
}
