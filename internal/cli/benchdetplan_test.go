package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/motfile"
)

// bench-detplan runs both passes over the same analysed frames and keeps
// each pass's tracks for the scene rules, numbered on the --seq-fps grid.
func TestBenchDetplanKeepsEachPassTracks(t *testing.T) {
	needSetup(t)
	dir := t.TempDir()
	frames := filepath.Join(dir, "frames")
	out, err := exec.Command("sh", "-c", "mkdir -p "+frames+" && ffmpeg -loglevel error -i "+vtest+
		" -frames:v 12 "+filepath.Join(frames, "f%04d.png")).CombinedOutput()
	require.NoError(t, err, string(out))
	tracks := filepath.Join(dir, "tracks")
	code, stdout, stderr := vigil(t, "bench-detplan", frames, "--fps", "5", "--seq-fps", "10", "--classes", "person",
		"--tracks-out", tracks, "--json")
	require.Equal(t, 0, code, stderr)
	var passes []detplanPass
	require.NoError(t, json.Unmarshal([]byte(stdout), &passes))
	require.Len(t, passes, 2)
	for _, p := range passes {
		require.Equal(t, 6, p.Frames, "12 frames at 10 fps analysed at 5 fps")
	}
	for _, name := range []string{"every-frame.txt", "policy.txt"} {
		rows, err := motfile.ReadFile(filepath.Join(tracks, name))
		require.NoError(t, err)
		require.NotEmpty(t, rows, name)
		for _, r := range rows {
			require.Equal(t, 1, r.Frame%2, "%s: frame %d is not on the analysed grid (1, 3, …)", name, r.Frame)
		}
	}
}

// eval traffic scores only wrong-way alerts against the hand labels: with
// none, every labelled vehicle that crosses both rows is missed.
func TestEvalTrafficScoresWrongWayAlerts(t *testing.T) {
	dir := t.TempDir()
	events := filepath.Join(dir, "alerts.jsonl")
	require.NoError(t, os.WriteFile(events, []byte(`{"rule":"line_crossing","camera":"highway","start":1,"end":1}`+"\n"), 0o644))
	code, stdout, stderr := vigil(t, "eval", "traffic", "--labels", "../../testdata/highway/vehicles.csv",
		"--scene", highwayScene, "--events", events, "--reversed")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "wrong-way alerts 0: recall 0.000 (0 of 27 expected vehicles)")

}
