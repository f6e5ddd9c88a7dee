package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

const serveHelperEnv = "VIGIL_TEST_SERVE_CONFIG"

// TestHelperServe is not a test: it is `vigil serve` run in a subprocess
// by TestServeSurvivesKill9.
func TestHelperServe(t *testing.T) {
	cfg := os.Getenv(serveHelperEnv)
	if cfg == "" {
		t.Skip("helper process only")
	}
	os.Exit(Main([]string{"serve", "--config", cfg}, os.Stdout, os.Stderr))
}

// TestServeSurvivesKill9 kills `vigil serve` with SIGKILL while it raises
// alerts and checks that every alert the API had returned (so committed)
// is still in the store.
func TestServeSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess service test skipped in -short mode")
	}
	needSetup(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	scene, err := filepath.Abs("../../scenes/pets09-s2l1.yaml")
	require.NoError(t, err)
	cfg := filepath.Join(dir, "vigil.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(`version: 1
listen: %q
data_dir: %s
auth: {disabled: true}
cameras:
  - {id: plaza, url: %s, loop: true, fps: 5, classes: person, scene: %s}
`, addr, dir, vtest, scene)), 0o644))

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServe$")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // dies with the test, even one killed before its cleanup
	cmd.Env = append(os.Environ(), serveHelperEnv+"="+cfg)
	require.NoError(t, cmd.Start())
	defer cmd.Process.Kill()

	seen := map[int64]bool{}
	deadline := time.Now().Add(hangTimeout)
	for len(seen) < 5 && time.Now().Before(deadline) {
		time.Sleep(300 * time.Millisecond)
		for _, id := range alertIDs("http://" + addr) {
			seen[id] = true
		}
	}
	require.GreaterOrEqual(t, len(seen), 5, "the service raised alerts")
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()

	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "vigil.db"))
	require.NoError(t, err)
	defer st.Close()
	for id := range seen {
		_, err := st.GetAlert(context.Background(), id)
		require.NoError(t, err, "alert %d was committed before the kill", id)
	}
}

func alertIDs(base string) []int64 {
	resp, err := http.Get(base + "/api/v1/alerts?limit=500")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var body struct {
		Alerts []struct {
			ID int64 `json:"id"`
		} `json:"alerts"`
	}
	if json.NewDecoder(resp.Body).Decode(&body) != nil {
		return nil
	}
	ids := make([]int64, len(body.Alerts))
	for i, a := range body.Alerts {
		ids[i] = a.ID
	}
	return ids
}
