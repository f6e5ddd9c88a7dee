package cli

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/secrets"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

// Issue 16 item 8: `vigil secrets rotate` reseals the stored camera URLs
// with a new key and leaves only that key in the key file.
func TestSecretsRotate(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfgPath := filepath.Join(dir, "vigil.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte("version: 1\ndata_dir: "+data+"\n"), 0o600))
	require.NoError(t, os.MkdirAll(data, 0o700))
	old, err := secrets.Load(data, func(string) string { return "" })
	require.NoError(t, err)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(data, "vigil.db"))
	require.NoError(t, err)
	st.Secrets = old
	const url = "rtsp://admin:S3cret@10.0.0.5/live"
	require.NoError(t, st.PutCamera(ctx, store.Camera{ID: "gate", Name: "g", URL: url, Kind: "rtsp", Enabled: true}))
	require.NoError(t, st.Close())

	code, stdout, stderr := vigil(t, "secrets", "rotate", "--config", cfgPath)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "resealed 1 camera URL(s) with key ")

	kr, err := secrets.Load(data, func(string) string { return "" })
	require.NoError(t, err)
	require.Len(t, kr.Keys(), 1)
	require.NotEqual(t, old.Keys()[0].ID, kr.Keys()[0].ID)
	st, err = sqlite.Open(ctx, filepath.Join(data, "vigil.db"))
	require.NoError(t, err)
	defer st.Close()
	st.Secrets = kr
	c, err := st.GetCamera(ctx, "gate")
	require.NoError(t, err)
	require.Equal(t, url, c.URL)
	st.Secrets = old
	_, err = st.GetCamera(ctx, "gate")
	require.Error(t, err, "the old key no longer opens it")
}

// Issue 16 item 8: camera passwords were stored in plain text. The store
// vigil serve opens encrypts them, including rows stored before.
func TestServeStoreEncryptsCameraURLs(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	ctx := context.Background()
	require.NoError(t, os.MkdirAll(data, 0o755))
	plain, err := sqlite.Open(ctx, filepath.Join(data, "vigil.db"))
	require.NoError(t, err)
	const url = "rtsp://admin:S3cret@10.0.0.5/live"
	require.NoError(t, plain.PutCamera(ctx, store.Camera{ID: "old", Name: "o", URL: url, Kind: "rtsp"}))
	require.NoError(t, plain.Close())

	cfg, err := config.Parse([]byte("version: 1\ndata_dir: "+data+"\n"), "v.yaml")
	require.NoError(t, err)
	st, err := openStore(ctx, cfg)
	require.NoError(t, err)
	c, err := st.GetCamera(ctx, "old")
	require.NoError(t, err)
	require.Equal(t, url, c.URL)
	require.NoError(t, st.Close())

	info, err := os.Stat(data)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), info.Mode().Perm(), "the data folder is narrowed")
	raw, err := sqlite.Open(ctx, filepath.Join(data, "vigil.db"))
	require.NoError(t, err)
	defer raw.Close()
	_, err = raw.GetCamera(ctx, "old")
	require.ErrorContains(t, err, "encrypted and no secret key is configured", "stored encrypted")
}
