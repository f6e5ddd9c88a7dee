package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/store"
)

// AddAlertOnce stores e in state new under key, unless an alert with that
// key is already stored; either way it returns the alert's ID. It is what
// makes a retried alert write idempotent (package spool).
func (db *DB) AddAlertOnce(ctx context.Context, key string, e event.Event) (int64, error) {
	if key == "" {
		return 0, errors.New("store: add alert once: empty key")
	}
	js, err := json.Marshal(e)
	if err != nil {
		return 0, fmt.Errorf("store: add alert: encode event: %w", err)
	}
	now := db.D.arg(db.now())
	q := db.D.rebind(`INSERT INTO alerts (rule, name, camera, class, start_pts, state, created, updated, event_json, dedup_key)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING RETURNING id`)
	var id int64
	err = db.W.QueryRowContext(ctx, q, e.Rule, e.Name, e.Camera, e.Class, e.Start, string(store.StateNew), now, now, string(js), key).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) { // the key is stored already
		err = db.W.QueryRowContext(ctx, db.D.rebind(`SELECT id FROM alerts WHERE dedup_key = ?`), key).Scan(&id)
	}
	if err != nil {
		return 0, fmt.Errorf("store: add alert (camera %q, rule %q): %w", e.Camera, e.Rule, err)
	}
	return id, nil
}
