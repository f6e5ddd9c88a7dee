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
	// Threads is ffmpeg's decoder thread count (0: ffmpeg's choice, one
	// per core). One thread per camera costs less CPU per frame when many
	// cameras share the cores; more threads finish one file sooner.
	Threads int
	// LateSelect turns off FPS selection inside ffmpeg (see earlySelect) and
	// selects in Go only, after every frame has been converted and piped:
	// the old, slower path, kept to check that both choose the same frames.
	LateSelect bool
	// OnAccessUnit, when set, receives every compressed picture of an RTSP
	// stream (read in-process, see rtsp.go) before it is decoded, on the
	// reader's goroutine, so it must return quickly. The NAL units are not
	// reused and may be kept. Files and image sequences never call it.
	OnAccessUnit func(au AccessUnit)
	// Backlog is how far (in stream time) the decoder of an RTSP stream
	// may fall behind the camera before the queue is emptied and pictures
	// are dropped up to the next key picture (default 3 s). Tests that
	// check every picture set it long: a starved machine is not a fault.
	Backlog time.Duration
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
	// StreamDropped counts compressed pictures of an RTSP stream dropped
	// before decoding because ffmpeg fell behind (up to a key picture).
	StreamDropped int64
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
	rtsp    *rtspReader // an RTSP stream read in-process
	feeding sync.WaitGroup

	decoded, skipped, emitted, dropped atomic.Int64

	// pipeBuf is the frame pipe's buffer size in bytes: 0 picks one
	// (pipeBytes), -1 keeps the kernel's default (a benchmark compares).
	pipeBuf int
}

// maxPipe is the largest frame-pipe buffer asked for: Linux's default
// limit for unprivileged processes.
const maxPipe = 1 << 20

// pipeBytes is the frame pipe's buffer size: a frame, up to maxPipe. With
// the default 64 KiB a 768×576 frame crosses in 21 reads, each waking the
// reader and then ffmpeg again; with 1 MiB in two, and both sides spend
// less (README, "Decode only what is analysed").
func (s *Source) pipeBytes() int {
	if s.pipeBuf > 0 {
		return s.pipeBuf
	}
	return min(max(s.Info.Width*s.Info.Height*3, 1<<16), maxPipe)
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
	if opt.Queue <= 0 {
		opt.Queue = 4
	}
	if in.Kind == KindRTSP {
		r, info, err := openRTSP(ctx, in, opt)
		if err != nil {
			return nil, err
		}
		return &Source{Input: in, Info: info, opt: opt, ffmpeg: ffmpeg, rtsp: r}, nil
	}
	ffprobe, err := lookBinary(orDefault(opt.FFprobe, "ffprobe"))
	if err != nil {
		return nil, err
	}
	info, err := probe(ctx, ffprobe, in, opt)
	if err != nil {
		return nil, err
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
	st := Stats{Decoded: s.decoded.Load(), Skipped: s.skipped.Load(), Emitted: s.emitted.Load(), Dropped: s.dropped.Load()}
	if s.rtsp != nil {
		st.StreamDropped = s.rtsp.Dropped()
	}
	return st
}

// Start launches ffmpeg and returns the channel of frames, closed when the
// input ends, fails or ctx is cancelled. Call Wait afterwards.
func (s *Source) Start(ctx context.Context) (<-chan *Frame, error) {
	args, err := s.ffmpegArgs()
	if err != nil {
		s.cleanup()
		return nil, err
	}
	cmd := exec.CommandContext(ctx, s.ffmpeg, args...)
	cmd.WaitDelay = 2 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		s.cleanup()
		return nil, err
	}
	if f, ok := stdout.(*os.File); ok && s.pipeBuf >= 0 {
		growPipe(f, s.pipeBytes())
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		s.cleanup()
		return nil, err
	}
	feedR, feedW, err := s.stdin(cmd)
	if err != nil {
		s.cleanup()
		return nil, err
	}
	err = cmd.Start()
	if feedR != nil {
		feedR.Close() // ffmpeg has its own copy
	}
	if err != nil {
		if feedW != nil {
			feedW.Close()
		}
		s.cleanup()
		return nil, fmt.Errorf("%s: starting ffmpeg: %v", s.Input, err)
	}
	if feedW != nil {
		s.feeding.Go(func() { s.rtsp.feed(feedW) })
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
	events := make(chan ptsEvent, 1024)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		log.scan(stderr, events)
	}()
	readErr := s.readFrames(ctx, stdout, events)
	close(s.frames)
	if readErr != nil {
		// Stop ffmpeg before waiting on it: it may be blocked writing.
		_ = cmd.Process.Kill()
	}
	_, _ = io.Copy(io.Discard, stdout)
	if readErr == nil {
		s.countTrailing(events)
	}
	for range events {
	}
	wg.Wait()
	waitErr := cmd.Wait()
	s.err = s.outcome(ctx, readErr, waitErr, log)
}

