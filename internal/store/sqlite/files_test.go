package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

// Issue 16 item 8: vigil.db was 0644. The database and its WAL files are
// now 0600, an existing file is narrowed.
func TestDatabaseFilesArePrivate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "vigil.db")
	st, err := sqlite.Open(context.Background(), path)
	require.NoError(t, err)
	require.NoError(t, st.PutCamera(context.Background(), store.Camera{ID: "a", Name: "a", URL: "/v", Kind: "file"}))
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		info, err := os.Stat(p)
		require.NoError(t, err, p)
		require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), p)
	}
	require.NoError(t, st.Close())

	require.NoError(t, os.Chmod(path, 0o644))
	st, err = sqlite.Open(context.Background(), path)
	require.NoError(t, err)
	defer st.Close()
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "narrowed on open")
}

// Issue 16 item 10: "unable to open database file (14)" gave no cause.
func TestOpenErrorsNameTheCause(t *testing.T) {
	dir := t.TempDir()
	_, err := sqlite.Open(context.Background(), filepath.Join(dir, "missing", "vigil.db"))
	require.ErrorContains(t, err, "the folder "+filepath.Join(dir, "missing")+" does not exist")
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err = sqlite.Open(context.Background(), filepath.Join(file, "vigil.db"))
	require.ErrorContains(t, err, file+" is not a folder")
	_, err = sqlite.Open(context.Background(), dir)
	require.ErrorContains(t, err, "is a folder, not a database file")
	_, err = sqlite.Open(context.Background(), "/proc/vigil.db")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "(14)\n")
}
