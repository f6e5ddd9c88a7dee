package httpapi

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/live"
)

// Issue 16 item 6: no cap on viewers or SSE clients. With the live hub
// and broker wired, the next viewer of a full camera gets 429, the next
// beyond the server's caps 503, each with Retry-After.
func TestViewerAndEventCaps(t *testing.T) {
	hub := live.NewHub(live.Options{MaxPerCamera: 1, MaxTotal: 2})
	defer hub.Close()
	broker := live.NewBroker[Message](1)
	hs := newHarness(t, Options{})
	hs.h = New(Deps{Store: hs.store, Cameras: hs.cams, Live: hub, Broker: broker, Logger: newTestLogger(hs.logs), Auth: hs.auth.svc}, Options{})
	for _, id := range []string{"a", "b", "c"} {
		readJSON[cameraView](t, hs.do("POST", "/api/v1/cameras", `{"id":"`+id+`","url":"rtsp://h/"}`), http.StatusCreated)
		hub.Add(id, live.SourceFunc(func() (any, func() ([]byte, error)) { return nil, nil }))
	}
	_, cancel, err := hub.Subscribe("a")
	require.NoError(t, err)
	defer cancel()
	w := hs.do("GET", "/api/v1/cameras/a/live.mjpeg", "")
	e := requireError(t, w, http.StatusTooManyRequests, codeLimit)
	require.Equal(t, "5", w.Header().Get("Retry-After"))
	require.Contains(t, e.Error.Message, `viewers of camera "a" are at their limit of 1`)

	_, cancelB, err := hub.Subscribe("b")
	require.NoError(t, err)
	defer cancelB()
	e = requireError(t, hs.do("GET", "/api/v1/cameras/c/live.mjpeg", ""), http.StatusServiceUnavailable, codeLimit)
	require.Contains(t, e.Error.Message, "live viewers are at their limit of 2")

	_, cancelE, err := broker.TrySubscribe()
	require.NoError(t, err)
	defer cancelE()
	w = hs.do("GET", "/api/v1/events", "")
	e = requireError(t, w, http.StatusServiceUnavailable, codeLimit)
	require.Equal(t, "5", w.Header().Get("Retry-After"))
	require.Contains(t, e.Error.Message, "event stream clients are at their limit of 1")
}
