package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPragmas checks the settings durability and concurrency rely on are
// in force on both pools, not just requested.
func TestPragmas(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "vigil.db"))
	require.NoError(t, err)
	defer s.Close()

	pragma := func(db *sql.DB, name string) string {
		var v string
		require.NoError(t, db.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v))
		return v
	}
	for _, db := range []*sql.DB{s.W, s.R} {
		require.Equal(t, "wal", pragma(db, "journal_mode"))
		require.Equal(t, "2", pragma(db, "synchronous"), "FULL")
		require.Equal(t, "1", pragma(db, "foreign_keys"))
		require.Equal(t, "10000", pragma(db, "busy_timeout"))
	}
	require.Equal(t, "0", pragma(s.W, "query_only"))
	require.Equal(t, "1", pragma(s.R, "query_only"))
	require.Equal(t, 1, s.W.Stats().MaxOpenConnections, "single writer")
}
