package httpserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const short = 200 * time.Millisecond

// serve runs New(h, cfg) on a loopback port until the test ends.
func serve(t *testing.T, h http.Handler, cfg Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := New(h, cfg)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		srv.Close()
		<-done
	})
	return ln.Addr().String()
}

func rawRequest(t *testing.T, addr, req string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	_, err = io.WriteString(c, req)
	require.NoError(t, err)
	return c
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Issue 16 item 6: the server had no read timeout for request bodies. A
// client that sends headers and then trickles (here: withholds) its body
// is now cut off after ReadTimeout.
func TestReadTimeoutBoundsBodies(t *testing.T) {
	got := make(chan error, 1)
	addr := serve(t, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		got <- err
	}), Config{ReadTimeout: short})
	rawRequest(t, addr, "POST /api/v1/cameras HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n{")
	select {
	case err := <-got:
		require.True(t, isTimeout(err), "want a timeout, got %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the body read was never cut off")
	}
}

// Issue 16 item 6: nor a write timeout: a client that never reads an
// ordinary response pinned its handler.
func TestWriteTimeoutBoundsResponses(t *testing.T) {
	got := make(chan error, 1)
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		chunk := make([]byte, 64<<10)
		for {
			if _, err := w.Write(chunk); err != nil {
				got <- err
				return
			}
		}
	}), Config{WriteTimeout: short})
	rawRequest(t, addr, "GET /api/v1/alerts/1/clip HTTP/1.1\r\nHost: a\r\n\r\n") // and never read
	select {
	case err := <-got:
		require.Error(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("the write was never cut off")
	}
}

// Streams are exempt: a live view outlives ReadTimeout and WriteTimeout
// with its context intact.
func TestStreamsOutliveTheTimeouts(t *testing.T) {
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		wait := time.NewTimer(5 * short)
		defer wait.Stop()
		select {
		case <-r.Context().Done():
			fmt.Fprint(w, "cancelled")
		case <-wait.C:
			fmt.Fprint(w, "alive")
		}
	}), Config{ReadTimeout: short, WriteTimeout: short,
		Streaming: func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "live.mjpeg") }})
	resp, err := http.Get("http://" + addr + "/api/v1/cameras/a/live.mjpeg")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, "alive", string(body))
}

// Issue 16 item 6: a 900 KB header was accepted.
func TestHeaderSizeIsBounded(t *testing.T) {
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}), Config{})
	c := rawRequest(t, addr, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: "+strings.Repeat("a", 900<<10)+"\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)
}

func TestDefaults(t *testing.T) {
	srv := New(http.NotFoundHandler(), Config{})
	require.Equal(t, 10*time.Second, srv.ReadHeaderTimeout)
	require.Equal(t, 2*time.Minute, srv.IdleTimeout)
	require.Equal(t, 32<<10, srv.MaxHeaderBytes)
	require.Zero(t, srv.ReadTimeout, "per request, not per connection: streams would be cut")
}
