package httpapi

import (
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-cctv/vigil/internal/live"
	"github.com/vigil-cctv/vigil/internal/live/livetest"
)

// perViewerFeed is the live view as it was before package live: every
// subscriber ticks and encodes on its own.
type perViewerFeed struct {
	src *livetest.Changing
	fps float64
}

func (p perViewerFeed) Subscribe(string) (<-chan []byte, func(), error) {
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan []byte, 1)
	go func() {
		defer close(out)
		t := time.NewTicker(time.Duration(float64(time.Second) / p.fps))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if jpg, err := livetest.Encode(p.src.Frame, p.src.Quality); err == nil {
				select {
				case out <- jpg:
				default:
				}
			}
		}
	}()
	return out, cancel, nil
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkMJPEGViewers serves one 768×576 camera, whose picture changes
// every tick (5 fps), to N viewers over real HTTP for 10 s and reports
// the process's CPU (server and the in-process clients together) as a
// share of one core, and the frames each viewer received per second.
// go test -run x -bench MJPEGViewers -benchtime 1x ./internal/httpapi/
func BenchmarkMJPEGViewers(b *testing.B) {
	f, err := livetest.Frame(context.Background())
	if err != nil {
		b.Skip(err)
	}
	const fps = 5
	for _, n := range []int{1, 10, 50} {
		b.Run(fmt.Sprintf("shared/%d", n), func(b *testing.B) {
			hub := live.NewHub(live.Options{FPS: fps, MaxPerCamera: 100, MaxTotal: 100})
			defer hub.Close()
			hub.Add("cam", &livetest.Changing{Frame: f, Quality: 70})
			benchViewers(b, hub, n)
		})
	}
	b.Run("per-viewer-encode/50", func(b *testing.B) {
		benchViewers(b, perViewerFeed{src: &livetest.Changing{Frame: f, Quality: 70}, fps: fps}, 50)
	})
}

func benchViewers(b *testing.B, feed LiveFeed, n int) {
	hs := newHarness(b, Options{})
	readJSON[cameraView](b, hs.do("POST", "/api/v1/cameras", `{"id":"cam","url":"rtsp://h/"}`), http.StatusCreated)
	srv := httptest.NewServer(New(Deps{Store: hs.store, Live: feed}, Options{}))
	defer srv.Close()
	const window = 10 * time.Second
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), window)
		var parts atomic.Int64
		var wg sync.WaitGroup
		start, cpu0 := time.Now(), cpuTime()
		for range n {
			wg.Go(func() { watch(ctx, srv.URL+"/api/v1/cameras/cam/live.mjpeg", &parts) })
		}
		wg.Wait()
		cancel()
		wall, cpu := time.Since(start), cpuTime()-cpu0
		b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "%core")
		b.ReportMetric(float64(parts.Load())/float64(n)/wall.Seconds(), "fps/viewer")
	}
}

// watch reads an MJPEG stream until ctx ends, counting its JPEG parts.
func watch(ctx context.Context, url string, parts *atomic.Int64) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil {
		return
	}
	mr := multipart.NewReader(resp.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			return
		}
		if _, err := io.Copy(io.Discard, p); err != nil {
			return
		}
		parts.Add(1)
	}
}
