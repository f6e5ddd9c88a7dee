package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// Issue 16 item 8: the data folder was 0755.
func TestEnsureDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "serve")
	note, err := EnsureDataDir(dir)
	require.NoError(t, err)
	require.Empty(t, note)
	info, err := os.Stat(dir)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), info.Mode().Perm())

	require.NoError(t, os.Chmod(dir, 0o755))
	note, err = EnsureDataDir(dir)
	require.NoError(t, err)
	require.Contains(t, note, "had mode -rwxr-xr-x; narrowed to 0700")
	info, err = os.Stat(dir)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), info.Mode().Perm())

	file := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err = EnsureDataDir(file)
	require.Error(t, err)
}
