package service

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/ingest/rtsptest"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

// BenchmarkServe4RTSP is the soak benchmark of issue 5: four RTSP cameras
// (in-process servers streaming H.264 made from vtest.avi) analysed at
// 5 fps each for VIGIL_BENCH_DURATION (default 10m). It reports per-camera
// processed fps, the largest detector queue depth seen, p95 latency from a
// frame's arrival to its alert on the event stream, and resident memory
// at the start and the end. Run: make bench-serve.
func BenchmarkServe4RTSP(b *testing.B) {
	dur := 10 * time.Minute
	if v := os.Getenv("VIGIL_BENCH_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		require.NoError(b, err)
		dur = d
	}
	lanes := capacityLanes(b) // as serve opens them
	dir := b.TempDir()
	clip := filepath.Join(dir, "clip.h264")
	require.NoError(b, rtsptest.MakeClip(context.Background(), vtest, clip, 20, 25, 12))
	var cams strings.Builder
	for i := 0; i < 4; i++ {
		srv, err := rtsptest.Start(clip, rtsptest.Options{Path: fmt.Sprintf("cam%d", i), FPS: 25})
		require.NoError(b, err)
		defer srv.Close()
		fmt.Fprintf(&cams, "  - {id: cam%d, url: %q, fps: 5, classes: person, scene: ../../scenes/pets09-s2l1.yaml}\n", i, srv.URL())
	}
	cfg, err := config.Parse([]byte("version: 1\nlisten: \"127.0.0.1:0\"\ndata_dir: "+dir+"\ncameras:\n"+cams.String()), "bench.yaml")
	require.NoError(b, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "vigil.db"))
	require.NoError(b, err)
	defer st.Close()
	svc, err := New(cfg, Deps{Store: st, Model: lanes[0].Model, RegionModel: lanes[0].Region, MoreLanes: lanes[1:]})
	require.NoError(b, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx, ln) }()

	b.ResetTimer()
	time.Sleep(30 * time.Second) // connect and warm up
	rssStart := rssMiB()
	start, detStart := time.Now(), detectedByCamera(b, svc)
	maxDepth := 0
	for time.Since(start) < dur {
		time.Sleep(5 * time.Second)
		for i := 0; i < 4; i++ {
			maxDepth = max(maxDepth, svc.pool.Depth(fmt.Sprintf("cam%d", i)))
		}
	}
	elapsed := time.Since(start).Seconds()
	det := detectedByCamera(b, svc)
	var fps []string
	for i := 0; i < 4; i++ {
		c := fmt.Sprintf("cam%d", i)
		f := (det[c] - detStart[c]) / elapsed
		fps = append(fps, fmt.Sprintf("%s %.2f", c, f))
		b.ReportMetric(f, c+"_fps")
	}
	p95 := alertLatencyP95(b, svc)
	rssEnd := rssMiB()
	b.ReportMetric(p95, "alert_p95_s")
	b.ReportMetric(float64(maxDepth), "max_queue")
	b.ReportMetric(rssEnd, "rss_end_MiB")
	b.Logf("4 RTSP cameras at 5 fps for %s: processed fps %s; max detector queue %d (limit 2); p95 frame→alert %.3f s; RSS %.0f → %.0f MiB",
		dur, strings.Join(fps, ", "), maxDepth, p95, rssStart, rssEnd)
	cancel()
	require.NoError(b, <-done)
}

func detectedByCamera(b *testing.B, s *Service) map[string]float64 {
	out := map[string]float64{}
	for _, m := range gather(b, s, "vigil_frames_total") {
		if label(m, "stage") == "detected" {
			out[label(m, "camera")] = m.GetCounter().GetValue()
		}
	}
	return out
}

// alertLatencyP95 merges the per-camera histograms and interpolates the
// 95th percentile within its bucket.
func alertLatencyP95(b *testing.B, s *Service) float64 {
	counts := map[float64]uint64{}
	var total uint64
	for _, m := range gather(b, s, "vigil_alert_latency_seconds") {
		h := m.GetHistogram()
		total += h.GetSampleCount()
		for _, bk := range h.GetBucket() {
			counts[bk.GetUpperBound()] += bk.GetCumulativeCount()
		}
	}
	if total == 0 {
		return 0
	}
	bounds := make([]float64, 0, len(counts))
	for ub := range counts {
		bounds = append(bounds, ub)
	}
	sort.Float64s(bounds)
	want := 0.95 * float64(total)
	prevB, prevC := 0.0, 0.0
	for _, ub := range bounds {
		c := float64(counts[ub])
		if c >= want {
			return prevB + (ub-prevB)*(want-prevC)/max(c-prevC, 1)
		}
		prevB, prevC = ub, c
	}
	return bounds[len(bounds)-1]
}

func gather(b testing.TB, s *Service, name string) []*dto.Metric {
	fams, err := s.metrics.Registry.Gather()
	require.NoError(b, err)
	for _, f := range fams {
		if f.GetName() == name {
			return f.GetMetric()
		}
	}
	return nil
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func rssMiB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
