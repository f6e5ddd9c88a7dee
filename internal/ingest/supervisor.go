package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-cctv/vigil/internal/camurl"
	"github.com/vigil-cctv/vigil/internal/decode"
)

// Supervisor keeps one camera's frames flowing. Create it with
// NewSupervisor, call Run once in its own goroutine, and read Status at any
// time from any goroutine.
type Supervisor struct {
	cam     Camera
	opt     Options
	log     *slog.Logger
	red     redactor
	q       *handoff
	gate    *MotionGate
	clock   clock
	backoff Backoff
	running atomic.Bool
	wall    wallClock // paces files; nil: the real clock

	seq      int64 // next Frame.Seq; supervisor goroutine only
	sessions int   // current Frame.Session; supervisor goroutine only
	// resolveFailures counts Resolve failures since its last success;
	// supervisor goroutine only.
	resolveFailures int

	mu sync.Mutex
	st Status
}

// NewSupervisor prepares a supervisor; nothing runs until Run, and Status
// reports stopped until then.
func NewSupervisor(cam Camera, opt Options) *Supervisor {
	opt = opt.withDefaults()
	red := newRedactor(cam.URL)
	s := &Supervisor{
		cam:     cam,
		opt:     opt,
		red:     red,
		log:     opt.Logger.With("camera", cam.ID, "name", cam.Name, "source", red.safe),
		q:       newHandoff(opt.Queue),
		backoff: Backoff{Base: opt.BackoffBase, Max: opt.BackoffMax},
		st:      Status{Camera: cam.ID, State: StateStopped, Since: time.Now()},
	}
	if opt.Gate != nil {
		s.gate = NewMotionGate(*opt.Gate)
	}
	return s
}

// Run supervises the camera until ctx is cancelled, returning ctx's error,
// or until a non-looping file ends, returning nil. A malformed camera
// (no id, an unparsable URL) fails at once: retrying cannot fix it. Frames
// go to out, which may be shared with other cameras. When Run returns, no
// goroutine or ffmpeg process of this camera is left.
func (s *Supervisor) Run(ctx context.Context, out chan<- Frame) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("ingest: Supervisor.Run called twice")
	}
	if err := s.validate(); err != nil {
		s.setState(StateStopped, err.Error())
		return err
	}
	fctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { s.q.forward(fctx, out) })
	defer wg.Wait()
	defer cancel()
	err := s.loop(ctx)
	if err == nil && s.lossless() {
		s.q.waitSent(ctx) // the end of input: hand over what is queued
	}
	return err
}

// lossless reports whether frames wait for the consumer (see Options).
func (s *Supervisor) lossless() bool { return s.opt.Lossless && !isLive(s.cam.URL) }

// Run supervises one camera; see Supervisor.Run. Use NewSupervisor instead
// to read the camera's Status while it runs.
func Run(ctx context.Context, cam Camera, out chan<- Frame, opt Options) error {
	return NewSupervisor(cam, opt).Run(ctx, out)
}

func (s *Supervisor) validate() error {
	if s.cam.ID == "" {
		return errors.New("ingest: camera has no id")
	}
	if s.cam.URL == "" {
		return fmt.Errorf("ingest: camera %s has no URL", s.cam.ID)
	}
	if IsReplay(s.cam.URL) {
		if _, err := ParseReplay(s.cam.URL); err != nil {
			return fmt.Errorf("camera %s: %w", s.cam.ID, err)
		}
	}
	if s.cam.Resolve == nil && strings.Contains(s.cam.URL, "://") {
		if err := camurl.ValidateRTSP(s.cam.URL); err != nil {
			return fmt.Errorf("camera %s: %s", s.cam.ID, s.red.clean(err.Error()))
		}
	}
	return nil
}

