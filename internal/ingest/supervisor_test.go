package ingest

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-cctv/vigil/internal/ingest/rtsptest"
)

// How long the RTSP server stays away in the reconnect test: 20 s as in the
// issue (longer than StallTimeout and several backoff steps), 3 s with
// -short, which exercises the same path.
const (
	outageFull  = 20 * time.Second
	outageShort = 3 * time.Second
)

func outage() time.Duration {
	if testing.Short() {
		return outageShort
	}
	return outageFull
}

// harness runs one supervisor and records what a service would see.
type harness struct {
	t      *testing.T
	sup    *Supervisor
	logs   syncBuffer
	cancel context.CancelFunc
	done   chan error
	wake   chan struct{}

	mu     sync.Mutex
	states []StateChange
	frames []Frame // Pix dropped to save memory
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testOptions are settings for tests: short backoff, and watchdogs too long
// to fire by accident on a busy machine (ffmpeg can take many seconds to
// start when both cores are taken). A test of the stall watchdog sets its
// own StallTimeout and tolerates a spurious stall.
func testOptions() Options {
	return Options{StallTimeout: time.Minute, ConnectTimeout: 2 * time.Minute,
		BackoffBase: 200 * time.Millisecond, BackoffMax: time.Second}
}

// patience bounds every wait for a condition. It is not a performance
// target: it only turns a hang into a failure with the states so far.
const patience = 3 * time.Minute

func startCamera(t *testing.T, cam Camera, opt Options) *harness {
	h := &harness{t: t, done: make(chan error, 1), wake: make(chan struct{}, 1)}
	opt.Logger = slog.New(slog.NewTextHandler(&h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opt.OnStateChange = func(c StateChange) {
		h.mu.Lock()
		h.states = append(h.states, c)
		h.mu.Unlock()
		h.poke()
	}
	h.sup = NewSupervisor(cam, opt)
	ctx, cancel := context.WithCancel(t.Context())
	h.cancel = cancel
	out := make(chan Frame, 8)
	var wg sync.WaitGroup
	wg.Go(func() { h.consume(ctx, out) })
	go func() { h.done <- h.sup.Run(ctx, out); wg.Wait(); close(h.done) }()
	t.Cleanup(func() {
		h.stop()
		if t.Failed() {
			t.Logf("supervisor log:\n%s", h.logs.String())
		}
	})
	return h
}

func (h *harness) poke() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

func (h *harness) consume(ctx context.Context, out <-chan Frame) {
	for {
		select {
		case f := <-out:
			f.Pix = nil
			h.mu.Lock()
			h.frames = append(h.frames, f)
			h.mu.Unlock()
			h.poke()
		case <-ctx.Done():
			return
		}
	}
}

// stop cancels the supervisor and waits for Run and the consumer.
func (h *harness) stop() error {
	h.cancel()
	err, ok := <-h.done
	if !ok {
		return context.Canceled
	}
	<-h.done
	return err
}

// waitFor checks cond on every event until it holds, failing after
// patience.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.NewTimer(patience)
	defer deadline.Stop()
	for {
		h.mu.Lock()
		ok := cond()
		h.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-h.wake:
		case <-time.After(100 * time.Millisecond):
		case <-deadline.C:
			h.t.Fatalf("timed out after %s waiting for %s; states %v; status %+v", patience, what, h.stateNames(), h.sup.Status())
		}
	}
}

// in reports whether the latest state is one of states; call under h.mu.
func (h *harness) in(states ...State) bool {
	return len(h.states) > 0 && slices.Contains(states, h.states[len(h.states)-1].State)
}

func (h *harness) stateNames() []State {
	h.mu.Lock()
	defer h.mu.Unlock()
	var s []State
	for _, c := range h.states {
		s = append(s, c.State)
	}
	return s
}

func (h *harness) snapshot() ([]StateChange, []Frame) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.states), slices.Clone(h.frames)
}

