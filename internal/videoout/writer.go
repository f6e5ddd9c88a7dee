// Package videoout writes annotated video: raw RGB24 frames piped into an
// ffmpeg subprocess that encodes them as H.264 in an MP4 file.
//
// Frames are timed by the frame rate alone (constant frame rate output):
// frame n is shown at n/fps seconds.
package videoout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultFFmpeg is the ffmpeg binary used unless WithFFmpeg says otherwise;
// a name without a slash is looked up on PATH.
const DefaultFFmpeg = "ffmpeg"

// Limits on Open's arguments.
const (
	MaxDim = 16384 // largest width or height
	MaxFPS = 1000
)

// ErrNoFrames is returned by Close when no frame was written; the output
// file (which would hold no video) is removed.
var ErrNoFrames = errors.New("videoout: no frames written")

// ErrClosed is returned by WriteFrame after Close.
var ErrClosed = errors.New("videoout: writer is closed")

type config struct {
	ffmpeg  string
	preset  string
	crf     int
	waitFor time.Duration
}

// Option configures Open.
type Option func(*config)

// WithFFmpeg sets the ffmpeg binary: a path, or a name looked up on PATH.
// An empty string means DefaultFFmpeg.
func WithFFmpeg(path string) Option {
	return func(c *config) {
		if path != "" {
			c.ffmpeg = path
		}
	}
}

// WithCRF sets libx264's constant rate factor, 0 (lossless) to 51 (worst);
// the default is 26.
func WithCRF(crf int) Option { return func(c *config) { c.crf = crf } }

// WithPreset sets libx264's preset ("ultrafast" … "veryslow"); the default is
// "veryfast".
func WithPreset(preset string) Option { return func(c *config) { c.preset = preset } }

// Writer encodes frames to an MP4 file. Its methods are not safe for
// concurrent use; cancel the context given to Open to abort from another
// goroutine.
type Writer struct {
	ctx           context.Context
	path          string
	width, height int
	frameSize     int

	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *tailBuffer

	done    chan struct{} // closed once ffmpeg has exited and been reaped
	waitErr error         // cmd.Wait's result, readable after done

	frames   int
	closed   bool
	closeErr error
}

