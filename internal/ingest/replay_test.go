package ingest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/decode"
)

func TestParseReplay(t *testing.T) {
	good := map[string]Replay{
		"replay:frames=795":                   {Frames: 795, Width: 48, Height: 32},
		"replay:frames=10,size=768x576,fps=7": {Frames: 10, Width: 768, Height: 576, FPS: 7},
		"replay:fps=2.5,frames=1":             {Frames: 1, Width: 48, Height: 32, FPS: 2.5},
	}
	for loc, want := range good {
		got, err := ParseReplay(loc)
		require.NoError(t, err, loc)
		assert.Equal(t, want, got, loc)
	}
	bad := map[string]string{
		"replay:":                                     "want key=value",
		"replay:size=48x32":                           "frames is required",
		"replay:frames=0":                             "frames must be",
		"replay:frames=16777217":                      "frames must be",
		"replay:frames=-3":                            "frames must be",
		"replay:frames=1,frames=2":                    "given twice",
		"replay:frames=1,size=1x32":                   "size must be",
		"replay:frames=1,size=4096x4096":              "at most",
		"replay:frames=1,size=48":                     "size must be",
		"replay:frames=1,fps=0":                       "fps must be",
		"replay:frames=1,fps=NaN":                     "fps must be",
		"replay:frames=1,fps=121":                     "fps must be",
		"replay:frames=1,colour=red":                  "unknown key",
		"replay:frames=1,,fps=5":                      "want key=value",
		"replay:frames=1," + strings.Repeat("x", 200): "longer than",
		"/data/frames":                                "must start with",
	}
	for loc, want := range bad {
		_, err := ParseReplay(loc)
		require.Error(t, err, loc)
		assert.Contains(t, err.Error(), want, loc)
		assert.True(t, strings.HasPrefix(err.Error(), "replay source: "), loc)
	}
}

func FuzzParseReplay(f *testing.F) {
	for _, s := range []string{"replay:frames=795", "replay:frames=10,size=768x576,fps=7", "replay:fps=1e308", "replay:size=0x0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, loc string) {
		r, err := ParseReplay(loc)
		if err != nil {
			return
		}
		if len(loc) > maxReplayLoc || r.Frames < 1 || r.Frames > MaxReplayFrames || r.Width < 2 || r.Height < 2 ||
			r.Width*r.Height > maxReplayPixels || r.FPS < 0 || r.FPS > maxReplayFPS {
			t.Fatalf("%q accepted out of bounds: %+v", loc, r)
		}
	})
}

// fakeWall is a wall clock that moves only when the pacer sleeps.
type fakeWall struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func (w *fakeWall) Now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

func (w *fakeWall) Sleep(ctx context.Context, d time.Duration) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.now = w.now.Add(d)
	w.slept = append(w.slept, d)
	return ctx.Err() == nil
}

// playReplay runs a replay camera with a fake wall clock and collects its
// frames, at most stopAfter (then it cancels); it returns Run's error.
func playReplay(t *testing.T, cam Camera, opt Options, stopAfter int) ([]Frame, *Supervisor, *fakeWall, error) {
	t.Helper()
	wall := &fakeWall{now: time.Unix(1000, 0)}
	opt.Lossless = true // every frame reaches the test, however busy the box
	sup := NewSupervisor(cam, opt)
	sup.wall = wall
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := make(chan Frame)
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx, out); close(out) }()
	var got []Frame
	for f := range out {
		got = append(got, f)
		if len(got) == stopAfter {
			cancel()
		}
	}
	return got, sup, wall, <-done
}

func TestReplayPlaysOncePacedOnTheFrameClock(t *testing.T) {
	frames, sup, wall, err := playReplay(t, Camera{ID: "r", URL: "replay:frames=10,fps=5,size=8x6"}, Options{}, 0)
	require.NoError(t, err, "a replay played once ends like a file")
	require.Len(t, frames, 10)
	for i, f := range frames {
		assert.Equal(t, int64(i), f.Seq)
		assert.Equal(t, time.Duration(i)*200*time.Millisecond, f.PTS, "frame %d", i)
		assert.Equal(t, 8, f.Width)
		assert.Equal(t, 6, f.Height)
		assert.Len(t, f.Pix, 8*6*3)
		if i > 0 {
			assert.NotEqual(t, frames[i-1].Pix[0], f.Pix[0], "consecutive frames differ, for the motion gate")
		}
	}
	// Each frame after the first waited one interval of the fake clock,
	// and is handed on at its own time (the camera clock), not when the
	// frame before it was due.
	assert.Equal(t, slicesRepeat(200*time.Millisecond, 9), wall.slept)
	for i, f := range frames {
		assert.Equal(t, f.PTS, f.Received.Sub(frames[0].Received), "frame %d arrives at its PTS", i)
	}
	st := sup.Status()
	assert.Equal(t, StateStopped, st.State)
	assert.Equal(t, "end of input", st.Reason)
}

func slicesRepeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func TestReplayUnpacedWhenAnalysedInFull(t *testing.T) {
	frames, _, wall, err := playReplay(t, Camera{ID: "r", URL: "replay:frames=6"}, Options{NoPacing: true}, 0)
	require.NoError(t, err)
	assert.Len(t, frames, 6)
	assert.Empty(t, wall.slept, "a replay analysed in full runs as fast as the consumer")
	assert.Equal(t, 5*40*time.Millisecond, frames[5].PTS, "25 fps by default")
}

func TestReplayLoopsWithContinuousPTS(t *testing.T) {
	frames, sup, _, err := playReplay(t, Camera{ID: "r", URL: "replay:frames=3,fps=10", Loop: true},
		Options{Gate: &GateOptions{}}, 8)
	require.ErrorIs(t, err, context.Canceled)
	require.Len(t, frames, 8)
	for i, f := range frames {
		assert.Equal(t, int64(i), f.Seq)
		assert.Equal(t, time.Duration(i)*100*time.Millisecond, f.PTS, "frame %d: one time line across loops", i)
	}
	st := sup.Status()
	assert.GreaterOrEqual(t, st.Loops, int64(2))
	assert.Zero(t, st.FramesGated, "the motion gate passes every replay frame")
}

func TestReplaySelectsTheCameraRate(t *testing.T) {
	frames, _, _, err := playReplay(t, Camera{ID: "r", URL: "replay:frames=10", FPS: 5}, Options{Decode: decodeImageFPS(10)}, 0)
	require.NoError(t, err)
	require.Len(t, frames, 5, "10 frames at 10 fps are 5 at 5 fps")
	assert.Equal(t, 800*time.Millisecond, frames[4].PTS)
}

func TestReplayBadLocationFailsAtOnce(t *testing.T) {
	sup := NewSupervisor(Camera{ID: "r", URL: "replay:frames=1,size=huge"}, Options{})
	err := sup.Run(t.Context(), make(chan Frame))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "camera r: replay source: size must be")
	assert.Equal(t, StateStopped, sup.Status().State)
}

func decodeImageFPS(fps float64) decode.Options { return decode.Options{ImageFPS: fps} }
