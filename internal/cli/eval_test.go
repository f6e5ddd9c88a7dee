package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/moteval"
)

// Nine-column gt is scored with the MOT17 preprocessing unless told
// otherwise: the hypothesis on the distractor (class 8) is dropped.
func TestEvalMOTDetectsMOT17(t *testing.T) {
	dir := t.TempDir()
	gt, pred := filepath.Join(dir, "gt.txt"), filepath.Join(dir, "pred.txt")
	require.NoError(t, os.WriteFile(gt, []byte("1,1,0,0,10,20,1,1,1\n1,2,100,0,10,20,0,8,1\n"), 0o600))
	require.NoError(t, os.WriteFile(pred, []byte("1,1,0,0,10,20,1,-1,-1,-1\n1,2,100,0,10,20,1,-1,-1,-1\n"), 0o600))
	for bench, fp := range map[string]int{"auto": 0, "mot17": 0, "mot15": 1} {
		code, stdout, stderr := vigil(t, "eval", "mot", "--gt", gt, "--pred", pred, "--json", "--benchmark", bench)
		require.Equal(t, 0, code, stderr)
		var res moteval.Result
		require.NoError(t, json.Unmarshal([]byte(stdout), &res))
		require.Equal(t, fp, res.FP, bench)
	}
}