// Open starts ffmpeg writing an H.264 MP4 of w×h frames at fps to path,
// replacing any existing file. Odd dimensions are padded with one black
// column or row, as 4:2:0 chroma needs even ones. Cancelling ctx kills
// ffmpeg; Close must still be called to learn the outcome, but the process is
// reaped even if it is not.
func Open(ctx context.Context, path string, w, h int, fps float64, opts ...Option) (*Writer, error) {
	cfg := config{ffmpeg: DefaultFFmpeg, preset: "veryfast", crf: 26, waitFor: 5 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	switch {
	case ctx == nil:
		return nil, errors.New("videoout: nil context")
	case path == "":
		return nil, errors.New("videoout: empty output path")
	case w <= 0 || h <= 0 || w > MaxDim || h > MaxDim:
		return nil, fmt.Errorf("videoout: frame size %dx%d out of range (1..%d)", w, h, MaxDim)
	case math.IsNaN(fps) || fps <= 0 || fps > MaxFPS:
		return nil, fmt.Errorf("videoout: frame rate %v out of range (0, %d]", fps, MaxFPS)
	case cfg.crf < 0 || cfg.crf > 51:
		return nil, fmt.Errorf("videoout: crf %d out of range 0..51", cfg.crf)
	case cfg.preset == "" || strings.ContainsAny(cfg.preset, " \t\n"):
		return nil, fmt.Errorf("videoout: bad preset %q", cfg.preset)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("videoout: %w", err)
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("videoout: output directory for %s: %w", path, err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("videoout: output directory for %s: %s is not a directory", path, dir)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil, fmt.Errorf("videoout: output path %s is a directory", path)
	}
	bin, err := exec.LookPath(cfg.ffmpeg)
	if err != nil {
		return nil, fmt.Errorf("ffmpeg not found on PATH (looked for %q); run make setup", cfg.ffmpeg)
	}

	args := []string{
		"-y", "-loglevel", "error", "-nostdin",
		"-f", "rawvideo", "-pix_fmt", "rgb24",
		"-s", strconv.Itoa(w) + "x" + strconv.Itoa(h),
		"-r", strconv.FormatFloat(fps, 'f', -1, 64),
		"-i", "pipe:0",
	}
	if w%2 != 0 || h%2 != 0 {
		args = append(args, "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2")
	}
	args = append(args,
		"-c:v", "libx264", "-preset", cfg.preset, "-crf", strconv.Itoa(cfg.crf),
		"-pix_fmt", "yuv420p", "-movflags", "+faststart",
		"-f", "mp4", path,
	)
	cmd := exec.CommandContext(ctx, bin, args...)
	// Bounded wait for ffmpeg's stderr to drain once it has exited.
	cmd.WaitDelay = cfg.waitFor
	stderr := &tailBuffer{max: 8 << 10}
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("videoout: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("videoout: starting %s: %w", bin, err)
	}
	wr := &Writer{
		ctx: ctx, path: path, width: w, height: h, frameSize: w * h * 3,
		cmd: cmd, stdin: stdin, stderr: stderr, done: make(chan struct{}),
	}
	// Reap ffmpeg as soon as it exits, whether through Close, a crash or
	// cancellation, so that no zombie outlives it.
	go func() {
		wr.waitErr = cmd.Wait()
		close(wr.done)
	}()
	return wr, nil
}

// Path is the output file.
func (w *Writer) Path() string { return w.path }

// Frames is the number of frames written so far.
func (w *Writer) Frames() int { return w.frames }

// WriteFrame encodes one packed RGB24 frame of exactly w*h*3 bytes. It blocks
// while ffmpeg catches up. If ffmpeg has failed or the context is cancelled
// it returns the reason (with the tail of ffmpeg's stderr).
func (w *Writer) WriteFrame(pix []byte) error {
	if w.closed {
		return ErrClosed
	}
	if len(pix) != w.frameSize {
		return fmt.Errorf("videoout: frame is %d bytes, want %d (%dx%d RGB24)", len(pix), w.frameSize, w.width, w.height)
	}
	select {
	case <-w.done:
		return w.exitError()
	default:
	}
	if _, err := w.stdin.Write(pix); err != nil {
		// ffmpeg went away; wait for it (bounded) to say why.
		select {
		case <-w.done:
			return w.exitError()
		case <-time.After(2 * time.Second):
			return fmt.Errorf("videoout: writing frame %d to ffmpeg: %w", w.frames, err)
		}
	}
	w.frames++
	return nil
}

// Close finishes the file: it closes ffmpeg's input, waits for it to exit and
// reports any failure with the tail of its stderr. A cancelled context is
// reported as an error wrapping ctx.Err(). Calling Close again returns the
// same result.
func (w *Writer) Close() error {
	if w.closed {
		return w.closeErr
	}
	w.closed = true
	cerr := w.stdin.Close()
	<-w.done
	w.closeErr = w.exitError()
	if w.closeErr == nil && cerr != nil && !errors.Is(cerr, os.ErrClosed) {
		w.closeErr = fmt.Errorf("videoout: closing ffmpeg input: %w", cerr)
	}
	if w.closeErr == nil && w.frames == 0 {
		_ = os.Remove(w.path)
		w.closeErr = fmt.Errorf("%w to %s", ErrNoFrames, w.path)
	}
	return w.closeErr
}

// exitError describes how ffmpeg ended; nil for a clean exit. Call only after
// done is closed.
func (w *Writer) exitError() error {
	if w.waitErr == nil && w.closed {
		return nil
	}
	if err := w.ctx.Err(); err != nil {
		return fmt.Errorf("videoout: writing %s: %w", w.path, err)
	}
	if w.waitErr == nil {
		return fmt.Errorf("videoout: ffmpeg exited before the input ended writing %s%s", w.path, w.stderr.suffix())
	}
	return fmt.Errorf("videoout: ffmpeg failed writing %s: %v%s", w.path, w.waitErr, w.stderr.suffix())
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

// suffix is ": <last lines of stderr>" on one line, or "" if it is empty.
func (t *tailBuffer) suffix() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := string(bytes.TrimSpace(t.buf))
	if s == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	s = strings.Join(lines, " | ")
	if len(s) > 1000 {
		s = "…" + s[len(s)-1000:]
	}
	return ": " + s
}
