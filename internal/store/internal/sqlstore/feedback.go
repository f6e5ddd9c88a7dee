package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-cctv/vigil/internal/store"
)

// PutBaseline replaces camera's baseline blob.
func (db *DB) PutBaseline(ctx context.Context, camera string, data []byte) error {
	q := db.D.rebind(`INSERT INTO baselines (camera, data, updated) VALUES (?, ?, ?)
		ON CONFLICT (camera) DO UPDATE SET data = excluded.data, updated = excluded.updated`)
	if _, err := db.W.ExecContext(ctx, q, camera, data, db.D.arg(db.now())); err != nil {
		return fmt.Errorf("store: put baseline of camera %q: %w", camera, err)
	}
	return nil
}

// GetBaseline returns camera's baseline blob and when it was saved.
func (db *DB) GetBaseline(ctx context.Context, camera string) ([]byte, time.Time, error) {
	var data []byte
	var at time.Time
	err := db.R.QueryRowContext(ctx, db.D.rebind(`SELECT data, updated FROM baselines WHERE camera = ?`), camera).
		Scan(&data, timeCol{&at})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, at, fmt.Errorf("store: baseline of camera %q: %w", camera, store.ErrNotFound)
	}
	if err != nil {
		return nil, at, fmt.Errorf("store: baseline of camera %q: %w", camera, err)
	}
	return data, at, nil
}

const suppressionCols = "id, camera, rule, name, class, place, x, y, radius, alert_id, by_user, created, expires"

// AddSuppression stores s (its ID and Created are assigned here).
func (db *DB) AddSuppression(ctx context.Context, s store.Suppression) (int64, error) {
	q := db.D.rebind(`INSERT INTO suppressions (camera, rule, name, class, place, x, y, radius, alert_id, by_user, created, expires)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	var id int64
	err := db.W.QueryRowContext(ctx, q, s.Camera, s.Rule, s.Name, s.Class, s.Place, s.X, s.Y, s.Radius, s.AlertID, s.By,
		db.D.arg(db.now()), db.D.arg(Norm(s.Expires))).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: add suppression (camera %q, rule %q): %w", s.Camera, s.Rule, err)
	}
	return id, nil
}

// ListSuppressions returns the suppressions still in force at now.
func (db *DB) ListSuppressions(ctx context.Context, camera string, now time.Time) ([]store.Suppression, error) {
	var w where
	if camera != "" {
		w.add("camera = ?", camera)
	}
	w.add("expires > ?", db.D.arg(Norm(now)))
	rows, err := db.R.QueryContext(ctx, db.D.rebind(`SELECT `+suppressionCols+` FROM suppressions`+w.String()+` ORDER BY id`), w.args...)
	if err != nil {
		return nil, fmt.Errorf("store: list suppressions: %w", err)
	}
	defer rows.Close()
	var out []store.Suppression
	for rows.Next() {
		var s store.Suppression
		if err := rows.Scan(&s.ID, &s.Camera, &s.Rule, &s.Name, &s.Class, &s.Place, &s.X, &s.Y, &s.Radius, &s.AlertID, &s.By,
			timeCol{&s.Created}, timeCol{&s.Expires}); err != nil {
			return nil, fmt.Errorf("store: list suppressions: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list suppressions: %w", err)
	}
	return out, nil
}

// DeleteSuppression removes suppression id.
func (db *DB) DeleteSuppression(ctx context.Context, id int64) error {
	res, err := db.W.ExecContext(ctx, db.D.rebind(`DELETE FROM suppressions WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("store: delete suppression %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("store: suppression %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// Verdicts counts confirmations and dismissals per camera, rule, name and
// UTC day of the verdict. Verdicts are human actions, a few thousand a day
// at most, so rows are bucketed here rather than with each engine's own
// date functions.
func (db *DB) Verdicts(ctx context.Context, f store.VerdictFilter) ([]store.VerdictCount, error) {
	var w where
	w.add("h.to_state IN (?, ?)", string(store.StateConfirmed), string(store.StateFalseAlarm))
	if f.Camera != "" {
		w.add("a.camera = ?", f.Camera)
	}
	if !f.Since.IsZero() {
		w.add("h.at >= ?", db.D.arg(Norm(f.Since)))
	}
	if !f.Until.IsZero() {
		w.add("h.at < ?", db.D.arg(Norm(f.Until)))
	}
	q := db.D.rebind(`SELECT a.camera, a.rule, a.name, h.to_state, h.at FROM alert_history h
		JOIN alerts a ON a.id = h.alert_id` + w.String() + ` ORDER BY h.at, h.id`)
	rows, err := db.R.QueryContext(ctx, q, w.args...)
	if err != nil {
		return nil, fmt.Errorf("store: verdicts: %w", err)
	}
	defer rows.Close()
	var out []store.VerdictCount
	index := map[store.VerdictCount]int{}
	for rows.Next() {
		var k store.VerdictCount
		var to string
		var at time.Time
		if err := rows.Scan(&k.Camera, &k.Rule, &k.Name, &to, timeCol{&at}); err != nil {
			return nil, fmt.Errorf("store: verdicts: %w", err)
		}
		k.Day = at.UTC().Truncate(24 * time.Hour)
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, k)
		}
		if to == string(store.StateConfirmed) {
			out[i].Confirmed++
		} else {
			out[i].FalseAlarm++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: verdicts: %w", err)
	}
	return out, nil
}
