package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/vigil-cctv/vigil/internal/store"
)

// AddCounts adds each N to its counter, creating it at N when missing.
// All counters are added in one transaction: a batch is all or nothing.
func (db *DB) AddCounts(ctx context.Context, cs []store.Count) error {
	if len(cs) == 0 {
		return nil
	}
	q := db.D.rebind(`INSERT INTO counts (camera, name, class, direction, bucket, n) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (camera, name, class, direction, bucket) DO UPDATE SET n = counts.n + excluded.n`)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		for _, c := range cs {
			if _, err := tx.ExecContext(ctx, q, c.Camera, c.Name, c.Class, c.Direction, db.D.arg(Norm(c.Bucket)), c.N); err != nil {
				return fmt.Errorf("counter %q of camera %q: %w", c.Name, c.Camera, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: add counts: %w", err)
	}
	return nil
}

// ListCounts returns counters whose bucket is in [Since, Until), oldest
// bucket first; empty fields do not filter.
func (db *DB) ListCounts(ctx context.Context, f store.CountFilter) ([]store.Count, error) {
	var w where
	if f.Camera != "" {
		w.add("camera = ?", f.Camera)
	}
	if f.Name != "" {
		w.add("name = ?", f.Name)
	}
	if !f.Since.IsZero() {
		w.add("bucket >= ?", db.D.arg(Norm(f.Since)))
	}
	if !f.Until.IsZero() {
		w.add("bucket < ?", db.D.arg(Norm(f.Until)))
	}
	q := db.D.rebind(`SELECT camera, name, class, direction, bucket, n FROM counts` + w.String() +
		` ORDER BY bucket, camera, name, class, direction`)
	rows, err := db.R.QueryContext(ctx, q, w.args...)
	if err != nil {
		return nil, fmt.Errorf("store: list counts: %w", err)
	}
	defer rows.Close()
	var out []store.Count
	for rows.Next() {
		var c store.Count
		if err := rows.Scan(&c.Camera, &c.Name, &c.Class, &c.Direction, timeCol{&c.Bucket}, &c.N); err != nil {
			return nil, fmt.Errorf("store: list counts: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list counts: %w", err)
	}
	return out, nil
}
