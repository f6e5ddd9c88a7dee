package onnx

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/geom"
)

// TestInt8MatchesFloat runs the int8 model make setup derives
// (scripts/quantise-yolo.py with testdata/int8/yolov8n-ranges.json, which
// were calibrated on other footage) and the float model through the same
// detector, head cut at 640×480 on one thread, on 20 PETS09 frames: at
// least 95% of each model's people must have a partner in the other's at
// IoU ≥ 0.5. This is the accuracy the int8 model's speed is bought with.
func TestInt8MatchesFloat(t *testing.T) {
	cfg := testConfig(t)
	cfg.Threads, cfg.InputW, cfg.InputH = 1, 640, 480
	q := cfg
	q.Model = filepath.Join(filepath.Dir(cfg.Model), "yolov8n-int8.onnx")
	if _, err := os.Stat(q.Model); err != nil {
		t.Skipf("%s missing; run make setup (it derives the int8 model)", q.Model)
	}
	frames := vtestFrames(t, decode.Options{FPS: 0.25}) // every 40th frame: 20 of 795
	people := func(c Config) [][]geom.Box {
		d, err := New(c)
		require.NoError(t, err)
		defer d.Close()
		require.True(t, d.head, "%s was not cut at its head", c.Model)
		var out [][]geom.Box
		for _, f := range frames {
			dets, err := d.Detect(f)
			require.NoError(t, err)
			out = append(out, personBoxes(dets))
		}
		return out
	}
	fl, in8 := people(cfg), people(q)
	var nf, nq, matched int
	for i := range frames {
		nf, nq = nf+len(fl[i]), nq+len(in8[i])
		matched += matchCount(fl[i], in8[i], 0.5)
	}
	t.Logf("%d frames: float %d people, int8 %d, %d matched (float %.1f%%, int8 %.1f%%)",
		len(frames), nf, nq, matched, 100*float64(matched)/float64(nf), 100*float64(matched)/float64(nq))
	require.Greater(t, nf, 100, "too few people to judge")
	require.GreaterOrEqual(t, float64(matched), 0.95*float64(nf), "float people the int8 model misses")
	require.GreaterOrEqual(t, float64(matched), 0.95*float64(nq), "int8 people the float model does not have")
}

// vtestFrames decodes vtest.avi (its own rate is 10 fps) as opt says.
func vtestFrames(t testing.TB, opt decode.Options) []*decode.Frame {
	t.Helper()
	if _, err := os.Stat(vtest); err != nil {
		t.Skipf("%s missing; run make setup", vtest)
	}
	src, err := decode.Open(context.Background(), vtest, opt)
	require.NoError(t, err)
	ch, err := src.Start(context.Background())
	require.NoError(t, err)
	var out []*decode.Frame
	for f := range ch {
		out = append(out, f)
	}
	require.NoError(t, src.Wait())
	return out
}

// personBoxes keeps the people scoring above 0.25 (the decoder's
// threshold here, so all of them: stated for the reader).
func personBoxes(dets []detect.Detection) []geom.Box {
	var out []geom.Box
	for _, d := range dets {
		if d.Class == detect.Person && d.Score > 0.25 {
			out = append(out, d.Box)
		}
	}
	return out
}

// matchCount pairs boxes one to one, greedily by IoU, and counts the pairs
// at IoU ≥ minIoU: a box never vouches for two.
func matchCount(a, b []geom.Box, minIoU float64) int {
	type pair struct {
		i, j int
		iou  float64
	}
	var ps []pair
	for i := range a {
		for j := range b {
			if iou := a[i].IoU(b[j]); iou >= minIoU {
				ps = append(ps, pair{i, j, iou})
			}
		}
	}
	sort.Slice(ps, func(x, y int) bool { return ps[x].iou > ps[y].iou })
	usedA, usedB := map[int]bool{}, map[int]bool{}
	n := 0
	for _, p := range ps {
		if !usedA[p.i] && !usedB[p.j] {
			usedA[p.i], usedB[p.j] = true, true
			n++
		}
	}
	return n
}
