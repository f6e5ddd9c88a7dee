package storetest

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// PostgresEnv holds the DSN of a server the tests may create schemas in.
const PostgresEnv = "VIGIL_TEST_POSTGRES"

// FreshPostgres creates an empty schema with a random name on the server
// PostgresEnv names, dropped when the test ends, and returns the DSN with
// search_path set to it, so tests can run in parallel and repeatedly
// against one database. It skips the test when PostgresEnv is not set.
func FreshPostgres(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(PostgresEnv)
	if dsn == "" {
		t.Skip(PostgresEnv + " not set; .ci/run starts a PostgreSQL server and sets it")
	}
	ctx := context.Background()
	schema := "vigil_test_" + strings.ToLower(rand.Text()[:12])
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() { dropSchema(t, dsn, schema) })
	return withSearchPath(t, dsn, schema)
}

func dropSchema(t testing.TB, dsn, schema string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Errorf("drop schema %s: %v", schema, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
		t.Errorf("drop schema %s: %v", schema, err)
	}
}

// withSearchPath adds search_path to a URL or key=value DSN; pgx sends
// unknown DSN parameters to the server as run-time settings.
func withSearchPath(t testing.TB, dsn, schema string) string {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn + " search_path=" + schema
	}
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
