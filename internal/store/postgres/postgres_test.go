package postgres_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/postgres"
	"github.com/vigil-cctv/vigil/internal/store/storetest"
)

// dsnEnv holds the DSN of a server the tests may create schemas in.
const dsnEnv = storetest.PostgresEnv

// freshDSN is a DSN on an empty schema of its own (see storetest.FreshPostgres).
func freshDSN(t *testing.T) string { return storetest.FreshPostgres(t) }

func open(t *testing.T, dsn string) store.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() }) // the suite may have closed it already
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	if os.Getenv(dsnEnv) == "" {
		t.Skip("VIGIL_TEST_POSTGRES not set; .ci/run starts a PostgreSQL server and sets it")
	}
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, freshDSN(t)) })
}

// TestConformanceShared: two handles on one schema, as two api nodes.
func TestConformanceShared(t *testing.T) {
	t.Parallel()
	if os.Getenv(dsnEnv) == "" {
		t.Skip("VIGIL_TEST_POSTGRES not set; .ci/run starts a PostgreSQL server and sets it")
	}
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		dsn := freshDSN(t)
		return open(t, dsn), open(t, dsn)
	})
}

// TestMigrateTwice checks that concurrent and repeated Opens of one schema
// agree on the migrations.
func TestMigrateTwice(t *testing.T) {
	t.Parallel()
	dsn := freshDSN(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			s, err := postgres.Open(context.Background(), dsn)
			if err == nil {
				err = s.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		require.NoError(t, <-errs)
	}
	s := open(t, dsn)
	require.NoError(t, s.PutCamera(context.Background(), store.Camera{ID: "c"}))
}

func TestOpenErrorHidesPassword(t *testing.T) {
	t.Parallel()
	_, err := postgres.Open(context.Background(), "postgres://u:hunter2@127.0.0.1:1/db?sslmode=disable&connect_timeout=1")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "hunter2")
	_, err = postgres.Open(context.Background(), "postgres://u:hunter2@[bad")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "hunter2")
}

// TestKill9 checks that kill -9 of a process writing alerts loses none it
// reported committed.
func TestKill9(t *testing.T) {
	t.Parallel()
	dsn := freshDSN(t)
	storetest.KillDuringWrites(t, "TestHelperWriter", []string{fmt.Sprintf("%s=%s", storetest.HelperEnv, dsn)},
		func(t *testing.T) store.Store { return open(t, dsn) })
}

// TestHelperWriter is the writer process of TestKill9; it does nothing in
// a normal test run.
func TestHelperWriter(t *testing.T) {
	dsn := os.Getenv(storetest.HelperEnv)
	if dsn == "" {
		t.Skip("helper process for TestKill9")
	}
	storetest.RunWriter(func(ctx context.Context) (store.Store, error) { return postgres.Open(ctx, dsn) })
}

func TestAuditAppendOnly(t *testing.T) {
	t.Parallel()
	s, err := postgres.Open(context.Background(), freshDSN(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	storetest.AuditAppendOnly(t, s, s.W)
}
