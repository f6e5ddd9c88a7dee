// Package sqlite is the single-box store.Store: one SQLite file in WAL
// mode, written through one connection, with every commit synced to disk
// before AddAlert returns.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"time"

	"github.com/pressly/goose/v3"
	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"

	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a store.Store backed by SQLite.
type Store struct {
	*sqlstore.DB
}

var _ store.Store = (*Store)(nil)

// busyTimeout is how long a connection waits for another process (e.g. a
// CLI tool opening the same file) to release its lock before failing.
const busyTimeout = 10 * time.Second

// readers is the size of the read pool; WAL lets them run beside the writer.
const readers = 4

// Open opens (creating if needed) the database at path and migrates it.
// path ":memory:" gives a private in-memory database for tests.
//
// synchronous=FULL makes SQLite fsync the WAL on every commit. In WAL mode
// NORMAL would already survive kill -9 (a committed transaction is in the
// OS page cache), but not a power cut or kernel panic, and AddAlert
// promises the alert is durable when it returns; an fsync per alert is
// cheap at alert rates.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == ":memory:" {
		return openMemory(ctx)
	}
	if err := prepareFile(path); err != nil {
		return nil, err
	}
	w, err := openPool(path, 1, false)
	if err != nil {
		return nil, err
	}
	// Migrate before opening readers: query_only readers cannot create the
	// WAL-mode file.
	if err := sqlstore.Migrate(ctx, w, goose.DialectSQLite3, sub()); err != nil {
		w.Close()
		return nil, withCause(path, err)
	}
	r, err := openPool(path, readers, true)
	if err != nil {
		w.Close()
		return nil, err
	}
	return newStore(w, r), nil
}

// openMemory uses one connection for reads and writes: each connection to
// ":memory:" would otherwise see its own empty database.
func openMemory(ctx context.Context) (*Store, error) {
	db, err := sql.Open("sqlite", ":memory:?"+params(false).Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite memory database: %w", err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0) // closing the connection would drop the database
	db.SetConnMaxIdleTime(0)
	if err := sqlstore.Migrate(ctx, db, goose.DialectSQLite3, sub()); err != nil {
		db.Close()
		return nil, err
	}
	return newStore(db, db), nil
}

func newStore(w, r *sql.DB) *Store {
	return &Store{&sqlstore.DB{W: w, R: r, D: dialect, Now: time.Now}}
}

// openPool opens a pool of n connections with the store's pragmas; the
// writer pool has one connection so writers queue in Go instead of
// failing with SQLITE_BUSY.
func openPool(path string, n int, readOnly bool) (*sql.DB, error) {
	q := params(true)
	if readOnly {
		q.Set("_query_only", "1")
	} else {
		// BEGIN IMMEDIATE takes the write lock up front, so a transaction
		// never fails halfway when another process holds it.
		q.Set("_txlock", "immediate")
	}
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, withCause(path, fmt.Errorf("store: open sqlite %s: %w", path, err))
	}
	return db, nil
}

func params(wal bool) url.Values {
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(busyTimeout.Milliseconds()))
	q.Set("_foreign_keys", "on")
	if wal {
		q.Set("_journal_mode", "WAL")
	}
	q.Set("_synchronous", "FULL")
	return q
}

func sub() fs.FS {
	f, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded directory is fixed at build time
	}
	return f
}

// withCause adds why the file cannot be opened to SQLite's "unable to open
// database file (14)", which names none.
func withCause(path string, err error) error {
	var e *sqlite3.Error
	if errors.As(err, &e) && e.Code()&0xff == sqlite3lib.SQLITE_CANTOPEN {
		return fmt.Errorf("%w: %s", err, explain(path, err))
	}
	return err
}

var dialect = sqlstore.Dialect{TimeAsMicros: true, IsUnique: isUnique}

func isUnique(err error) bool {
	var e *sqlite3.Error
	if !errors.As(err, &e) {
		return false
	}
	c := e.Code()
	return c == sqlite3lib.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3lib.SQLITE_CONSTRAINT_PRIMARYKEY
}
