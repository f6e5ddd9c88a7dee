package ingest

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestBackoffExponentialCappedAndReset(t *testing.T) {
	b := Backoff{Base: 500 * time.Millisecond, Max: 30 * time.Second, Rand: func(n int64) int64 { return n - 1 }}
	want := []time.Duration{500, 1000, 2000, 4000, 8000, 16000, 30000, 30000}
	for i, w := range want {
		if got := b.Next(); got != w*time.Millisecond {
			t.Fatalf("attempt %d: ceiling %s, want %s", i, got, w*time.Millisecond)
		}
	}
	for range 100 { // a long outage must not overflow
		b.Next()
	}
	if got := b.Next(); got != 30*time.Second {
		t.Fatalf("after 100 attempts: %s", got)
	}
	b.Reset()
	if got := b.Next(); got != 500*time.Millisecond {
		t.Fatalf("after reset: %s", got)
	}
}

func TestBackoffFullJitterStaysInRange(t *testing.T) {
	b := Backoff{Base: 100 * time.Millisecond, Max: time.Second}
	seen := map[bool]bool{}
	for i := range 200 {
		ceil := b.ceiling()
		d := b.Next()
		if d < 0 || d > ceil {
			t.Fatalf("attempt %d: %s outside [0, %s]", i, d, ceil)
		}
		seen[d < ceil/2] = true
	}
	if !seen[true] || !seen[false] {
		t.Error("delays are not spread over [0, ceiling]")
	}
}

func TestClockContinuity(t *testing.T) {
	var c clock
	t0 := time.Unix(1000, 0)
	iv := 100 * time.Millisecond
	c.newSession(false)
	// The first session starts at 0 whatever the source says.
	if got := c.pts(3*time.Second, t0, iv); got != 0 {
		t.Fatalf("first frame: %s", got)
	}
	if got := c.pts(3*time.Second+900*time.Millisecond, t0.Add(900*time.Millisecond), iv); got != 900*time.Millisecond {
		t.Fatalf("in-session delta not kept: %s", got)
	}
	// A file loop restarts at 0: the previous loop's duration (1 s) is added.
	c.newSession(false)
	if got := c.pts(0, t0.Add(time.Second), iv); got != time.Second {
		t.Fatalf("loop: %s, want 1s", got)
	}
	// A live reconnect after 20 s of outage: the wall gap is kept.
	c.newSession(true)
	if got := c.pts(0, t0.Add(21*time.Second), iv); got != 21*time.Second {
		t.Fatalf("reconnect: %s, want 21s", got)
	}
	// A quick reconnect still moves on by at least one interval.
	c.newSession(true)
	if got := c.pts(5*time.Second, t0.Add(21*time.Second), iv); got != 21*time.Second+iv {
		t.Fatalf("instant reconnect: %s", got)
	}
	// A backwards jump inside a session is re-based, never repeated.
	if got := c.pts(time.Second, t0.Add(21*time.Second), iv); got != 21*time.Second+2*iv {
		t.Fatalf("backwards jump: %s", got)
	}
}

func TestFrameInterval(t *testing.T) {
	for _, c := range []struct {
		target, source float64
		want           time.Duration
	}{{0, 25, 40 * time.Millisecond}, {5, 25, 200 * time.Millisecond}, {30, 10, 100 * time.Millisecond}, {0, 0, 40 * time.Millisecond}, {4, 0, 250 * time.Millisecond}} {
		if got := frameInterval(c.target, c.source); got != c.want {
			t.Errorf("frameInterval(%v, %v) = %s, want %s", c.target, c.source, got, c.want)
		}
	}
}

func TestHandoffDropsOldestAndNeverBlocks(t *testing.T) {
	h := newHandoff(2)
	for i := range 5 {
		h.push(Frame{Seq: int64(i)})
	}
	if got := h.dropped.Load(); got != 3 {
		t.Fatalf("dropped %d, want 3", got)
	}
	out := make(chan Frame)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); h.forward(ctx, out) }()
	for _, want := range []int64{3, 4} {
		if f := <-out; f.Seq != want {
			t.Fatalf("got frame %d, want %d (newest kept, in order)", f.Seq, want)
		}
	}
	h.push(Frame{Seq: 5})
	if f := <-out; f.Seq != 5 {
		t.Fatalf("got %d after wake-up", f.Seq)
	}
	cancel()
	<-done
	if h.out.Load() != 3 {
		t.Fatalf("out=%d", h.out.Load())
	}
}

func TestRedactor(t *testing.T) {
	for _, c := range []struct{ raw, echo string }{
		{"rtsp://admin:Sup3rS3cret@10.0.0.1:554/stream1", "Sup3rS3cret"},
		{"rtsp://admin:Sup3r%40S3cret@cam.local/s", "Sup3r@S3cret"}, // ffmpeg may echo it decoded
		{"rtsp://admin:Sup3rS3cret@[::1:bad/", "Sup3rS3cret"},       // does not parse
	} {
		raw := c.raw
		r := newRedactor(raw)
		msg := r.clean(raw + ": Connection refused; user admin:" + c.echo)
		if strings.Contains(msg, "Sup3r") || strings.Contains(msg, "S3cret") {
			t.Errorf("%q: password left in %q", raw, msg)
		}
		if strings.Contains(r.safe, "S3cret") {
			t.Errorf("safe URL %q", r.safe)
		}
	}
	r := newRedactor("rtsp://u:pw@h/x")
	if got := r.clean("rtsp://u:pw@h/x: 401 Unauthorized"); got != "401 Unauthorized" {
		t.Errorf("prefix not trimmed: %q", got)
	}
}
