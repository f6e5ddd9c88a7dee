package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/snapshot"
	"github.com/vigil-cctv/vigil/internal/videoout"
)

// Defaults for the encoder pool; see WithMaxEncodes and WithMaxQueued.
const (
	DefaultMaxEncodes = 2
	DefaultMaxQueued  = 8
)

// partSuffix marks a clip still being encoded; it is renamed into place only
// once ffmpeg has finished, so a reader never sees a half-written MP4 at the
// path an alert refers to.
const partSuffix = ".part"

// ClipStats counts what happened to clips since the Clipper was created.
type ClipStats struct {
	Started int64 // Start calls that opened a clip
	Written int64 // clips encoded and in place
	Failed  int64 // clips that ended without a file (encode error, no frames, cancelled)
	Dropped int64 // clips discarded because the encode queue was full
}

// ClipperOption configures NewClipper.
type ClipperOption func(*Clipper)

// WithMaxEncodes bounds how many ffmpeg encoders run at once (default
// DefaultMaxEncodes); each costs a CPU core or so while it runs.
func WithMaxEncodes(n int) ClipperOption {
	return func(c *Clipper) {
		if n > 0 {
			c.maxEncodes = n
		}
	}
}

// WithMaxQueued bounds how many finished clips may wait for an encoder
// (default DefaultMaxQueued). A waiting clip pins its frames in memory, so
// beyond this clips are dropped and counted rather than queued.
func WithMaxQueued(n int) ClipperOption {
	return func(c *Clipper) {
		if n >= 0 {
			c.maxQueued = n
		}
	}
}

// WithVideoOptions passes options (preset, CRF, ffmpeg binary) to
// videoout.Open for every clip.
func WithVideoOptions(opts ...videoout.Option) ClipperOption {
	return func(c *Clipper) { c.videoOpts = append(c.videoOpts, opts...) }
}

// Clipper writes a short MP4 around each alert: the pre-roll taken from the
// camera's Ring when the alert starts, then every frame the camera adds until
// the post-roll (measured in PTS) is reached. Finished clips are encoded in
// their own goroutines so that a camera never waits on ffmpeg.
//
// Frames are written in order at the Clipper's fixed frame rate, so fps
// should be the cameras' (post-selection) frame rate for clips to play in
// real time.
//
// All methods are safe for concurrent use.
type Clipper struct {
	dir                   string
	fps                   float64
	preRoll, postRoll     time.Duration
	log                   *slog.Logger
	maxEncodes, maxQueued int
	videoOpts             []videoout.Option

	// Counters behind Stats.
	started, written, failed, dropped atomic.Int64

	slots chan struct{} // one token per running encoder
	wg    sync.WaitGroup

	mu      sync.Mutex
	open    map[string][]*clip // camera → clips still collecting frames
	active  map[string]bool    // paths of clips open or encoding
	pending int                // finished clips waiting for or holding a slot
	closed  bool
}

// clip is one alert clip being collected.
type clip struct {
	ctx           context.Context
	camera, path  string
	end           time.Duration // last PTS that belongs to the clip
	maxFrames     int           // guards memory if PTS stops advancing sensibly
	width, height int
	frames        []*decode.Frame
}

// NewClipper returns a Clipper writing clips under dir at fps, each spanning
// preRoll before and postRoll after its alert. A nil log discards messages.
func NewClipper(dir string, fps float64, preRoll, postRoll time.Duration, log *slog.Logger, opts ...ClipperOption) *Clipper {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c := &Clipper{
		dir: dir, fps: fps, preRoll: max(preRoll, 0), postRoll: max(postRoll, 0), log: log,
		maxEncodes: DefaultMaxEncodes, maxQueued: DefaultMaxQueued,
		open: map[string][]*clip{}, active: map[string]bool{},
	}
	for _, o := range opts {
		o(c)
	}
	c.slots = make(chan struct{}, c.maxEncodes)
	return c
}

// Path is where the clip for camera's alert is written:
// <dir>/<camera>/clip-<alertID>.mp4 with the camera name sanitised. It is
// deterministic so that an alert can refer to its clip before it exists.
func (c *Clipper) Path(camera string, alertID int64) string {
	name := "clip-" + strconv.FormatInt(alertID, 10) + ".mp4"
	return filepath.Join(c.dir, snapshot.Sanitize(camera), name)
}

