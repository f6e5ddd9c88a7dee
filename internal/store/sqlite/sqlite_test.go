package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
	"github.com/vigil-cctv/vigil/internal/store/storetest"
)

func openPath(t *testing.T, path string) store.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() }) // the suite may have closed it already
	return s
}

func TestConformanceFile(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		return openPath(t, filepath.Join(t.TempDir(), "vigil.db"))
	})
}

// TestConformanceShared: two handles on one file, as two processes.
func TestConformanceShared(t *testing.T) {
	t.Parallel()
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		path := filepath.Join(t.TempDir(), "vigil.db")
		return openPath(t, path), openPath(t, path)
	})
}

func TestConformanceMemory(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store { return openPath(t, ":memory:") })
}

// TestReopen checks that data and the migration state survive reopening.
func TestReopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vigil.db")
	s := openPath(t, path)
	require.NoError(t, s.PutCamera(ctx, store.Camera{ID: "cam1", Kind: "file"}))
	require.NoError(t, s.Close())

	s = openPath(t, path)
	c, err := s.GetCamera(ctx, "cam1")
	require.NoError(t, err)
	require.Equal(t, "file", c.Kind)
}

// TestKill9 is the acceptance test "kill -9 of vigil serve while alerts
// are being written loses no committed alert", with the test binary
// standing in for vigil serve.
func TestKill9(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "vigil.db")
	storetest.KillDuringWrites(t, "TestHelperWriter", []string{storetest.HelperEnv + "=" + path},
		func(t *testing.T) store.Store { return openPath(t, path) })
}

// TestHelperWriter is the writer process of TestKill9; it does nothing in
// a normal test run.
func TestHelperWriter(t *testing.T) {
	path := os.Getenv(storetest.HelperEnv)
	if path == "" {
		t.Skip("helper process for TestKill9")
	}
	storetest.RunWriter(func(ctx context.Context) (store.Store, error) { return sqlite.Open(ctx, path) })
}

func TestAuditAppendOnly(t *testing.T) {
	t.Parallel()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "vigil.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	storetest.AuditAppendOnly(t, s, s.W)
}
