// Package live serves what many viewers watch at once without letting
// their number cost the cameras anything: a per-camera fan-out of live
// JPEG frames and a capped broker for the server-sent event stream.
//
// A Hub encodes each camera's picture once per tick, whoever watches, and
// hands the same bytes to every viewer of that camera; it encodes nothing
// for a camera nobody watches. Before, every viewer rendered and encoded
// its own JPEGs: 50 viewers of one camera cost most of a core and stalled
// the camera. A viewer that reads slowly gets the newest frame when it is
// ready (the older one is dropped), so it never holds up the others.
//
// Both the Hub and the Broker cap their clients and refuse the next one
// with a *LimitError, which the HTTP layer answers with 429 (one camera's
// viewers) or 503 (the server's).
package live

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-cctv/vigil/internal/store"
)

// Source is a camera's current picture. Latest returns its identity,
// compared with == from tick to tick (nil when there is none yet), and a
// function that renders it with its overlays and encodes it as JPEG. The
// Hub calls encode at most once per identity, from its own goroutine.
type Source interface {
	Latest() (id any, encode func() ([]byte, error))
}

// SourceFunc adapts a function to Source.
type SourceFunc func() (any, func() ([]byte, error))

// Latest calls f.
func (f SourceFunc) Latest() (any, func() ([]byte, error)) { return f() }

// LimitError refuses a viewer or event client beyond a cap.
type LimitError struct {
	// What is capped: "viewers of camera X", "live viewers", "event stream clients".
	What string
	// Limit is the cap that was reached.
	Limit int
	// Server is true when the cap is the server's as a whole (answer 503)
	// rather than one camera's (answer 429).
	Server bool
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s are at their limit of %d; try again later", e.What, e.Limit)
}

// ErrNotRunning (wrapping store.ErrNotFound) is returned for a camera the
// hub has no source for.
var ErrNotRunning = fmt.Errorf("camera is not running: %w", store.ErrNotFound)

// Options tune a Hub.
type Options struct {
	// FPS is how often each watched camera's picture is checked for a new
	// frame (default 5).
	FPS float64
	// MaxPerCamera caps one camera's viewers (default 20).
	MaxPerCamera int
	// MaxTotal caps all viewers together (default 200).
	MaxTotal int
	// OnEncodeError is told about a failed encode (nil: ignored); the
	// viewers keep the previous frame.
	OnEncodeError func(camera string, err error)
}

// Hub fans each camera's frames out to its viewers. It implements
// httpapi.LiveFeed. It is safe for concurrent use.
type Hub struct {
	opt     Options
	mu      sync.Mutex
	feeds   map[string]*feed
	total   int
	closed  bool
	encodes atomic.Int64
	wg      sync.WaitGroup
}

// NewHub makes an empty hub; add cameras with Add.
func NewHub(opt Options) *Hub {
	if opt.FPS <= 0 {
		opt.FPS = 5
	}
	if opt.MaxPerCamera <= 0 {
		opt.MaxPerCamera = 20
	}
	if opt.MaxTotal <= 0 {
		opt.MaxTotal = 200
	}
	return &Hub{opt: opt, feeds: map[string]*feed{}}
}

// feed is one camera's viewers and, while it has any, its ticking
// goroutine. subs and stop are guarded by Hub.mu.
type feed struct {
	camera string
	src    Source
	subs   map[*viewer]struct{}
	stop   chan struct{} // closed to end the goroutine; nil when none runs
}

// viewer is one subscription: a one-frame mailbox.
type viewer struct {
	ch chan []byte
}

// Add starts serving camera from src, replacing (and ending the viewers
// of) any earlier source for it.
func (h *Hub) Add(camera string, src Source) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.removeLocked(camera)
	h.feeds[camera] = &feed{camera: camera, src: src, subs: map[*viewer]struct{}{}}
}

// Remove stops serving camera; its viewers' channels are closed.
func (h *Hub) Remove(camera string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(camera)
}