// Stats reports clip counters.
func (c *Clipper) Stats() ClipStats {
	return ClipStats{
		Started: c.started.Load(), Written: c.written.Load(),
		Failed: c.failed.Load(), Dropped: c.dropped.Load(),
	}
}

// Start begins the clip for an alert raised at pts on camera and returns the
// path it will have. The pre-roll is taken from ring now (ring may be nil);
// later frames arrive through Add. ctx bounds the clip's whole life,
// encoding included, so it should live as long as the service rather than
// the request that raised the alert. The path is only a promise: a clip
// that fails or is dropped leaves no file. After Close, or for an alert
// whose clip is already in progress, no new clip is started; Start then
// returns "" and the existing path respectively.
func (c *Clipper) Start(ctx context.Context, camera string, alertID int64, pts time.Duration, ring *Ring) string {
	return c.StartAt(ctx, camera, c.Path(camera, alertID), pts, ring)
}

// StartAt is Start with the clip's path chosen by the caller (inside the
// clipper's directory), e.g. next to the alert's snapshot so the two are
// found together.
func (c *Clipper) StartAt(ctx context.Context, camera, path string, pts time.Duration, ring *Ring) string {
	if ctx == nil {
		ctx = context.Background()
	}
	cl := &clip{
		ctx: ctx, camera: camera, path: path, end: pts + c.postRoll,
		maxFrames: c.frameBudget(),
	}
	var pre []*decode.Frame
	if ring != nil {
		pre = ring.Snapshot() // outside c.mu: the ring has its own lock
	}
	cl.takePreRoll(pre, pts-c.preRoll)

	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return ""
	case c.active[path]:
		return path
	}
	c.active[path] = true
	c.started.Add(1)
	if cl.complete() {
		c.finishLocked(cl, false)
		return path
	}
	c.open[camera] = append(c.open[camera], cl)
	return path
}

// frameBudget is the most frames a clip may collect: its nominal length at
// fps with generous slack, so a camera whose PTS crawls cannot make an open
// clip grow without bound.
func (c *Clipper) frameBudget() int {
	nominal := (c.preRoll + c.postRoll).Seconds() * c.fps
	return int(2*nominal) + 16
}

// takePreRoll keeps the ring frames from start to the clip's end. Only the
// newest run of same-sized frames is used, because a clip has one size.
func (cl *clip) takePreRoll(frames []*decode.Frame, start time.Duration) {
	for _, f := range frames {
		if f.PTS < start || f.PTS > cl.end || !validFrame(f) {
			continue
		}
		if f.Width != cl.width || f.Height != cl.height {
			cl.frames = cl.frames[:0]
			cl.width, cl.height = f.Width, f.Height
		}
		cl.frames = append(cl.frames, f)
	}
	if over := len(cl.frames) - cl.maxFrames; over > 0 {
		cl.frames = cl.frames[over:]
	}
}

// validFrame reports whether f can be encoded; anything else would make
// ffmpeg reject the whole clip.
func validFrame(f *decode.Frame) bool {
	return f != nil && f.Width > 0 && f.Height > 0 && len(f.Pix) == f.Width*f.Height*3
}

// complete reports whether the clip has reached its post-roll.
func (cl *clip) complete() bool {
	n := len(cl.frames)
	return n >= cl.maxFrames || (n > 0 && cl.frames[n-1].PTS >= cl.end)
}

// Add feeds f to every open clip of camera; the camera calls it for each new
// frame. As with Ring.Add the frame is shared, not copied, and must not be
// modified afterwards. A clip ends when the frame reaches its post-roll, and
// early when the frame size changes or the PTS goes backwards (a restarted
// stream). Frames not newer than a clip's last frame — typically the
// alert's own frame, already taken from the ring — are skipped.
func (c *Clipper) Add(camera string, f *decode.Frame) {
	if !validFrame(f) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	clips := c.open[camera]
	kept := clips[:0]
	for _, cl := range clips {
		if cl.add(f) {
			kept = append(kept, cl)
		} else {
			c.finishLocked(cl, false)
		}
	}
	clear(clips[len(kept):])
	if len(kept) == 0 {
		delete(c.open, camera)
	} else {
		c.open[camera] = kept
	}
}

