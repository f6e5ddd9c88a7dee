package cli

import (
	"encoding/json"
	"path/filepath"
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
// vtest.avi and checks the README's tracking figures. Like the motion-only
// run, it is deterministic on one machine; the margin covers ONNX
// Runtime's floating point on other CPUs.
func TestPETS09Appearance(t *testing.T) {
	skipShort(t)
	needSetup(t)
	gt := shared(t, "data/mot/PETS09-S2L1/gt.txt")
	model := shared(t, "models/osnet_x0_25_msmt17.dynbatch.onnx")
	pred := filepath.Join(t.TempDir(), "pets.txt")
	analyze(t, "--classes", "person", "--mot", pred, "--appearance", "--reid-model", model, vtest)
	code, stdout, stderr := vigil(t, "eval", "mot", "--gt", gt, "--pred", pred, "--json")
	require.Equal(t, 0, code, stderr)
	var res moteval.Result
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	t.Logf("PETS09-S2L1 with appearance: MOTA %.3f IDF1 %.3f HOTA %.3f IDSW %d", res.MOTA, res.IDF1, res.HOTA, res.IDSW)
	require.InDelta(t, 0.790, res.MOTA, 0.005)
	require.InDelta(t, 0.815, res.IDF1, 0.01)
	require.InDelta(t, 0.604, res.HOTA, 0.01)
}