func (h *Hub) removeLocked(camera string) {
	f := h.feeds[camera]
	if f == nil {
		return
	}
	delete(h.feeds, camera)
	for v := range f.subs {
		close(v.ch)
		h.total--
	}
	f.subs = nil
	h.stopLocked(f)
}

// Close removes every camera and waits for the feed goroutines to end.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	for camera := range h.feeds {
		h.removeLocked(camera)
	}
	h.mu.Unlock()
	h.wg.Wait()
}

// Subscribe adds a viewer of camera: its channel carries JPEG frames and
// is closed when the camera is removed. cancel must be called once the
// viewer leaves. Beyond the caps it returns a *LimitError; for a camera
// without a source, ErrNotRunning.
func (h *Hub) Subscribe(camera string) (<-chan []byte, func(), error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f := h.feeds[camera]
	switch {
	case f == nil || h.closed:
		return nil, nil, fmt.Errorf("camera %q: %w", camera, ErrNotRunning)
	case len(f.subs) >= h.opt.MaxPerCamera:
		return nil, nil, &LimitError{What: fmt.Sprintf("viewers of camera %q", camera), Limit: h.opt.MaxPerCamera}
	case h.total >= h.opt.MaxTotal:
		return nil, nil, &LimitError{What: "live viewers", Limit: h.opt.MaxTotal, Server: true}
	}
	v := &viewer{ch: make(chan []byte, 1)}
	f.subs[v] = struct{}{}
	h.total++
	if f.stop == nil {
		h.startLocked(f)
	}
	var once sync.Once
	return v.ch, func() { once.Do(func() { h.leave(f, v) }) }, nil
}

// leave drops a viewer; the last one out stops the camera's encoding.
func (h *Hub) leave(f *feed, v *viewer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := f.subs[v]; !ok {
		return // the camera was removed meanwhile
	}
	delete(f.subs, v)
	close(v.ch)
	h.total--
	if len(f.subs) == 0 {
		h.stopLocked(f)
	}
}

func (h *Hub) startLocked(f *feed) {
	f.stop = make(chan struct{})
	h.wg.Add(1)
	go h.run(f, f.stop)
}

func (h *Hub) stopLocked(f *feed) {
	if f.stop != nil {
		close(f.stop)
		f.stop = nil
	}
}

// run ticks while the feed has viewers: one encode per new picture,
// shared by all of them.
func (h *Hub) run(f *feed, stop <-chan struct{}) {
	defer h.wg.Done()
	t := time.NewTicker(time.Duration(float64(time.Second) / h.opt.FPS))
	defer t.Stop()
	var last any
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		last = h.tick(f, last)
	}
}

// tick encodes the camera's picture if it is new since last and hands it
// to every viewer; it returns the identity now current.
func (h *Hub) tick(f *feed, last any) any {
	id, encode := f.src.Latest()
	if id == nil || id == last || encode == nil {
		return last
	}
	jpg, err := encode()
	if err != nil {
		if h.opt.OnEncodeError != nil {
			h.opt.OnEncodeError(f.camera, err)
		}
		return id // a broken picture is not retried every tick
	}
	h.encodes.Add(1)
	h.mu.Lock()
	defer h.mu.Unlock()
	for v := range f.subs {
		offer(v.ch, jpg)
	}
	return id
}

// offer puts jpg in a one-frame mailbox, replacing a frame the viewer has
// not taken yet: a slow viewer skips frames, it never blocks the feed.
func offer(ch chan []byte, jpg []byte) {
	select {
	case ch <- jpg:
		return
	default:
	}
	select {
	case <-ch:
	default:
	}
	select {
	case ch <- jpg:
	default:
	}
}

// Stats reports the viewers connected now and the JPEG encodes so far.
func (h *Hub) Stats() (viewers int, encodes int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.total, h.encodes.Load()
}

// IsLimit reports whether err is a *LimitError and returns it.
func IsLimit(err error) (*LimitError, bool) {
	var le *LimitError
	ok := errors.As(err, &le)
	return le, ok
}
