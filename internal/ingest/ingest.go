// Package ingest keeps frames flowing from many cameras at once. Each camera
// gets one supervised goroutine (a Supervisor) that opens the source with
// package decode, watches it, and reconnects by itself after failures and
// stalls, with exponential backoff and full jitter. Frames leave stamped
// with the camera id and a continuous PTS that never goes backwards across
// reconnects and loops, through a small bounded queue that drops the oldest
// frame rather than ever blocking the supervisor: the consumer is a detector
// shared by many cameras, and a fresh frame is worth more than an old one.
//
// MotionGate is a cheap pre-filter that decides whether a frame differs
// enough from the previous one to be worth running the detector on.
package ingest

import (
	"context"
	"log/slog"
	"time"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/geom"
)

// Camera is one configured source.
type Camera struct {
	ID   string
	Name string
	// URL is an rtsp:// URL, a video file or an image directory. It may
	// hold credentials, so it is only ever logged or reported redacted.
	URL string
	// Loop replays a file or image directory forever (demos, soak tests).
	Loop bool
	// FPS is the target frame rate, selected by timestamp; 0 keeps all.
	FPS float64
	// Transport is the RTSP transport, "tcp" (default) or "udp".
	Transport string
	// Resolve, when set, is asked for the stream URL before every
	// (re)connect attempt, and URL is only the address it resolves from
	// (an ONVIF device service). A failure counts as a failed attempt:
	// the camera reports it ("resolving the stream address (attempt 3):
	// …"), backs off as after a stream failure and asks again. The call
	// gets a context bounded by Options.ConnectTimeout. Secrets in the
	// URL it returns are scrubbed like URL's.
	Resolve func(ctx context.Context) (string, error)
}

// Frame is one decoded picture handed to the consumer.
type Frame struct {
	Camera string
	// Seq counts this camera's frames from 0 across reconnects and loops.
	Seq int64
	// PTS is continuous camera time: monotonic across reconnects and loops
	// (see clock for how the offset is chosen). Use it, not the wall clock.
	PTS time.Duration
	// SourcePTS is the timestamp the source itself gave; it restarts on a
	// reconnect or a loop.
	SourcePTS time.Duration
	// Session counts source (re)starts from 1; it changes at every gap.
	Session int
	// Received is the wall-clock time the frame came out of the decoder.
	Received time.Time
	// Width, Height and Pix are as in decode.Frame: packed RGB24.
	Width, Height int
	Pix           []byte
	// Motion and MotionGlobal are what the motion gate saw in the frame
	// (MotionGate.Changes), set when Options.Gate is: the changed areas in
	// frame pixels, or a change of the whole view (and the first frame).
	Motion       []geom.Box
	MotionGlobal bool
	// Thumb is the gate's thumbnail of the frame (MotionGate.Thumb), set
	// when Options.Gate annotates frames.
	Thumb Thumb
}

// State is a camera's connection state.
type State string

// Camera states. A camera starts connecting, streams, may stall or fail,
// and after a backoff connects again; stopped is final.
const (
	StateConnecting State = "connecting"
	StateStreaming  State = "streaming"
	StateStalled    State = "stalled"
	StateFailed     State = "failed"
	StateStopped    State = "stopped"
)

// StateChange reports a transition, for publishing (SSE, metrics, logs).
type StateChange struct {
	Camera string
	State  State
	// Reason says why, for stalled, failed and stopped; never holds a password.
	Reason string
	At     time.Time
}

// Status is a snapshot of a camera's supervisor.
type Status struct {
	Camera string
	State  State
	Reason string
	Since  time.Time // when State was entered
	// FramesIn counts frames received from the decoder; FramesOut those
	// taken by the consumer; FramesDropped those dropped because the
	// consumer lagged; FramesGated those held back by the motion gate.
	FramesIn, FramesOut, FramesDropped, FramesGated int64
	// Reconnects counts source restarts after a failure or stall; Loops
	// counts restarts of a looping file at its end.
	Reconnects, Loops int64
	LastFrame         time.Time     // wall time of the last frame received
	LastPTS           time.Duration // continuous PTS of the last frame
}

// Options tune a Supervisor. The zero value is usable.
type Options struct {
	// Logger receives state changes and errors; nil discards.
	Logger *slog.Logger
	// OnStateChange is called for every transition, in order, from the
	// supervisor goroutine; it must return quickly (hand off to a channel).
	OnStateChange func(StateChange)
	// StallTimeout restarts a stream that delivers no frame for this long
	// (default 5 s).
	StallTimeout time.Duration
	// ConnectTimeout bounds probing and the wait for the first frame after
	// (re)connecting (default 10 s; never shorter than StallTimeout).
	ConnectTimeout time.Duration
	// BackoffBase and BackoffMax bound the delay before reconnecting
	// (defaults 500 ms and 30 s).
	BackoffBase, BackoffMax time.Duration
	// HealthyAfter resets the backoff once a session has streamed this long
	// (default 30 s), so a camera that flaps rarely reconnects quickly.
	HealthyAfter time.Duration
	// Queue is how many frames wait for the consumer before the oldest is
	// dropped (default 2). One more may be in flight to the consumer.
	Queue int
	// Gate, when set, runs a MotionGate per camera and does not hand off
	// frames it holds back (they count in Status.FramesGated).
	Gate *GateOptions
	// NoPacing decodes files as fast as possible instead of at their own
	// frame rate. Live streams are always paced by the camera.
	NoPacing bool
	// Lossless makes a file wait for the consumer instead of dropping
	// frames, and hands every queued frame over before Run returns at the
	// end of input: a recorded file analysed in full, once. It has no
	// effect on live streams, which must never back up into the camera.
	Lossless bool
	// Decode passes binaries (FFmpeg, FFprobe) and Threads to package
	// decode (Threads 0 means 1 here: one decoder thread per camera costs
	// the least CPU per frame when many cameras share the cores); its other
	// fields are set from Camera and the options above.
	Decode decode.Options
	// Recorder, when set, keeps the camera's compressed video for clips.
	Recorder Recorder
}

func (o Options) withDefaults() Options {
	o.StallTimeout = orDur(o.StallTimeout, 5*time.Second)
	o.ConnectTimeout = max(orDur(o.ConnectTimeout, 10*time.Second), o.StallTimeout)
	o.BackoffBase = orDur(o.BackoffBase, 500*time.Millisecond)
	o.BackoffMax = max(orDur(o.BackoffMax, 30*time.Second), o.BackoffBase)
	o.HealthyAfter = orDur(o.HealthyAfter, 30*time.Second)
	if o.Queue <= 0 {
		o.Queue = 2
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

func orDur(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
