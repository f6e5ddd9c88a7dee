package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/search"
)

func TestScoreAttributes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "l.csv")
	require.NoError(t, os.WriteFile(path, []byte("# c\nid,upper,lower,carried,note\n1,red|blue,black,backpack,x\n2,black,blue,,\n"), 0o600))
	labels, err := readAttrLabels(path)
	require.NoError(t, err)
	got := map[int]search.Appearance{1: {Upper: []string{"blue", "red"}, Lower: []string{"grey"}, Carried: []string{"backpack"}},
		2: {Upper: []string{"black"}, Lower: []string{"blue"}, Carried: []string{"umbrella"}}}
	rep := scoreAttributes(labels, got, true)
	require.Equal(t, 2, rep.UpperCorrect, "any labelled colour counts for a mixed region")
	require.Equal(t, 1, rep.LowerCorrect)
	require.Equal(t, carriedScore{TP: 1, FP: 1, Precision: 0.5, Recall: 1}, *rep.Carried)
	require.Len(t, scoreAttributes(labels, got, false).Wrong, 1, "carried not scored without the detector")
}

// TestEvalAttributesPETS09 runs the extractor over vtest.avi at the
// ground-truth boxes and holds the accuracy the README reports.
func TestEvalAttributesPETS09(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes the whole of vtest.avi")
	}
	needSetup(t)
	gt := filepath.Join("..", "..", "..", "shared", "data", "mot", "PETS09-S2L1", "gt.txt")
	if _, err := os.Stat(gt); err != nil {
		t.Skipf("%s missing", gt)
	}
	var out, errs bytes.Buffer
	code := Main([]string{"eval", "attributes", "--gt", gt, "--labels", "../../testdata/attributes/pets09.csv", "--json"}, &out, &errs)
	require.Equal(t, 0, code, errs.String())
	var rep attrReport
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep))
	require.Equal(t, 19, rep.Identities)
	// The README's figures (deterministic: the same frames and boxes).
	require.GreaterOrEqual(t, rep.UpperCorrect, 16, rep.Wrong)
	require.GreaterOrEqual(t, rep.LowerCorrect, 17, rep.Wrong)
}