// add offers f to the clip and reports whether the clip stays open.
func (cl *clip) add(f *decode.Frame) bool {
	if cl.ctx.Err() != nil {
		return false
	}
	if n := len(cl.frames); n > 0 {
		last := cl.frames[n-1]
		switch {
		case f.PTS == last.PTS:
			return true // a duplicate, normally the alert frame itself
		case f.PTS < last.PTS:
			return false // the stream restarted
		case f.Width != cl.width || f.Height != cl.height:
			return false
		}
	}
	if f.PTS > cl.end {
		return false
	}
	if len(cl.frames) == 0 {
		cl.width, cl.height = f.Width, f.Height
	}
	cl.frames = append(cl.frames, f)
	return !cl.complete()
}

// finishLocked hands a clip that has stopped collecting to an encoder
// goroutine, or drops it when the queue is full. force (used by Close)
// skips the queue bound: the frames are in memory already and Close is
// about to wait for them anyway. c.mu must be held, which also orders the
// WaitGroup's Add before Close's Wait.
func (c *Clipper) finishLocked(cl *clip, force bool) {
	if len(cl.frames) == 0 {
		c.failed.Add(1)
		delete(c.active, cl.path)
		c.log.Warn("alert clip has no frames", "camera", cl.camera, "path", cl.path)
		return
	}
	if !force && c.pending >= c.maxEncodes+c.maxQueued {
		c.dropped.Add(1)
		delete(c.active, cl.path)
		c.log.Warn("alert clip dropped: encoders busy", "camera", cl.camera, "path", cl.path,
			"pending", c.pending)
		return
	}
	c.pending++
	c.wg.Go(func() { c.encode(cl) })
}

// encode waits for an encoder slot, writes the clip and records the outcome.
func (c *Clipper) encode(cl *clip) {
	err := c.encodeSlot(cl)
	c.mu.Lock()
	c.pending--
	delete(c.active, cl.path)
	c.mu.Unlock()
	if err != nil {
		c.failed.Add(1)
		c.log.Error("alert clip failed", "camera", cl.camera, "path", cl.path, "err", err)
		return
	}
	c.written.Add(1)
	c.log.Info("alert clip written", "camera", cl.camera, "path", cl.path, "frames", len(cl.frames))
}

// encodeSlot runs writeClip once a slot is free, giving up if the clip's
// context ends first so that shutdown is not held up by a queue.
func (c *Clipper) encodeSlot(cl *clip) error {
	select {
	case c.slots <- struct{}{}:
	case <-cl.ctx.Done():
		return fmt.Errorf("waiting for an encoder: %w", cl.ctx.Err())
	}
	defer func() { <-c.slots }()
	return c.writeClip(cl)
}

// writeClip encodes the frames to a temporary file and links it into
// place, never replacing a file already there (another alert's evidence);
// the temporary file is removed in every case.
func (c *Clipper) writeClip(cl *clip) error {
	if err := os.MkdirAll(filepath.Dir(cl.path), 0o755); err != nil {
		return err
	}
	tmp := cl.path + partSuffix
	err := encodeFrames(cl.ctx, tmp, c.fps, cl, c.videoOpts)
	if err == nil {
		err = os.Link(tmp, cl.path) // fails if the path exists
	}
	if rerr := os.Remove(tmp); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		c.log.Warn("removing partial clip", "path", tmp, "err", rerr)
	}
	return err
}

// encodeFrames pipes the clip's frames through ffmpeg into path.
func encodeFrames(ctx context.Context, path string, fps float64, cl *clip, opts []videoout.Option) error {
	w, err := videoout.Open(ctx, path, cl.width, cl.height, fps, opts...)
	if err != nil {
		return err
	}
	for _, f := range cl.frames {
		if err := w.WriteFrame(f.Pix); err != nil {
			_ = w.Close() // reap ffmpeg; the write error says more
			return err
		}
	}
	return w.Close()
}

// Close stops accepting clips, hands every open clip to an encoder with the
// frames it has so far, and waits for all encoders to finish. Encoding still
// honours each clip's context, so cancel those first for a fast shutdown
// that abandons the clips. Failures are logged and counted in Stats, so
// the error is always nil; it is there to make Clipper an io.Closer. Close
// is idempotent.
func (c *Clipper) Close() error {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		for camera, clips := range c.open {
			for _, cl := range clips {
				c.finishLocked(cl, true)
			}
			delete(c.open, camera)
		}
	}
	c.mu.Unlock()
	c.wg.Wait()
	return nil
}
