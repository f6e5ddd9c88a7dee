package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/moteval"
)

// TestEvalReIDPETS09 embeds the good ground-truth crops of PETS09-S2L1
// and checks the README's segment-retrieval figures. The embedder and the
// protocol are deterministic; the margin covers ONNX Runtime's floating
// point on other CPUs (one query either way moves rank-1 by 0.01).
func TestEvalReIDPETS09(t *testing.T) {
	skipShort(t)
	needSetup(t)
	gt := shared(t, "data/mot/PETS09-S2L1/gt.txt")
	model := shared(t, "models/osnet_x0_25_msmt17.dynbatch.onnx")
	code, stdout, stderr := vigil(t, "eval", "reid", "--json", "--gt", gt, "--input", vtest, "--reid-model", model)
	require.Equal(t, 0, code, stderr)
	var rep reidReport
	require.NoError(t, json.Unmarshal([]byte(stdout), &rep))
	t.Logf("PETS09-S2L1 reid: %d crops, %d segments of %d identities, rank-1 %.3f mAP %.3f", rep.Crops, rep.Result.Segments, rep.Result.Identities, rep.Result.Rank1, rep.Result.MAP)
	require.Equal(t, 19, rep.Result.Identities)
	require.InDelta(t, 0.592, rep.Result.Rank1, 0.02)
	require.InDelta(t, 0.674, rep.Result.MAP, 0.02)
}

// TestPETS09Appearance runs the full pipeline with --appearance on
// vtest.avi at the full 10 fps and at 5 fps, and checks the README's
// tracking figures (the 5 fps run scored against the ground truth of the
// analysed frames). Like the motion-only run, it is deterministic on one
// machine; the margin covers ONNX Runtime's floating point on other CPUs.
func TestPETS09Appearance(t *testing.T) {
	skipShort(t)
	needSetup(t)
	gt := shared(t, "data/mot/PETS09-S2L1/gt.txt")
	model := shared(t, "models/osnet_x0_25_msmt17.dynbatch.onnx")
	for _, c := range []struct {
		fps              string
		mota, idf1, hota float64
	}{
		{"0", 0.801, 0.824, 0.599},
		{"5", 0.765, 0.823, 0.586},
	} {
		pred, frames := filepath.Join(t.TempDir(), "pets.txt"), filepath.Join(t.TempDir(), "frames.jsonl")
		analyze(t, "--classes", "person", "--fps", c.fps, "--mot", pred, "--jsonl", frames, "--appearance", "--reid-model", model, vtest)
		if c.fps == "0" {
			requireTripwireRecall(t, gt, frames, 234) // the README's plaza-wide figure with appearance
		}
		g := gt
		if c.fps == "5" {
			g = everyOtherFrame(t, gt)
		}
		code, stdout, stderr := vigil(t, "eval", "mot", "--gt", g, "--pred", pred, "--json")
		require.Equal(t, 0, code, stderr)
		var res moteval.Result
		require.NoError(t, json.Unmarshal([]byte(stdout), &res))
		t.Logf("PETS09-S2L1 with appearance, --fps %s: MOTA %.3f IDF1 %.3f HOTA %.3f IDSW %d", c.fps, res.MOTA, res.IDF1, res.HOTA, res.IDSW)
		require.InDelta(t, c.mota, res.MOTA, 0.005)
		require.InDelta(t, c.idf1, res.IDF1, 0.01)
		require.InDelta(t, c.hota, res.HOTA, 0.01)
	}
}

// everyOtherFrame writes the ground-truth lines of frames 1, 3, 5, ...
// (the frames --fps 5 analyses of a 10 fps video), byte for byte as
// awk -F, '($1-1)%2==0' does, and returns the file's path.
func everyOtherFrame(t *testing.T, gt string) string {
	t.Helper()
	data, err := os.ReadFile(gt)
	require.NoError(t, err)
	var keep []string
	for _, line := range strings.SplitAfter(string(data), "\n") {
		first, _, _ := strings.Cut(line, ",")
		if n, err := strconv.Atoi(strings.TrimSpace(first)); err == nil && (n-1)%2 == 0 {
			keep = append(keep, line)
		}
	}
	path := filepath.Join(t.TempDir(), "gt5.txt")
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(keep, "")), 0o644))
	return path
}
