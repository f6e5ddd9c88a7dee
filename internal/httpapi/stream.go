package httpapi

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/vigil-cctv/vigil/internal/store"
)

// stream wraps a streaming response: every write gets its own deadline,
// so a client that stops reading ends the handler instead of pinning it,
// and the server's WriteTimeout (meant for ordinary requests) no longer
// cuts a stream that is working.
type stream struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

func (a *api) newStream(w http.ResponseWriter) *stream {
	return &stream{w: w, rc: http.NewResponseController(w), timeout: a.opts.WriteTimeout}
}

// send writes b and flushes it to the client.
func (s *stream) send(b []byte) error {
	// Not every ResponseWriter supports deadlines (httptest's recorder does
	// not); a stream there simply has no per-write bound.
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.timeout))
	if _, err := s.w.Write(b); err != nil {
		return err
	}
	return s.rc.Flush()
}

// events streams Broker messages as server-sent events until the client
// goes away or the broker ends the subscription. The subscription is
// cancelled on every return path, so a client leaves nothing behind.
func (a *api) events(w http.ResponseWriter, r *http.Request) error {
	if a.deps.Broker == nil {
		return unavailable("the event stream is not available")
	}
	msgs, cancel := a.deps.Broker.Subscribe()
	defer cancel()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx must not buffer the stream
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead { // GET routes also answer HEAD: no stream
		return nil
	}
	s := a.newStream(w)
	// The retry hint and a first flush let the client see the stream open
	// before the first event, which may be a long while coming.
	if s.send([]byte("retry: 3000\n: connected\n\n")) != nil {
		return nil
	}
	a.pump(r, s, msgs)
	return nil
}

// pump copies messages to the client, with heartbeats between them; a
// user limited to camera groups gets only their cameras' messages.
func (a *api) pump(r *http.Request, s *stream, msgs <-chan Message) {
	p := principal(r)
	tick := time.NewTicker(a.opts.Heartbeat)
	defer tick.Stop()
	var seq int64
	for {
		var frame []byte
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			frame = []byte(": heartbeat\n\n")
		case m, ok := <-msgs:
			if !ok {
				return
			}
			if !mayReceive(p, m) {
				continue
			}
			seq++
			if frame = a.sseFrame(seq, m); frame == nil {
				continue
			}
		}
		if s.send(frame) != nil {
			return
		}
	}
}

// sseFrame formats one message; nil when its data cannot be encoded,
// which is logged and skipped rather than ending the stream.
func (a *api) sseFrame(seq int64, m Message) []byte {
	data, err := json.Marshal(m.Data)
	if err != nil {
		a.log.Error("event not sent: cannot encode", "type", m.Type, "err", err)
		return nil
	}
	// JSON has no raw newlines, so data fits one "data:" line; the type
	// is ours, but a newline in it would still break the framing.
	typ := m.Type
	if !validEventType(typ) {
		a.log.Error("event not sent: bad type", "type", strconv.Quote(typ))
		return nil
	}
	return fmt.Appendf(nil, "id: %d\nevent: %s\ndata: %s\n\n", seq, typ, data)
}

func validEventType(t string) bool {
	if t == "" {
		return false
	}
	for _, c := range t {
		if c < '!' || c > '~' {
			return false
		}
	}
	return true
}

// liveMJPEG streams a camera's annotated frames as multipart JPEG, which
// an <img> tag plays without any script.
func (a *api) liveMJPEG(w http.ResponseWriter, r *http.Request) error {
	c, err := a.camera(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if a.deps.Live == nil {
		return unavailable("live view is not available")
	}
	frames, cancel, err := a.deps.Live.Subscribe(c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return unavailable("camera %q is not running", c.ID)
	}
	if err != nil {
		a.log.Warn("live view failed", "camera", c.ID, "err", scrub(err.Error(), c.URL))
		return unavailable("live view of camera %q is not available", c.ID)
	}
	defer cancel()
	boundary := newBoundary()
	h := w.Header()
	h.Set("Content-Type", "multipart/x-mixed-replace; boundary="+boundary)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	s := a.newStream(w)
	// Send the headers and the first delimiter now: the viewer should see
	// the stream open even if the camera's first frame is a while coming.
	if s.send([]byte("--"+boundary+"\r\n")) != nil {
		return nil
	}
	a.pumpFrames(r, s, frames, boundary)
	return nil
}

// newBoundary makes a per-stream part boundary: a JPEG is binary, and a
// random boundary is one it cannot contain by chance.
func newBoundary() string {
	return "vigil" + rand.Text()
}

// pumpFrames writes each JPEG as one part until the client leaves or the
// feed closes.
func (a *api) pumpFrames(r *http.Request, s *stream, frames <-chan []byte, boundary string) {
	for {
		select {
		case <-r.Context().Done():
			return
		case jpg, ok := <-frames:
			if !ok {
				return
			}
			// Each part ends with the next delimiter, so that a viewer can
			// show the frame at once instead of waiting for the next one.
			head := fmt.Appendf(nil, "Content-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n", len(jpg))
			part := append(append(head, jpg...), "\r\n--"+boundary+"\r\n"...)
			if s.send(part) != nil {
				return
			}
		}
	}
}
