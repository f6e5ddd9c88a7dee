package clustertest

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// PostgresSchema makes an empty schema in the PostgreSQL server named by
// VIGIL_TEST_POSTGRES (skipping the test when it is not set), drops it
// when the test ends, and returns a DSN whose search_path is that schema.
func PostgresSchema(t testing.TB) *url.URL {
	t.Helper()
	base := os.Getenv("VIGIL_TEST_POSTGRES")
	if base == "" {
		t.Skip("VIGIL_TEST_POSTGRES not set; .ci/run starts a PostgreSQL server and sets it")
	}
	ctx := context.Background()
	schema := "vigil_cluster_" + strings.ToLower(rand.Text()[:10])
	exec := func(q string) error {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, q)
		return err
	}
	if err := exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("clustertest: create schema: %v", err)
	}
	t.Cleanup(func() { _ = exec("DROP SCHEMA " + schema + " CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("clustertest: VIGIL_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u
}
