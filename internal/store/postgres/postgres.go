// Package postgres is the city-scale store.Store: PostgreSQL through a
// pgx connection pool. Migrations run under an advisory lock so several
// Vigil processes can start against one database at once.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a store.Store backed by PostgreSQL.
type Store struct {
	*sqlstore.DB
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// Open connects to dsn (a libpq URL or key=value string; a search_path
// parameter selects the schema) and migrates the schema. Errors never
// quote the DSN: it may hold a password.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("store: postgres: cannot parse DSN") // the parse error may echo the password
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: postgres: connect: %w", err)
	}
	// database/sql over the same pool: goose needs it, and it lets the
	// SQLite and PostgreSQL stores share their queries.
	db := stdlib.OpenDBFromPool(pool)
	if err := migrate(ctx, db); err != nil {
		db.Close()
		pool.Close()
		return nil, err
	}
	return &Store{DB: &sqlstore.DB{W: db, R: db, D: dialect, Now: time.Now}, pool: pool}, nil
}

// Close closes the database/sql handle and then the pool under it.
func (s *Store) Close() error {
	err := s.DB.Close()
	s.pool.Close()
	return err
}

// migrate applies the migrations while holding an advisory lock keyed by
// the schema, so concurrent starts against one schema take turns while
// different schemas (e.g. parallel tests) do not wait for each other.
func migrate(ctx context.Context, db *sql.DB) error {
	var schema string
	if err := db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("store: postgres: current schema: %w", err)
	}
	if schema == "" {
		return errors.New("store: postgres: no schema on search_path")
	}
	h := fnv.New64a()
	h.Write([]byte("vigil-migrate:" + schema))
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64())), lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("store: postgres: migration lock: %w", err)
	}
	return sqlstore.Migrate(ctx, db, goose.DialectPostgres, sub(), goose.WithSessionLocker(locker))
}

func sub() fs.FS {
	f, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded directory is fixed at build time
	}
	return f
}

// The lock is per schema, so tests in schemas of their own do not wait
// for each other; a hash collision only makes two keys share a lock.
var dialect = sqlstore.Dialect{Numbered: true, ForUpdate: " FOR UPDATE", IsUnique: isUnique,
	Lock: `SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':' || ?, 0))`}

// uniqueViolation is PostgreSQL's SQLSTATE for a duplicate key.
const uniqueViolation = "23505"

func isUnique(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == uniqueViolation
}