func (s *Source) outcome(ctx context.Context, readErr, waitErr error, log *stderrLog) error {
	pos := s.position()
	var streamErr error
	if s.rtsp != nil {
		streamErr = s.rtsp.err()
	}
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(readErr, errMaxFrames):
		return nil
	case streamErr != nil:
		return fmt.Errorf("%s: stream failed at %s: %s", s.Input, pos, redactUserinfo(streamErr.Error(), s.Input))
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
func (s *Source) readFrames(ctx context.Context, r io.Reader, events <-chan ptsEvent) error {
	size := s.Info.Width * s.Info.Height * 3
	// Frames are read straight from the pipe: a buffer in between would
	// copy every frame once more (a frame is larger than any buffer).
	sel := selector{fps: s.opt.FPS}
	nominal := s.Info.FPS
	for {
		pix := make([]byte, size)
		if _, err := io.ReadFull(r, pix); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		idx, t, ok := s.nextFrameEvent(events)
		// An image sequence has no timestamps of its own: its time is
		// exactly index/fps, free of the playlist's rounding.
		if (!ok || s.Input.Kind == KindImages) && nominal > 0 {
			t = PTSAt(idx, nominal)
		}
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

// nextFrameEvent consumes log events up to the one for the frame just read
// from the pipe, counting the frames ffmpeg decoded and left out on the way
// (early selection), so the counters are exactly those of selecting in Go.
// It returns the frame's decode index and PTS; ok is false when ffmpeg
// logged no usable timestamp.
func (s *Source) nextFrameEvent(events <-chan ptsEvent) (idx int, pts time.Duration, ok bool) {
	early := s.earlySelect()
	pending := int64(0) // frames logged before the select filter
	for ev := range events {
		if !ev.selected {
			pending++
			continue
		}
		if !early || pending == 0 {
			pending = 1
		}
		s.skipped.Add(pending - 1)
		return int(s.decoded.Add(pending)) - 1, ev.pts, ev.ok
	}
	return int(s.decoded.Add(1)) - 1, 0, false
}

// countTrailing counts the frames decoded and left out by ffmpeg after the
// last one it sent, once the pipe has ended.
func (s *Source) countTrailing(events <-chan ptsEvent) {
	for ev := range events {
		if !ev.selected {
			s.decoded.Add(1)
			s.skipped.Add(1)
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

// selectSlack absorbs rounding in container timestamps.
const selectSlack = time.Millisecond / 2

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
	if t+selectSlack < s.next {
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
	if s.opt.Threads > 0 {
		args = append(args, "-threads", strconv.Itoa(s.opt.Threads))
	}
	in := s.Input
	switch in.Kind {
	case KindImages:
		list, err := writeConcatList(in.Images, s.opt.imageFPS())
		if err != nil {
			return nil, fmt.Errorf("%s: %v", in, err)
		}
		s.listTmp = list
		args = append(args, "-f", "concat", "-safe", "0", "-i", list)
	case KindRTSP:
		// The stream is read in-process and arrives as MPEG-TS on stdin:
		// no URL, so no credentials, on ffmpeg's command line. MPEG-TS may
		// announce streams at any time, so ffmpeg would otherwise read 5 s
		// of the live stream before its first frame; the one stream is
		// known from the first key picture (SPS and PPS in band), so 0.1 s
		// of probing is enough and the camera starts 5 s sooner.
		args = append(args, "-analyzeduration", "100000", "-f", "mpegts", "-i", "pipe:0")
	default:
		args = append(args, inputArgs(in)...)
	}
	args = append(args, "-map", "0:v:0", "-vf", s.filterChain(),
		"-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1")
	return args, nil
}

// Log prefixes of the two metadata filters that report timestamps.
const (
	decodedTag = "[metadata@vigil_decoded @"
	frameTag   = "[metadata@vigil_frame @"
)

// filterChain is the -vf graph. Named metadata filters log each frame's
// pts to stderr, unbuffered: that is how timestamps travel beside the raw
// pixels. settb=AVTB makes the logged integer pts exact microseconds at any
// stream age (ffmpeg prints pts_time with six significant digits: 10 ms
// steps after 17 minutes, 0.1 s after 3 hours). With early selection the
// decoded frames are logged before the select filter and the chosen ones
// after it, so that frames left out are never converted to RGB or piped.
func (s *Source) filterChain() string {
	chain := "settb=AVTB,metadata=mode=add:key=vigil:value=1"
	if s.earlySelect() {
		chain += ",metadata@vigil_decoded=mode=print," + selectFilter(s.opt.FPS)
	}
	return chain + ",metadata@vigil_frame=mode=print"
}

// earlySelect reports whether FPS selection runs inside ffmpeg. Image
// sequences select in Go only: their playlist timestamps carry rounding,
// and their time is defined by the frame index.
func (s *Source) earlySelect() bool {
	return s.opt.FPS > 0 && !s.opt.LateSelect && s.Input.Kind != KindImages &&
		(s.Info.FPS <= 0 || s.opt.FPS < s.Info.FPS)
}

// selectFilter is selector.keep as an ffmpeg select expression: variable 0
// says whether a frame was kept yet, variable 1 holds the next grid time.
// The Go selector still runs on every frame ffmpeg passes, so it stays the
// definition; the expression only saves converting and piping the frames
// it would leave out anyway (a test checks that both choose alike).
func selectFilter(fps float64) string {
	step := strconv.FormatFloat(time.Duration(float64(time.Second)/fps).Seconds(), 'g', -1, 64)
	slack := strconv.FormatFloat(selectSlack.Seconds(), 'g', -1, 64)
	return "select='if(eq(ld(0),0)," +
		"st(0,1)+st(1,t+" + step + ")*0," +
		"if(lt(t+" + slack + ",ld(1)),0," +
		"st(1,ld(1)+" + step + ")*0+st(1,if(lte(ld(1),t),t+" + step + ",ld(1)))*0+1))'"
}

// inputArgs are the ffmpeg/ffprobe options and -i for a file.
func inputArgs(in Input) []string {
	return []string{"-i", in.Location}
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

// stdin connects an RTSP stream's MPEG-TS feed to ffmpeg's standard input
// through an OS pipe; nil ends for other inputs.
func (s *Source) stdin(cmd *exec.Cmd) (r, w *os.File, err error) {
	if s.rtsp == nil {
		return nil, nil, nil
	}
	if r, w, err = os.Pipe(); err != nil {
		return nil, nil, err
	}
	cmd.Stdin = r
	return r, w, nil
}

// cleanup releases what the source holds: the playlist of an image
// sequence, the connection of an RTSP stream and its feeder.
func (s *Source) cleanup() {
	if s.rtsp != nil {
		s.rtsp.close()
		s.feeding.Wait()
	}
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

// ptsEvent is one frame logged by a metadata filter: selected is false for
// a frame decoded but left out by early selection; ok is false when the
// frame had no timestamp.
type ptsEvent struct {
	selected bool
	ok       bool
	pts      time.Duration
}

func (l *stderrLog) scan(r io.Reader, events chan<- ptsEvent) {
	defer close(events)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if ev, ok := parsePTSLine(line); ok {
			events <- ev
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

// parsePTSLine reads a metadata filter's frame line,
// "[metadata@vigil_frame @ 0x…] frame:12 pts:480000 pts_time:0.48", whose
// integer pts is in microseconds (settb=AVTB). Its key=value lines and
// every other line are not frame lines.
func parsePTSLine(line string) (ptsEvent, bool) {
	var ev ptsEvent
	switch {
	case strings.HasPrefix(line, frameTag):
		ev.selected = true
	case strings.HasPrefix(line, decodedTag):
	default:
		return ev, false
	}
	i := strings.Index(line, " pts:")
	if i < 0 {
		return ev, false
	}
	f := strings.Fields(line[i+len(" pts:"):])
	if len(f) == 0 {
		return ev, true
	}
	us, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || us > math.MaxInt64/int64(time.Microsecond) || us < math.MinInt64/int64(time.Microsecond) {
		return ev, true // NOPTS: the frame is there, its time is not
	}
	ev.pts, ev.ok = time.Duration(us)*time.Microsecond, true
	return ev, true
}

func isErrorLine(line string) bool {
	if strings.HasPrefix(line, "[metadata@vigil_") || strings.HasPrefix(line, "[Parsed_") || strings.HasPrefix(line, " ") {
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
