package cli

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBenchDescribeReportsTheAddedCost: `vigil bench --describe` runs the
// pipeline twice, the second time describing tracks with embeddings, and
// reports both runs' CPU time and what describing added.
func TestBenchDescribeReportsTheAddedCost(t *testing.T) {
	needSetup(t)
	model := shared(t, "models/osnet_x0_25_msmt17.dynbatch.onnx")
	var out, errs bytes.Buffer
	code := Main([]string{"bench", vtest, "--frames", "20", "--describe", "--reid-model", model, "--json"}, &out, &errs)
	require.Equal(t, 0, code, errs.String())
	var rep benchReport
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep))
	require.Equal(t, 20, rep.Frames)
	require.Positive(t, rep.PipelineCPU)
	require.NotNil(t, rep.Described)
	d := rep.Described
	require.Positive(t, d.CPU)
	require.True(t, d.Embeddings)
	require.Positive(t, d.Tracks, "the tracks open at the end are described")
	require.InDelta(t, (d.CPU-rep.PipelineCPU)/rep.PipelineCPU, d.AddedCPU, 1e-9)

	out.Reset()
	code = Main([]string{"bench", vtest, "--frames", "20", "--describe", "--reid-model", "/nonexistent/osnet.onnx"}, &out, &errs)
	require.Equal(t, 1, code)
	require.Contains(t, errs.String(), "--describe")
}
