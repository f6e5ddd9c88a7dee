package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAnalyzeBaselineLearnsAcrossRuns replays PETS09's ground-truth tracks
// twice with --baseline: the first run creates the file, the second
// continues from it, and the saved model draws a heatmap and shows its
// state.
func TestAnalyzeBaselineLearnsAcrossRuns(t *testing.T) {
	gt := shared(t, "data/mot/PETS09-S2L1/gt.txt")
	dir := t.TempDir()
	model := filepath.Join(dir, "pets.baseline")
	run := func() string {
		t.Helper()
		code, stdout, stderr := vigil(t, "analyze", "--progress", "none", "--tracks-from", gt, "--seq-fps", "10",
			"--scene", petsScene, "--events", filepath.Join(dir, "ev.jsonl"), "--baseline", model)
		require.Equal(t, 0, code, stderr)
		return stdout
	}
	first := run()
	require.Contains(t, first, "baseline: "+model)
	require.FileExists(t, model)
	second := run()
	require.Contains(t, second, "2.6 min of stream time", "the second run continues the first one's model time: "+second)

	png := filepath.Join(dir, "occ.png")
	code, _, stderr := vigil(t, "baseline", "heatmap", model, "--scene", petsScene, "--kind", "direction", "--out", png)
	require.Equal(t, 0, code, stderr)
	data, err := os.ReadFile(png)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(data), "\x89PNG"))

	code, stdout, stderr := vigil(t, "baseline", "show", model, "--scene", petsScene)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, `"learned_tracks"`)

	code, _, stderr = vigil(t, "baseline", "show", model)
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "pets.baseline", "a calibrated baseline read without its scene names the file")
	code, _, stderr = vigil(t, "analyze", "--tracks-from", gt, "--baseline", model)
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "--baseline needs --scene")
}