func startServer(t *testing.T, opt rtsptest.Options) *rtsptest.Server {
	opt.FPS = 25
	srv, err := rtsptest.Start(h264Clip(t), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// checkMonotonic fails unless PTS and Seq strictly increase.
func checkMonotonic(t *testing.T, frames []Frame) {
	t.Helper()
	for i := 1; i < len(frames); i++ {
		a, b := frames[i-1], frames[i]
		if b.PTS <= a.PTS || b.Seq <= a.Seq {
			t.Fatalf("frame %d: PTS %s seq %d after PTS %s seq %d (sessions %d→%d)", i, b.PTS, b.Seq, a.PTS, a.Seq, a.Session, b.Session)
		}
	}
}

// The scenario: a camera streams, its server goes away for 20 s,
// comes back on the same port, and the camera resumes by itself with
// monotonic PTS and the state changes in order.
func TestReconnectsAfterServerOutage(t *testing.T) {
	t.Parallel()
	srv := startServer(t, rtsptest.Options{})
	h := startCamera(t, Camera{ID: "gate-1", Name: "Main gate", URL: srv.URL()}, testOptions())

	h.waitFor("first frames", func() bool { return len(h.frames) >= 10 })
	srv.Stop()
	down := time.Now()
	h.waitFor("the camera to notice", func() bool { return h.in(StateFailed, StateStalled) })
	time.Sleep(time.Until(down.Add(outage())))
	if st := h.sup.Status(); st.State == StateStreaming {
		t.Fatalf("streaming while the server is down: %+v", st)
	}
	restarted := time.Now() // no frame of the new session can be received before this
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	_, before := h.snapshot()
	lastSession := before[len(before)-1].Session
	h.waitFor("frames after the outage", func() bool {
		n := len(h.frames)
		return n >= len(before)+10 && h.frames[n-1].Session > lastSession
	})
	if err := h.stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}

	states, frames := h.snapshot()
	checkMonotonic(t, frames)
	checkOutageStates(t, states)
	checkOutageGap(t, frames, lastSession, restarted)
	st := h.sup.Status()
	if st.State != StateStopped || st.Reconnects < 1 || st.FramesIn < int64(len(frames)) || st.FramesOut != int64(len(frames)) {
		t.Errorf("status after the test: %+v (consumer saw %d frames)", st, len(frames))
	}
	t.Logf("states: %v; %d frames, %d reconnects", h.stateNames(), len(frames), st.Reconnects)
}

// checkOutageStates wants connecting, streaming, then only failures and
// retries while the server is away, then streaming again and stopped.
func checkOutageStates(t *testing.T, states []StateChange) {
	t.Helper()
	var names []State
	for i, c := range states {
		names = append(names, c.State)
		if i > 0 && c.At.Before(states[i-1].At) {
			t.Errorf("state change %d goes back in time", i)
		}
		if c.Camera != "gate-1" {
			t.Errorf("state change for camera %q", c.Camera)
		}
	}
	n := len(names)
	if n < 6 || names[0] != StateConnecting || names[1] != StateStreaming ||
		names[n-2] != StateStreaming || names[n-1] != StateStopped {
		t.Fatalf("states %v", names)
	}
	middle := names[2 : n-2]
	if middle[0] != StateFailed && middle[0] != StateStalled {
		t.Errorf("after streaming came %s, want failed or stalled (%v)", middle[0], names)
	}
	for _, s := range middle {
		if s == StateStreaming || s == StateStopped {
			t.Errorf("unexpected %s during the outage: %v", s, names)
		}
	}
	if !slices.Contains(middle, StateConnecting) {
		t.Errorf("no reconnect attempt during the outage: %v", names)
	}
	for _, c := range states {
		if (c.State == StateFailed || c.State == StateStalled) && c.Reason == "" {
			t.Errorf("%s without a reason", c.State)
		}
	}
}

// checkOutageGap wants the PTS to jump over the outage by the time that
// passed: at least from the last frame before it to the server's restart
// (the frames still in the decoder when the server stopped arrive after
// the stop, so the outage itself is not a bound), and not more than the
// wall-clock gap: the PTS jumps by the time the camera was blind, so
// tracks age correctly.
func checkOutageGap(t *testing.T, frames []Frame, lastSession int, restarted time.Time) {
	t.Helper()
	for i := 1; i < len(frames); i++ {
		if frames[i-1].Session <= lastSession && frames[i].Session > lastSession {
			gap := frames[i].PTS - frames[i-1].PTS
			wall := frames[i].Received.Sub(frames[i-1].Received)
			if least := restarted.Sub(frames[i-1].Received); gap < least || gap > wall+time.Second {
				t.Errorf("PTS gap over the outage %s, wall gap %s, at least %s (last frame before it to the restart)", gap, wall, least)
			}
			return
		}
	}
	t.Error("no session change seen by the consumer")
}

// A server that keeps the connection open but stops sending is only caught
// by the watchdog: the camera must go stalled and come back.
func TestStalledStreamIsRestarted(t *testing.T) {
	t.Parallel()
	srv := startServer(t, rtsptest.Options{})
	opt := testOptions()
	opt.StallTimeout = time.Second
	h := startCamera(t, Camera{ID: "lobby", URL: srv.URL()}, opt)

	h.waitFor("first frames", func() bool { return len(h.frames) >= 5 })
	srv.Freeze(true)
	h.waitFor("stalled", func() bool { return h.in(StateStalled) })
	h.waitFor("a reconnect attempt", func() bool { return h.in(StateConnecting, StateFailed) })
	srv.Freeze(false)
	_, before := h.snapshot()
	h.waitFor("frames again", func() bool {
		return len(h.frames) >= len(before)+5 && h.frames[len(h.frames)-1].Session > 1
	})
	h.stop()
	states, frames := h.snapshot()
	checkMonotonic(t, frames)
	i := slices.IndexFunc(states, func(c StateChange) bool { return c.State == StateStalled })
	if i < 1 || states[i-1].State != StateStreaming || !strings.Contains(states[i].Reason, "no frame for 1s") {
		t.Errorf("stall not reported after streaming: %v", states)
	}
}

// Passwords in camera URLs must not reach state reasons, Status or logs,
// whether the server refuses the connection, rejects the credentials or
// accepts them.
func TestCredentialsNeverLeak(t *testing.T) {
	t.Parallel()
	const secret = "Sup3rS3cretPw"
	srv := startServer(t, rtsptest.Options{User: "admin", Pass: secret})
	closed := closedPort(t)
	cases := []struct {
		name, url string
		want      State
		reason    string
	}{
		{"refused", "rtsp://admin:" + secret + "@" + closed + "/cam", StateFailed, "refused"},
		{"wrong password", "rtsp://admin:wrong" + secret + "@" + srv.Addr() + "/cam", StateFailed, "401"},
		{"right password", "rtsp://admin:" + secret + "@" + srv.Addr() + "/cam", StateStreaming, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := startCamera(t, Camera{ID: "cam", URL: c.url}, testOptions())
			h.waitFor(string(c.want), func() bool { return h.in(c.want) })
			h.stop()
			states, _ := h.snapshot()
			var text strings.Builder
			for _, s := range states {
				text.WriteString(s.Reason + "\n")
			}
			text.WriteString(h.sup.Status().Reason + "\n" + h.logs.String())
			if strings.Contains(text.String(), secret) {
				t.Fatalf("password leaked:\n%s", text.String())
			}
			if !strings.Contains(strings.ToLower(text.String()), c.reason) {
				t.Errorf("reason %q not reported:\n%s", c.reason, text.String())
			}
			if !strings.Contains(h.logs.String(), "admin:xxxxx@") {
				t.Errorf("log does not name the (redacted) source:\n%s", h.logs.String())
			}
		})
	}
}