// loop runs sessions back to back: a looping file restarts at once, a
// failure or stall after a backoff.
func (s *Supervisor) loop(ctx context.Context) error {
	restartLoop := false
	for {
		o := s.session(ctx, restartLoop)
		restartLoop = false
		if ctx.Err() != nil {
			s.setState(StateStopped, "cancelled")
			return ctx.Err()
		}
		if o.ended && !s.cam.Loop {
			s.setState(StateStopped, "end of input")
			return nil
		}
		if o.ended && o.frames > 0 {
			s.count(func(st *Status) { st.Loops++ })
			restartLoop = true
			continue
		}
		if o.ended {
			s.setState(StateFailed, "input has no frames")
		}
		if !s.wait(ctx, o) {
			s.setState(StateStopped, "cancelled")
			return ctx.Err()
		}
		s.count(func(st *Status) { st.Reconnects++ })
	}
}

// wait sleeps for the backoff delay, reset first if the session that just
// ended was healthy long enough to show the problem had gone away.
func (s *Supervisor) wait(ctx context.Context, o outcome) bool {
	if o.streamed >= s.opt.HealthyAfter {
		s.backoff.Reset()
	}
	d := s.backoff.Next()
	s.log.Debug("reconnecting after backoff", "delay", d)
	return sleepCtx(ctx, d)
}

// outcome sums up one session: ended is a clean end of a file.
type outcome struct {
	ended    bool
	frames   int64
	streamed time.Duration
}

