package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigil-cctv/vigil/internal/auth"
	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/httpapi"
	"github.com/vigil-cctv/vigil/internal/live"
	"github.com/vigil-cctv/vigil/internal/service"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
	"github.com/vigil-cctv/vigil/internal/web"
)

const vtest = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

// wallFrames encodes a real 768×576 frame for every snapshot request, as
// the service does (service.EncodeSnapshot), and counts the requests.
type wallFrames struct {
	frame *decode.Frame
	n     atomic.Int64
}

func (w *wallFrames) Snapshot(_ context.Context, _ string, maxWidth int) ([]byte, time.Time, error) {
	w.n.Add(1)
	jpg, err := service.EncodeSnapshot(w.frame, maxWidth)
	return jpg, time.Now(), err
}

func firstFrame(b *testing.B) *decode.Frame {
	if _, err := os.Stat(vtest); err != nil {
		b.Skip("vtest.avi missing; run make setup")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src, err := decode.Open(ctx, vtest, decode.Options{MaxFrames: 1})
	if err != nil {
		b.Fatal(err)
	}
	frames, err := src.Start(ctx)
	if err != nil {
		b.Fatal(err)
	}
	f := <-frames
	cancel()
	for range frames {
	}
	_ = src.Wait()
	if f == nil {
		b.Fatal("no frame from vtest.avi")
	}
	return f
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkWall64 measures the camera wall with 64 cameras in a real
// browser: the time from opening the wall (36 tiles a page) until every
// tile shows its frame, and the server's CPU while the wall refreshes its
// tiles for 30 s (this process: the API, the store and the JPEG encoding
// of every tile; the browser is another process).
//
//	go test -run XXX -bench Wall64 -benchtime 1x ./internal/web/
func BenchmarkWall64(b *testing.B) {
	frame := firstFrame(b)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "vigil.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	accounts := auth.New(st, auth.Options{Params: fast})
	if _, err := accounts.CreateUser(ctx, auth.Actor{Name: "bench"}, auth.NewUser{Name: "vera", Role: auth.Viewer, Password: password}); err != nil {
		b.Fatal(err)
	}
	for i := range 64 {
		if err := st.PutCamera(ctx, store.Camera{ID: fmt.Sprintf("cam%02d", i), Name: fmt.Sprintf("Camera %d", i), URL: "/x.avi", Kind: "file", Enabled: true}); err != nil {
			b.Fatal(err)
		}
	}
	frames := &wallFrames{frame: frame}
	api := httpapi.New(httpapi.Deps{Store: st, Cameras: cameras{}, Broker: live.NewBroker[httpapi.Message](0), Auth: accounts, Snapshots: frames}, httpapi.Options{})
	mux := http.NewServeMux()
	mux.Handle("/api/", api)
	mux.Handle("/", web.Handler())
	srv := httptest.NewServer(mux)
	// Registered before the browser, so closed after it: the browser's
	// event stream would otherwise hold Close.
	b.Cleanup(srv.Close)
	bctx, _ := browser(b)
	login(b, bctx, &console{url: srv.URL}, "vera")

	loaded := func(n int) string {
		return fmt.Sprintf(`(() => { const imgs = [...document.querySelectorAll('.tile img')];
			return imgs.length === %d && imgs.every(i => i.complete && i.naturalWidth > 0); })()`, n)
	}
	for b.Loop() {
		// A fresh page load of the wall (modules, session, cameras) until
		// its default 16 tiles show; then 36 a page.
		start := time.Now()
		run(b, bctx, chromedp.Navigate(srv.URL+"/?"+strconv.FormatInt(start.UnixNano(), 10)+"#/wall"), poll(loaded(16)))
		b.ReportMetric(float64(time.Since(start).Milliseconds()), "ms-load-16-tiles")
		start = time.Now()
		run(b, bctx, setValue(`select[name="size"]`, "36"), poll(loaded(36)))
		b.ReportMetric(float64(time.Since(start).Milliseconds()), "ms-to-36-tiles")
	}
	b.StopTimer()
	n0, cpu0, t0 := frames.n.Load(), cpuTime(), time.Now()
	// The wall keeps refreshing by itself: just let it run.
	run(b, bctx, chromedp.Sleep(30*time.Second))
	wall := time.Since(t0)
	b.ReportMetric(100*float64(cpuTime()-cpu0)/float64(wall), "server-cpu-%")
	b.ReportMetric(float64(frames.n.Load()-n0)/wall.Seconds(), "snapshots/s")
}