// closedPort returns a localhost address nobody listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// A looping demo file keeps going past its end without a state change, and
// each loop continues the time line by the previous loop's duration.
func TestLoopingFileContinuesPastEnd(t *testing.T) {
	t.Parallel()
	file := shortFile(t, 1) // 10 frames at 10 fps
	h := startCamera(t, Camera{ID: "demo", URL: file, Loop: true}, testOptions())
	h.waitFor("25 frames", func() bool { return len(h.frames) >= 25 })
	h.stop()
	_, frames := h.snapshot()
	checkMonotonic(t, frames)
	if got := h.stateNames(); !slices.Equal(got, []State{StateConnecting, StateStreaming, StateStopped}) {
		t.Errorf("states %v; a loop must not look like a reconnect", got)
	}
	for _, f := range frames {
		want := time.Duration(f.Seq) * 100 * time.Millisecond
		if d := f.PTS - want; d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("frame %d (session %d, source PTS %s): PTS %s, want %s", f.Seq, f.Session, f.SourcePTS, f.PTS, want)
		}
	}
	if st := h.sup.Status(); st.Loops < 2 || st.Reconnects != 0 {
		t.Errorf("status %+v", st)
	}
}

// Without Loop a file plays once and Run returns nil.
func TestFileEndsWithoutLoop(t *testing.T) {
	t.Parallel()
	file := shortFile(t, 1)
	opt := testOptions()
	opt.NoPacing = true
	h := startCamera(t, Camera{ID: "clip", URL: file}, opt)
	h.waitFor("stopped", func() bool { return h.in(StateStopped) })
	if err := h.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if st := h.sup.Status(); st.FramesIn != 10 || st.Reason != "end of input" {
		t.Errorf("status %+v", st)
	}
}

