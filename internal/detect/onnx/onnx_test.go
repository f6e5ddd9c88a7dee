package onnx

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/geom"
)

const vtest = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

// testConfig finds the files make setup fetched, or skips.
func testConfig(t testing.TB) Config {
	t.Helper()
	cache := os.Getenv("VIGIL_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "vigil")
	}
	cfg := Config{
		Model:   filepath.Join(cache, "models", "yolov8n.onnx"),
		Library: filepath.Join(cache, "lib", "libonnxruntime.so.1"),
		Threads: 2,
		Decode:  detect.DecodeOptions{Conf: 0.25, IoU: 0.6},
	}
	if err := CheckFiles(cfg); err != nil {
		t.Skipf("%v", err)
	}
	return cfg
}

func firstFrame(t testing.TB) *decode.Frame {
	t.Helper()
	frames := vtestFrames(t, decode.Options{MaxFrames: 1})
	require.Len(t, frames, 1)
	return frames[0]
}

func TestDetectsPeopleInVtest(t *testing.T) {
	cfg := testConfig(t)
	d, err := New(cfg)
	require.NoError(t, err)
	defer d.Close()
	f := firstFrame(t)
	dets, err := d.Detect(f)
	require.NoError(t, err)
	people := 0
	for _, det := range dets {
		require.True(t, det.Class.Kept())
		require.GreaterOrEqual(t, det.Score, float32(0.25))
		if det.Class == detect.Person {
			people++
			// Boxes are in source pixels, inside the 768x576 frame (with slack).
			require.Greater(t, det.Box.X2(), 0.0)
			require.Less(t, det.Box.X, 768.0)
			require.Less(t, det.Box.H, 300.0)
		}
	}
	// PETS09-S2L1 gt frame 1 (MOT frames are 1-based) annotates 3 people;
	// each must be found at IoU ≥ 0.5.
	gt := []geom.Box{{X: 499, Y: 158, W: 31.03, H: 75.17}, {X: 258, Y: 219, W: 32.913, H: 88.702}, {X: 633, Y: 242, W: 42.338, H: 81.074}}
	for _, g := range gt {
		best := 0.0
		for _, det := range dets {
			if det.Class == detect.Person {
				best = max(best, det.Box.IoU(g))
			}
		}
		require.GreaterOrEqual(t, best, 0.5, "gt box %+v", g)
	}
	require.Equal(t, 3, people)
	t.Logf("%d detections, %d people", len(dets), people)
}

func TestMissingFilesOneLineError(t *testing.T) {
	_, err := New(Config{Model: "/nonexistent/yolov8n.onnx", Library: "/nonexistent/lib.so"})
	require.EqualError(t, err, "model not found at /nonexistent/yolov8n.onnx; run make setup (or pass its path)")
}

func TestNotAModel(t *testing.T) {
	cfg := testConfig(t)
	bad := filepath.Join(t.TempDir(), "bad.onnx")
	require.NoError(t, os.WriteFile(bad, []byte("not a model"), 0o644))
	cfg.Model = bad
	_, err := New(cfg)
	require.Error(t, err)
	require.Contains(t, err.Error(), "not a readable ONNX model")
}

func BenchmarkInferYolov8n(b *testing.B) {
	for _, c := range []struct {
		name string
		w, h int
		full bool
	}{{"exported640x640", 0, 0, true}, {"head640x480", 640, 480, false}} {
		b.Run(c.name, func(b *testing.B) {
			cfg := testConfig(b)
			cfg.FullGraph, cfg.InputW, cfg.InputH = c.full, c.w, c.h
			d, err := New(cfg)
			require.NoError(b, err)
			defer d.Close()
			f := firstFrame(b)
			in := d.NewInput()
			require.NoError(b, d.Prepare(in, f))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := d.Infer(in, f.Width, f.Height); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkPrepare768x576(b *testing.B) {
	cfg := testConfig(b)
	d, err := New(cfg)
	require.NoError(b, err)
	defer d.Close()
	f := firstFrame(b)
	in := d.NewInput()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = d.Prepare(in, f)
	}
}

// TestHeadCutMatchesExportedGraph checks that decoding the cut graph in Go
// gives the exported graph's own detections at 640×640, and that a 640×480
// input (no padding rows) finds the same people.
func TestHeadCutMatchesExportedGraph(t *testing.T) {
	cfg := testConfig(t)
	cfg.Decode = detect.DecodeOptions{Conf: 0.1, IoU: 0.6}
	full := cfg
	full.FullGraph = true
	df, err := New(full)
	require.NoError(t, err)
	defer df.Close()
	dh, err := New(cfg)
	require.NoError(t, err)
	defer dh.Close()
	require.True(t, dh.head)
	rect := cfg
	rect.InputW, rect.InputH = 640, 480
	dr, err := New(rect)
	require.NoError(t, err)
	defer dr.Close()

	f := firstFrame(t)
	want, err := df.Detect(f)
	require.NoError(t, err)
	got, err := dh.Detect(f)
	require.NoError(t, err)
	require.Equal(t, len(want), len(got))
	for i := range want {
		require.Equal(t, want[i].Class, got[i].Class)
		require.InDelta(t, want[i].Score, got[i].Score, 1e-4)
		require.Greater(t, want[i].Box.IoU(got[i].Box), 0.999)
	}
	rgot, err := dr.Detect(f)
	require.NoError(t, err)
	for _, w := range want {
		if w.Score < 0.5 {
			continue
		}
		best := 0.0
		for _, g := range rgot {
			if g.Class.Group() == w.Class.Group() {
				best = max(best, g.Box.IoU(w.Box))
			}
		}
		require.Greater(t, best, 0.9, "%v %.2f %+v", w.Class, w.Score, w.Box)
	}
}
