package decode

import (
	"bufio"
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
	"sync/atomic"
	"time"
)

// Options tune how a source is decoded. The zero value is usable.
type Options struct {
	FFmpeg, FFprobe string // binaries; default "ffmpeg"/"ffprobe" on PATH
	// FPS is the output frame rate, chosen by timestamp so the same input
	// always yields the same frames; 0 keeps every frame.
	FPS float64
	// ImageFPS is the frame rate given to image sequences (default 25).
	ImageFPS float64
	// Reverse plays an image sequence backwards.
	Reverse bool
	// RTSPTransport is "tcp" (default) or "udp".
	RTSPTransport string
	// Timeout bounds connecting to and reading from a stream (default 10 s).
	Timeout time.Duration
	// Queue is how many frames wait between decoder and consumer (default 4).
	Queue int
	// DropOldest makes a lagging consumer lose the oldest queued frame
	// instead of stalling the decoder: right for live streams, wrong for files.
	DropOldest bool
	// MaxFrames stops after this many emitted frames (0: no limit).
	MaxFrames int
}

func (o Options) imageFPS() float64 {
	if o.ImageFPS > 0 {
		return o.ImageFPS
	}
	return 25
}

func (o Options) probeTimeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout + 5*time.Second
	}
	return 15 * time.Second
}

func (o Options) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return 10 * time.Second
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Stats are running counters of a source, safe to read at any time.
type Stats struct {
	Decoded int64 // frames ffmpeg produced
	Skipped int64 // frames left out by FPS selection
	Emitted int64 // frames handed to the consumer
	Dropped int64 // frames lost because the consumer lagged (DropOldest)
}

// Source decodes one input. Open it, Start it, range over its frames, then
// call Wait for the outcome.
type Source struct {
	Input Input
	Info  Info

	opt     Options
	ffmpeg  string
	frames  chan *Frame
	done    chan struct{}
	err     error
	listTmp string

	decoded, skipped, emitted, dropped atomic.Int64
}

// Open classifies and probes the input; it fails fast on a missing file, a
// file that is not video, or a stream that refuses or times out.
func Open(ctx context.Context, location string, opt Options) (*Source, error) {
	in, err := ParseInput(location, opt.Reverse)
	if err != nil {
		return nil, err
	}
	ffmpeg, err := lookBinary(orDefault(opt.FFmpeg, "ffmpeg"))
	if err != nil {
		return nil, err
	}
	ffprobe, err := lookBinary(orDefault(opt.FFprobe, "ffprobe"))
	if err != nil {
		return nil, err
	}
	info, err := probe(ctx, ffprobe, in, opt)
	if err != nil {
		return nil, err
	}
	if opt.Queue <= 0 {
		opt.Queue = 4
	}
	return &Source{Input: in, Info: info, opt: opt, ffmpeg: ffmpeg}, nil
}

func lookBinary(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found (looked for %q on PATH); run make setup", filepath.Base(name), name)
	}
	return p, nil
}

// Stats reports the running counters.
func (s *Source) Stats() Stats {
	return Stats{Decoded: s.decoded.Load(), Skipped: s.skipped.Load(), Emitted: s.emitted.Load(), Dropped: s.dropped.Load()}
}

// Start launches ffmpeg and returns the channel of frames, closed when the
// input ends, fails or ctx is cancelled. Call Wait afterwards.
func (s *Source) Start(ctx context.Context) (<-chan *Frame, error) {
	args, err := s.ffmpegArgs()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, s.ffmpeg, args...)
	cmd.WaitDelay = 2 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		s.cleanup()
		return nil, fmt.Errorf("%s: starting ffmpeg: %v", s.Input, err)
	}
	s.frames = make(chan *Frame, s.opt.Queue)
	s.done = make(chan struct{})
	go s.run(ctx, cmd, stdout, stderr)
	return s.frames, nil
}

// Wait blocks until decoding has stopped and returns why it stopped: nil at
// the normal end of input, the context error when cancelled, or an error
// naming the input and the position reached.
func (s *Source) Wait() error {
	<-s.done
	return s.err
}

