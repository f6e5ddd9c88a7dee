// Package sqlstore implements store.Store once over database/sql, for both
// SQLite and PostgreSQL: the two differ only in placeholders, time columns,
// row locking and error codes, which a Dialect describes. Keeping one
// implementation means the conformance suite tests one set of queries.
package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Dialect is what differs between the SQL engines.
type Dialect struct {
	// Numbered reports whether placeholders are $1, $2, … (PostgreSQL)
	// rather than ? (SQLite).
	Numbered bool
	// TimeAsMicros stores times as INTEGER microseconds since the Unix
	// epoch (SQLite has no time type; integers compare and sort correctly)
	// instead of passing time.Time to a timestamptz column.
	TimeAsMicros bool
	// ForUpdate is appended to the SELECT that reads an alert's state
	// before a transition, to lock the row (SQLite locks the whole
	// database in an immediate transaction and has no such clause).
	ForUpdate string
	// IsUnique reports whether err is a unique or primary key violation.
	IsUnique func(error) bool
	// Lock is a statement taking a lock named by its one parameter until
	// the transaction ends, which serialises the transactions of every
	// process on the database that take it (PostgreSQL: an advisory
	// transaction lock). Empty where a write transaction already excludes
	// every other (SQLite, one writer).
	Lock string
}

// lock takes the transaction lock named key (see Dialect.Lock).
func (db *DB) lock(ctx context.Context, tx *sql.Tx, key string) error {
	if db.D.Lock == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, db.D.rebind(db.D.Lock), key); err != nil {
		return fmt.Errorf("lock %s: %w", key, err)
	}
	return nil
}

// rebind rewrites ? placeholders as $n when the dialect numbers them. The
// queries in this package never contain a literal question mark.
func (d Dialect) rebind(q string) string {
	if !d.Numbered {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Norm is the precision and zone every stored time has: both engines keep
// microseconds, and returning UTC makes round trips compare equal.
func Norm(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// arg converts a time to the value bound to a query parameter.
func (d Dialect) arg(t time.Time) any {
	if d.TimeAsMicros {
		return t.UnixMicro()
	}
	return t.UTC()
}

// timeCol scans either representation back into a time.Time.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(v any) error {
	switch x := v.(type) {
	case int64:
		*c.t = Norm(time.UnixMicro(x))
	case time.Time:
		*c.t = Norm(x)
	case nil:
		*c.t = time.Time{}
	default:
		return fmt.Errorf("time column: unexpected %T", v)
	}
	return nil
}
