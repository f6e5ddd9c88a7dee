package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/cluster/clustertest"
)

// clusterServeConfig writes a vigil.yaml for a cluster node.
func clusterServeConfig(t *testing.T, cluster string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "vigil.yaml")
	require.NoError(t, os.WriteFile(cfg, fmt.Appendf(nil, `version: 1
listen: 127.0.0.1:0
data_dir: %s
auth: {disabled: true}
cluster:
%s`, dir, cluster), 0o600))
	return cfg
}

func TestClusterServeFailsFastOnWrongNATS(t *testing.T) {
	// A port nothing listens on.
	addr := freeAddr(t)
	cfg := clusterServeConfig(t, fmt.Sprintf("  node: w1\n  roles: [worker]\n  replicas: 1\n  nats: {urls: [\"nats://%s\"]}\n", addr))
	var out, errOut bytes.Buffer
	require.NotEqual(t, 0, Main([]string{"serve", "--config", cfg}, &out, &errOut))
	require.Contains(t, errOut.String(), "cannot reach any NATS server at nats://"+addr)

	cl := clustertest.Start(t, 1, clustertest.Options{User: "vigil", Password: "right"})
	pw := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(pw, []byte("wrong\n"), 0o600))
	cfg = clusterServeConfig(t, fmt.Sprintf("  node: w1\n  roles: [api]\n  replicas: 1\n  nats: {urls: [%q], user: vigil, password_file: %s}\n", cl.URLs()[0], pw))
	out.Reset()
	errOut.Reset()
	require.NotEqual(t, 0, Main([]string{"serve", "--config", cfg}, &out, &errOut))
	require.Contains(t, errOut.String(), `refused the credentials for user "vigil"`)
	require.NotContains(t, out.String(), "serving", "nothing started")
}