func (s *Source) run(ctx context.Context, cmd *exec.Cmd, stdout, stderr io.ReadCloser) {
	defer close(s.done)
	defer s.cleanup()
	log := &stderrLog{}
	pts := make(chan time.Duration, 1024)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		log.scan(stderr, pts)
	}()
	readErr := s.readFrames(ctx, stdout, pts)
	close(s.frames)
	if readErr != nil {
		// Stop ffmpeg before waiting on it: it may be blocked writing.
		_ = cmd.Process.Kill()
	}
	_, _ = io.Copy(io.Discard, stdout)
	wg.Wait()
	waitErr := cmd.Wait()
	s.err = s.outcome(ctx, readErr, waitErr, log)
}

func (s *Source) outcome(ctx context.Context, readErr, waitErr error, log *stderrLog) error {
	pos := s.position()
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(readErr, errMaxFrames):
		return nil
	case readErr != nil && !errors.Is(readErr, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: %v at %s", s.Input, readErr, pos)
	case waitErr != nil:
		return fmt.Errorf("%s: decoding failed at %s: %s", s.Input, pos, cleanFFmpegError(log.errors(), s.Input))
	case errors.Is(readErr, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: truncated frame at %s", s.Input, pos)
	}
	if want := s.Info.Frames; s.Input.Kind == KindFile && want > 0 && s.decoded.Load() < int64(want)*9/10 {
		detail := strings.TrimSpace(log.errors())
		if detail == "" {
			detail = "no error reported"
		}
		return fmt.Errorf("%s: input ended early (truncated or corrupt): decoded %d of %d frames, stopped at %s; ffmpeg: %s",
			s.Input, s.decoded.Load(), want, pos, cleanFFmpegError(detail, s.Input))
	}
	return nil
}

func (s *Source) position() string {
	n := s.decoded.Load()
	return fmt.Sprintf("frame %d", n)
}

var errMaxFrames = errors.New("frame limit reached")

// readFrames reads raw RGB frames, pairs each with its PTS from ffmpeg's
// log, applies FPS selection and hands frames to the consumer.
func (s *Source) readFrames(ctx context.Context, r io.Reader, pts <-chan time.Duration) error {
	size := s.Info.Width * s.Info.Height * 3
	br := bufio.NewReaderSize(r, size)
	sel := selector{fps: s.opt.FPS}
	nominal := s.Info.FPS
	for idx := 0; ; idx++ {
		pix := make([]byte, size)
		if _, err := io.ReadFull(br, pix); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		t, ok := <-pts
		// An image sequence has no timestamps of its own: its time is
		// exactly index/fps, free of the playlist's rounding.
		if (!ok || s.Input.Kind == KindImages) && nominal > 0 {
			t = PTSAt(idx, nominal)
		}
		s.decoded.Add(1)
		if !sel.keep(t) {
			s.skipped.Add(1)
			continue
		}
		f := &Frame{Index: idx, PTS: t, Width: s.Info.Width, Height: s.Info.Height, Pix: pix}
		if err := s.emit(ctx, f); err != nil {
			return err
		}
		if s.opt.MaxFrames > 0 && s.emitted.Load() >= int64(s.opt.MaxFrames) {
			return errMaxFrames
		}
	}
}

func (s *Source) emit(ctx context.Context, f *Frame) error {
	if !s.opt.DropOldest {
		select {
		case s.frames <- f:
			s.emitted.Add(1)
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for {
		select {
		case s.frames <- f:
			s.emitted.Add(1)
			return nil
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		select {
		case <-s.frames:
			s.dropped.Add(1)
		default:
		}
	}
}

// selector keeps frames on a fixed time grid of 1/fps, so that the choice
// depends only on timestamps, never on processing speed.
type selector struct {
	fps  float64
	next time.Duration
	init bool
}

func (s *selector) keep(t time.Duration) bool {
	if s.fps <= 0 {
		return true
	}
	step := time.Duration(float64(time.Second) / s.fps)
	if !s.init {
		s.init, s.next = true, t+step
		return true
	}
	// Half a millisecond of slack absorbs rounding in container timestamps.
	if t+time.Millisecond/2 < s.next {
		return false
	}
	s.next += step
	if s.next <= t {
		s.next = t + step
	}
	return true
}

func (s *Source) ffmpegArgs() ([]string, error) {
	args := []string{"-hide_banner", "-nostdin", "-nostats", "-loglevel", "info"}
	in := s.Input
	if in.Kind == KindImages {
		list, err := writeConcatList(in.Images, s.opt.imageFPS())
		if err != nil {
			return nil, fmt.Errorf("%s: %v", in, err)
		}
		s.listTmp = list
		args = append(args, "-f", "concat", "-safe", "0", "-i", list)
	} else {
		args = append(args, inputArgs(in, s.opt)...)
	}
	// The metadata filters log every frame's pts to stderr, unbuffered;
	// that is how timestamps travel beside the raw pixels.
	args = append(args, "-map", "0:v:0", "-vf", "metadata=mode=add:key=vigil:value=1,metadata=mode=print",
		"-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1")
	return args, nil
}

// inputArgs are the ffmpeg/ffprobe options and -i for a file or stream.
func inputArgs(in Input, opt Options) []string {
	if in.Kind != KindRTSP {
		return []string{"-i", in.Location}
	}
	transport := orDefault(opt.RTSPTransport, "tcp")
	us := strconv.FormatInt(opt.timeout().Microseconds(), 10)
	return []string{"-rtsp_transport", transport, "-timeout", us, "-i", in.Location}
}

// writeConcatList writes an ffconcat playlist so that any file order
// (including reverse) plays with exact per-image durations.
func writeConcatList(images []string, fps float64) (string, error) {
	f, err := os.CreateTemp("", "vigil-seq-*.ffconcat")
	if err != nil {
		return "", err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "ffconcat version 1.0")
	dur := strconv.FormatFloat(1/fps, 'f', 6, 64)
	for _, img := range images {
		abs, err := filepath.Abs(img)
		if err != nil {
			abs = img
		}
		fmt.Fprintf(w, "file '%s'\nduration %s\n", strings.ReplaceAll(abs, "'", `'\''`), dur)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", err
	}
	return f.Name(), f.Close()
}

func (s *Source) cleanup() {
	if s.listTmp != "" {
		os.Remove(s.listTmp)
		s.listTmp = ""
	}
}

// stderrLog parses ffmpeg's log: per-frame pts lines go to the pts channel,
// anything that looks like an error is kept for the final message.
type stderrLog struct {
	mu   sync.Mutex
	errs []string
}

func (l *stderrLog) scan(r io.Reader, pts chan<- time.Duration) {
	defer close(pts)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if t, ok := parsePTSLine(line); ok {
			pts <- t
			continue
		}
		if isErrorLine(line) {
			l.mu.Lock()
			if len(l.errs) < 50 {
				l.errs = append(l.errs, line)
			}
			l.mu.Unlock()
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

func (l *stderrLog) errors() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.errs, "\n")
}

func parsePTSLine(line string) (time.Duration, bool) {
	i := strings.Index(line, "pts_time:")
	if i < 0 || !strings.Contains(line, "Parsed_metadata") {
		return 0, false
	}
	f := strings.Fields(line[i+len("pts_time:"):])
	if len(f) == 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return time.Duration(math.Round(v * float64(time.Second))), true
}

func isErrorLine(line string) bool {
	if strings.HasPrefix(line, "[Parsed_metadata") || strings.HasPrefix(line, " ") {
		return false
	}
	l := strings.ToLower(line)
	for _, k := range []string{"error", "invalid", "corrupt", "failed", "not found", "refused", "timed out", "unauthorized", "no such", "could not", "unable", "truncat", "incomplete", "missing"} {
		if strings.Contains(l, k) {
			return true
		}
	}
	return false
}
