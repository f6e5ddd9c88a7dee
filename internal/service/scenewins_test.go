package service

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

// Issue 16 item 10: a scene saved through the API was reverted to the
// config file's on restart. The stored scene wins; the file is read again
// only while no one has edited the scene through the API since.
func TestRestartKeepsTheSceneSavedThroughTheAPI(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	file := filepath.Join(dir, "scene.yaml")
	data, err := os.ReadFile("../../scenes/pets09-s2l1.yaml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, data, 0o600))
	cfg, err := config.Parse([]byte(plazaConfig(dir, "")), "test.yaml")
	require.NoError(t, err)
	cfg.Cameras[0].Scene = file
	st, err := sqlite.Open(ctx, filepath.Join(dir, "vigil.db"))
	require.NoError(t, err)
	defer st.Close()
	svc, err := New(cfg, Deps{Store: st})
	require.NoError(t, err)

	restart := func() string {
		require.NoError(t, svc.register(ctx, cfg.Cameras[0]))
		v, err := st.LatestScene(ctx, "plaza")
		require.NoError(t, err)
		return v.Author
	}
	require.Equal(t, "config:test.yaml", restart(), "the file seeds the scene")
	require.NoError(t, os.WriteFile(file, append(data, "\n# edited in the file\n"...), 0o600))
	require.Equal(t, "config:test.yaml", restart())
	v, _ := st.LatestScene(ctx, "plaza")
	require.Equal(t, 2, v.Version, "a changed file is a new version while nobody edited through the API")

	_, err = st.SaveScene(ctx, "plaza", string(data)+"\n# saved by the editor\n", "alice")
	require.NoError(t, err)
	require.Equal(t, "alice", restart(), "a restart keeps the scene saved through the API")
	v, _ = st.LatestScene(ctx, "plaza")
	require.Equal(t, 3, v.Version)
	require.Contains(t, v.YAML, "saved by the editor")
}