// A camera that cannot be valid fails at once instead of retrying forever.
func TestMalformedCameraFailsFast(t *testing.T) {
	out := make(chan Frame)
	for _, cam := range []Camera{{URL: "x.mp4"}, {ID: "a"}, {ID: "a", URL: "http://u:Sup3rS3cretPw@h/x"}} {
		err := Run(t.Context(), cam, out, Options{})
		if err == nil || strings.Contains(err.Error(), "Sup3rS3cretPw") {
			t.Errorf("%+v: %v", cam, err)
		}
	}
}

// The gate option holds back frames without motion and counts them.
func TestSupervisorMotionGate(t *testing.T) {
	t.Parallel()
	file := shortFile(t, 1)
	opt := testOptions()
	opt.NoPacing = true
	opt.Queue = 100
	opt.Gate = &GateOptions{}
	h := startCamera(t, Camera{ID: "gated", URL: file, FPS: 10}, opt)
	h.waitFor("stopped", func() bool { return h.in(StateStopped) })
	h.stop()
	st := h.sup.Status()
	if st.FramesIn != 10 || st.FramesGated != 0 || st.FramesOut+st.FramesDropped != 10 {
		t.Errorf("walking people should all pass: %+v", st)
	}
}

// A lossless file waits for a slow consumer instead of dropping frames,
// and hands over every queued frame before Run returns at its end. The
// consumer takes a frame only once the supervisor has filled its queue
// and is blocked on it, so the slowness does not depend on timing.
func TestLosslessFileWaitsForTheConsumer(t *testing.T) {
	t.Parallel()
	file := shortFile(t, 2) // 20 frames
	opt := testOptions()
	opt.NoPacing, opt.Lossless, opt.Queue = true, true, 2
	sup := NewSupervisor(Camera{ID: "clip", URL: file}, opt)
	out := make(chan Frame)
	done := make(chan error, 1)
	go func() { done <- sup.Run(t.Context(), out) }()
	var got []Frame
	for len(got) < 20 {
		// Queue full (2), one frame with the forwarder, one more decoded
		// and waiting to be queued, unless the input has ended.
		full := func() bool {
			st := sup.Status()
			return st.FramesIn-st.FramesOut >= 4 || st.FramesIn == 20
		}
		for !full() {
			runtime.Gosched()
		}
		got = append(got, <-out)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	st := sup.Status()
	if st.FramesDropped != 0 || st.FramesIn != 20 || st.FramesOut != 20 || st.State != StateStopped || st.Reason != "end of input" {
		t.Errorf("status %+v", st)
	}
	for i, f := range got {
		if f.Seq != int64(i) {
			t.Fatalf("frame %d has seq %d: a frame was lost or reordered", i, f.Seq)
		}
	}
}