// session opens the source once and pumps its frames until it ends, fails,
// stalls or ctx is cancelled. A loop restart stays "streaming" so that a
// demo loop does not flood subscribers with state changes.
func (s *Supervisor) session(ctx context.Context, restartLoop bool) outcome {
	if !restartLoop && s.cam.Resolve == nil { // resolve reports its own connecting state
		s.setState(StateConnecting, "")
	}
	loc := s.cam.URL
	if s.cam.Resolve != nil {
		var ok bool
		if loc, ok = s.resolve(ctx); !ok {
			return outcome{}
		}
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := s.open(sctx, loc)
	if err != nil {
		s.fail(ctx, err)
		return outcome{}
	}
	return s.pump(ctx, cancel, st)
}

// stream is one session's open source: a decoder, or a replay source's
// generator.
type stream struct {
	frames <-chan *decode.Frame
	wait   func() error // after frames closes: how the source ended
	live   bool
	fps    float64 // the source's own rate, 0 if unknown
}

// open starts the session's source.
func (s *Supervisor) open(ctx context.Context, loc string) (stream, error) {
	if IsReplay(loc) {
		return s.openReplay(ctx, loc)
	}
	opt := s.decodeOptions(loc)
	opt.OnAccessUnit = s.recordTo(s.sessions + 1) // pump numbers this session
	src, err := decode.Open(ctx, loc, opt)
	if err != nil {
		return stream{}, err
	}
	frames, err := src.Start(ctx)
	if err != nil {
		return stream{}, err
	}
	return stream{frames: frames, wait: src.Wait, live: src.Input.Kind == decode.KindRTSP, fps: src.Info.FPS}, nil
}

// openReplay starts a replay source's generator (see ReplayScheme).
func (s *Supervisor) openReplay(ctx context.Context, loc string) (stream, error) {
	src, err := newReplaySource(loc, s.cam.FPS, s.opt.Decode.ImageFPS)
	if err != nil {
		return stream{}, err
	}
	src.phase = int(s.seq % 2)
	frames := make(chan *decode.Frame, 1)
	done := make(chan struct{})
	go func() { defer close(done); src.run(ctx, frames) }()
	return stream{frames: frames, wait: func() error { <-done; return nil }, fps: src.rate}, nil
}

// resolve asks the camera's Resolve hook for the stream URL, reporting
// the attempt while it runs and the error when it fails.
func (s *Supervisor) resolve(ctx context.Context) (string, bool) {
	attempt := s.resolveFailures + 1
	what := fmt.Sprintf("resolving the stream address (attempt %d)", attempt)
	s.setState(StateConnecting, what)
	rctx, cancel := context.WithTimeout(ctx, s.opt.ConnectTimeout)
	defer cancel()
	loc, err := s.cam.Resolve(rctx)
	if err == nil && strings.Contains(loc, "://") {
		s.red = s.red.with(loc)
		err = camurl.ValidateRTSP(loc)
	}
	if err != nil {
		s.resolveFailures++
		if ctx.Err() == nil {
			s.setState(StateFailed, what+": "+err.Error())
		}
		return "", false
	}
	s.resolveFailures = 0
	return loc, true
}

func (s *Supervisor) decodeOptions(loc string) decode.Options {
	d := s.opt.Decode
	d.FPS = s.cam.FPS
	d.RTSPTransport = s.cam.Transport
	d.Timeout = s.opt.ConnectTimeout
	d.MaxFrames, d.Reverse = 0, false
	if d.Threads <= 0 {
		d.Threads = 1
	}
	// Live: never let ffmpeg block on us. Files: block it, so pacing
	// throttles decoding instead of throwing frames away.
	d.DropOldest = isLive(loc)
	return d
}

func isLive(url string) bool { return strings.Contains(url, "://") }

func (s *Supervisor) fail(ctx context.Context, err error) {
	if ctx.Err() == nil {
		s.setState(StateFailed, err.Error())
	}
}

// pump moves frames from the decoder to the handoff queue, with a watchdog
// that restarts a source which stops delivering without closing (a frozen
// camera or a half-open TCP connection can take minutes to error out).
func (s *Supervisor) pump(ctx context.Context, cancel context.CancelFunc, src stream) outcome {
	live, frames := src.live, src.frames
	s.clock.newSession(live)
	s.sessions++
	interval := frameInterval(s.cam.FPS, src.fps)
	stop := func() {
		cancel()
		for range frames {
		}
		_ = src.wait()
	}
	var o outcome
	var first time.Time
	pace := pacer{wall: s.wall}
	watchdog := time.NewTimer(s.opt.ConnectTimeout)
	defer watchdog.Stop()
	for {
		select {
		case f, ok := <-frames:
			if !ok {
				return s.finished(ctx, src, o)
			}
			// A file's frame is handed on at its own time, not when the
			// one before it was due: its arrival is the camera clock.
			if !live && !s.opt.NoPacing && !pace.wait(ctx, f.PTS) {
				stop()
				return o
			}
			now := s.now()
			if o.frames == 0 {
				first = now
				s.setState(StateStreaming, "")
			}
			o.frames++
			o.streamed = now.Sub(first)
			s.accept(ctx, f, now, interval)
			watchdog.Reset(s.opt.StallTimeout)
		case <-watchdog.C:
			s.stalled(o)
			stop()
			return o
		case <-ctx.Done():
			stop()
			return o
		}
	}
}

func (s *Supervisor) stalled(o outcome) {
	if o.frames == 0 {
		s.setState(StateFailed, fmt.Sprintf("no frame within %s of connecting", s.opt.ConnectTimeout))
		return
	}
	s.setState(StateStalled, fmt.Sprintf("no frame for %s", s.opt.StallTimeout))
}

// finished classifies the end of the decoder's output. A live stream
// never ends on purpose, so any end is a failure.
func (s *Supervisor) finished(ctx context.Context, src stream, o outcome) outcome {
	err := src.wait()
	switch {
	case ctx.Err() != nil:
	case err != nil:
		s.setState(StateFailed, err.Error())
	case src.live:
		s.setState(StateFailed, "stream ended")
	default:
		o.ended = true
	}
	return o
}

// accept stamps a decoded frame and queues it unless the motion gate holds
// it back.
func (s *Supervisor) accept(ctx context.Context, f *decode.Frame, now time.Time, interval time.Duration) {
	pts := s.clock.pts(f.PTS, now, interval)
	fr := Frame{Camera: s.cam.ID, Seq: s.seq, PTS: pts, SourcePTS: f.PTS, Session: s.sessions,
		Received: now, Width: f.Width, Height: f.Height, Pix: f.Pix}
	s.seq++
	if s.opt.Recorder != nil {
		s.opt.Recorder.Map(s.sessions, f.PTS, pts)
	}
	pass := s.gate == nil || s.gate.Check(pts, f.Width, f.Height, f.Pix)
	if s.gate != nil {
		fr.Motion, fr.MotionGlobal = s.gate.Changes()
		if s.gate.opt.Annotate {
			pass, fr.Thumb = true, s.gate.Thumb()
		}
	}
	s.count(func(st *Status) {
		st.FramesIn++
		st.LastFrame, st.LastPTS = now, pts
		if !pass {
			st.FramesGated++
		}
	})
	switch {
	case !pass:
	case s.lossless():
		s.q.pushWait(ctx, fr)
	default:
		s.q.push(fr)
	}
}

// frameInterval is the nominal gap between output frames: the target rate
// when it is below the source's, else the source's; 40 ms if unknown.
func frameInterval(target, source float64) time.Duration {
	fps := source
	if target > 0 && (fps <= 0 || target < fps) {
		fps = target
	}
	if fps <= 0 {
		return 40 * time.Millisecond
	}
	return time.Duration(float64(time.Second) / fps)
}

// pacer releases file frames at their own rate, so that a file behaves
// like a camera: real time for the tracker and the rules, and no flood of
// frames for the drop-oldest queue to throw away.
type pacer struct {
	wall  wallClock
	start time.Time
	base  time.Duration
	init  bool
}

func (p *pacer) wait(ctx context.Context, pts time.Duration) bool {
	if p.wall == nil {
		p.wall = realWall{}
	}
	if !p.init {
		p.start, p.base, p.init = p.wall.Now(), pts, true
		return true
	}
	d := p.start.Add(pts - p.base).Sub(p.wall.Now())
	if d <= 0 {
		return ctx.Err() == nil
	}
	return p.wall.Sleep(ctx, d)
}

// now is the time a frame arrives: the pacer's clock.
func (s *Supervisor) now() time.Time {
	if s.wall != nil {
		return s.wall.Now()
	}
	return time.Now()
}

// wallClock is the time a file's frames are paced by; tests give the
// supervisor their own.
type wallClock interface {
	Now() time.Time
	// Sleep waits for d, or less if ctx ends first; it reports whether the
	// full wait happened.
	Sleep(ctx context.Context, d time.Duration) bool
}

type realWall struct{}

func (realWall) Now() time.Time { return time.Now() }

func (realWall) Sleep(ctx context.Context, d time.Duration) bool { return sleepCtx(ctx, d) }

// count updates the status counters under the lock.
func (s *Supervisor) count(f func(*Status)) {
	s.mu.Lock()
	f(&s.st)
	s.mu.Unlock()
}

// Status returns a snapshot of the camera's state and counters.
func (s *Supervisor) Status() Status {
	s.mu.Lock()
	st := s.st
	s.mu.Unlock()
	st.FramesOut = s.q.out.Load()
	st.FramesDropped = s.q.dropped.Load()
	return st
}

// setState records a transition, logs it and reports it. Repeating the
// current state and reason is not a transition.
func (s *Supervisor) setState(state State, reason string) {
	reason = s.red.clean(reason)
	now := time.Now()
	s.mu.Lock()
	if s.st.State == state && s.st.Reason == reason {
		s.mu.Unlock()
		return
	}
	s.st.State, s.st.Reason, s.st.Since = state, reason, now
	s.mu.Unlock()
	level := slog.LevelInfo
	if state == StateFailed || state == StateStalled {
		level = slog.LevelWarn
	}
	s.log.Log(context.Background(), level, "camera state", "state", string(state), "reason", reason)
	if s.opt.OnStateChange != nil {
		s.opt.OnStateChange(StateChange{Camera: s.cam.ID, State: state, Reason: reason, At: now})
	}
}

// sleepCtx waits for d, or less if ctx ends first; it reports whether the
// full wait happened.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
