package httpapi

import (
	"bufio"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// streamServer serves the harness over a real connection, which the
// streaming routes need (flushes, client disconnects).
func streamServer(t *testing.T, hs *harness) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hs.h.ServeHTTP(w, hs.login(r))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, ctx context.Context, url string) *http.Response {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	return resp
}

// readEvent reads SSE lines up to the next blank line, skipping comments.
func readEvent(t *testing.T, r *bufio.Reader) map[string]string {
	ev := map[string]string{}
	for {
		line, err := r.ReadString('\n')
		require.NoError(t, err)
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && len(ev) > 0:
			return ev
		case line == "", strings.HasPrefix(line, ":"):
			ev = map[string]string{} // a comment block
		default:
			k, v, _ := strings.Cut(line, ": ")
			ev[k] = v
		}
	}
}

func TestSSE(t *testing.T) {
	hs := newHarness(t, Options{Heartbeat: 20 * time.Millisecond})
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent()) // the store's pool may stay

	srv := streamServer(t, hs)
	ctx, cancel := context.WithCancel(context.Background())
	resp := get(t, ctx, srv.URL+"/api/v1/events")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	r := bufio.NewReader(resp.Body)
	require.Eventually(t, func() bool { return hs.broker.count() == 1 }, patience, time.Millisecond)

	hs.broker.Publish(Message{Type: MessageAlert, Data: map[string]any{"id": 7, "rule": "intrusion"}})
	ev := readEvent(t, r)
	require.Equal(t, "alert", ev["event"])
	require.Equal(t, "1", ev["id"])
	require.JSONEq(t, `{"id":7,"rule":"intrusion"}`, ev["data"])
	hs.broker.Publish(Message{Type: MessageCameraState, Data: CameraStatus{ID: "gate", State: CameraStalled}})
	ev = readEvent(t, r)
	require.Equal(t, "camera_state", ev["event"])
	require.Equal(t, "2", ev["id"])

	heartbeat := false
	for !heartbeat {
		line, err := r.ReadString('\n')
		require.NoError(t, err)
		heartbeat = line == ": heartbeat\n"
	}

	cancel()
	resp.Body.Close()
	require.Eventually(t, func() bool { return hs.broker.count() == 0 }, patience, time.Millisecond,
		"the subscription ends with the client")
	srv.Close()
}

func TestMJPEG(t *testing.T) {
	hs := newHarness(t, Options{})
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent()) // the store's pool may stay

	readJSON[cameraView](t, hs.do("POST", "/api/v1/cameras", `{"id":"gate","url":"rtsp://h/"}`), http.StatusCreated)
	srv := streamServer(t, hs)
	ctx, cancel := context.WithCancel(context.Background())
	resp := get(t, ctx, srv.URL+"/api/v1/cameras/gate/live.mjpeg")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/x-mixed-replace", mt)
	require.Eventually(t, func() bool { return hs.live.count() == 1 }, patience, time.Millisecond)

	frames := [][]byte{[]byte("\xff\xd8frame-one\xff\xd9"), []byte("\xff\xd8frame-two\r\n--vigilframe\xff\xd9")}
	mr := multipart.NewReader(resp.Body, params["boundary"])
	for _, f := range frames {
		hs.live.send(f)
		part, err := mr.NextPart()
		require.NoError(t, err)
		require.Equal(t, "image/jpeg", part.Header.Get("Content-Type"))
		got, err := io.ReadAll(part)
		require.NoError(t, err)
		require.Equal(t, f, got)
	}

	cancel()
	resp.Body.Close()
	require.Eventually(t, func() bool { return hs.live.count() == 0 }, patience, time.Millisecond,
		"the live subscription ends with the client")
	srv.Close()
}

func TestMJPEGUnknownCamera(t *testing.T) {
	hs := newHarness(t, Options{})
	requireError(t, hs.do("GET", "/api/v1/cameras/nope/live.mjpeg", ""), http.StatusNotFound, codeNotFound)
}

func TestStreamsAnswerHEAD(t *testing.T) {
	hs := newHarness(t, Options{})
	readJSON[cameraView](t, hs.do("POST", "/api/v1/cameras", `{"id":"gate","url":"rtsp://h/"}`), http.StatusCreated)
	for _, path := range []string{"/api/v1/events", "/api/v1/cameras/gate/live.mjpeg"} {
		w := hs.do("HEAD", path, "")
		require.Equal(t, http.StatusOK, w.Code, path)
	}
	require.Zero(t, hs.broker.count())
	require.Zero(t, hs.live.count())
}

// patience bounds waits for another goroutine: a hang guard with room for a
// busy machine, not a speed target.
const patience = 2 * time.Minute
