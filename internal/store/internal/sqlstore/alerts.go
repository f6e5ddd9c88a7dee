package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/store"
)

const alertCols = "id, event_json, state, created, updated"

// AddAlert stores e in state new. The rule, camera, class and start are
// copied into columns so ListAlerts can filter on them; the event itself
// is kept whole as JSON so no field is lost as the event type grows.
func (db *DB) AddAlert(ctx context.Context, e event.Event) (int64, error) {
	js, err := json.Marshal(e)
	if err != nil {
		return 0, fmt.Errorf("store: add alert: encode event: %w", err)
	}
	now := db.D.arg(db.now())
	q := db.D.rebind(`INSERT INTO alerts (rule, name, camera, class, start_pts, state, created, updated, event_json)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	var id int64
	err = db.W.QueryRowContext(ctx, q, e.Rule, e.Name, e.Camera, e.Class, e.Start, string(store.StateNew), now, now, string(js)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: add alert (camera %q, rule %q): %w", e.Camera, e.Rule, err)
	}
	return id, nil
}

// GetAlert returns one alert with its history, or store.ErrNotFound.
func (db *DB) GetAlert(ctx context.Context, id int64) (store.Alert, error) {
	a, err := db.getAlert(ctx, db.R, id)
	if err != nil {
		return a, fmt.Errorf("store: get alert: %w", err)
	}
	return a, nil
}

func (db *DB) getAlert(ctx context.Context, q querier, id int64) (store.Alert, error) {
	a, err := scanAlert(q.QueryRowContext(ctx, db.D.rebind(`SELECT `+alertCols+` FROM alerts WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("alert %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("alert %d: %w", id, err)
	}
	alerts := []store.Alert{a}
	if err := db.loadHistory(ctx, q, alerts); err != nil {
		return a, fmt.Errorf("alert %d: %w", id, err)
	}
	return alerts[0], nil
}

// ListAlerts returns the alerts matching f, newest (highest ID) first,
// each with its history.
func (db *DB) ListAlerts(ctx context.Context, f store.AlertFilter) ([]store.Alert, error) {
	var w where
	for _, c := range []struct{ col, v string }{
		{"camera", f.Camera}, {"rule", f.Rule}, {"class", f.Class}, {"state", string(f.State)},
	} {
		if c.v != "" {
			w.add(c.col+" = ?", c.v)
		}
	}
	if !f.Since.IsZero() {
		w.add("created >= ?", db.D.arg(Norm(f.Since)))
	}
	if !f.Until.IsZero() {
		w.add("created < ?", db.D.arg(Norm(f.Until)))
	}
	if f.After > 0 {
		w.add("id < ?", f.After)
	}
	if f.Cameras != nil {
		w.in("camera", f.Cameras)
	}
	q := db.D.rebind(`SELECT ` + alertCols + ` FROM alerts` + w.String() + ` ORDER BY id DESC LIMIT ?`)
	alerts, err := db.queryAlerts(ctx, q, append(w.args, limit(f.Limit))...)
	if err != nil {
		return nil, fmt.Errorf("store: list alerts: %w", err)
	}
	if err := db.loadHistory(ctx, db.R, alerts); err != nil {
		return nil, fmt.Errorf("store: list alerts: %w", err)
	}
	return alerts, nil
}

func (db *DB) queryAlerts(ctx context.Context, q string, args ...any) ([]store.Alert, error) {
	rows, err := db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// loadHistory fills in the transitions of alerts with one query.
func (db *DB) loadHistory(ctx context.Context, q querier, alerts []store.Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	byID := make(map[int64]*store.Alert, len(alerts))
	args := make([]any, len(alerts))
	for i := range alerts {
		byID[alerts[i].ID] = &alerts[i]
		args[i] = alerts[i].ID
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(alerts)), ", ")
	rows, err := q.QueryContext(ctx, db.D.rebind(`SELECT alert_id, from_state, to_state, by_user, at, note
		FROM alert_history WHERE alert_id IN (`+marks+`) ORDER BY id`), args...)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var t store.Transition
		if err := rows.Scan(&id, &t.From, &t.To, &t.By, timeCol{&t.At}, &t.Note); err != nil {
			return fmt.Errorf("history: %w", err)
		}
		a := byID[id]
		a.History = append(a.History, t)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	return nil
}

// Transition moves alert id to state to, recording who did it and why.
// The state is read and changed in one transaction (with the row locked
// where the engine supports it) so two operators cannot both move the
// alert out of the same state.
func (db *DB) Transition(ctx context.Context, id int64, to store.AlertState, by, note string) (store.Alert, error) {
	var a store.Alert
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var from store.AlertState
		err := tx.QueryRowContext(ctx, db.D.rebind(`SELECT state FROM alerts WHERE id = ?`+db.D.ForUpdate), id).Scan(&from)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("alert %d: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("alert %d: %w", id, err)
		}
		if !store.AllowedTransition(from, to) {
			return fmt.Errorf("alert %d: %s to %s: %w", id, from, to, store.ErrConflict)
		}
		if err := db.recordTransition(ctx, tx, id, from, to, by, note); err != nil {
			return fmt.Errorf("alert %d: %w", id, err)
		}
		a, err = db.getAlert(ctx, tx, id)
		return err
	})
	if err != nil {
		return store.Alert{}, fmt.Errorf("store: transition: %w", err)
	}
	return a, nil
}

func (db *DB) recordTransition(ctx context.Context, tx *sql.Tx, id int64, from, to store.AlertState, by, note string) error {
	now := db.D.arg(db.now())
	if _, err := tx.ExecContext(ctx, db.D.rebind(`UPDATE alerts SET state = ?, updated = ? WHERE id = ?`),
		string(to), now, id); err != nil {
		return fmt.Errorf("update state: %w", err)
	}
	if _, err := tx.ExecContext(ctx, db.D.rebind(`INSERT INTO alert_history
		(alert_id, from_state, to_state, by_user, at, note) VALUES (?, ?, ?, ?, ?, ?)`),
		id, string(from), string(to), by, now, note); err != nil {
		return fmt.Errorf("record history: %w", err)
	}
	return nil
}

func scanAlert(s scanner) (store.Alert, error) {
	var a store.Alert
	var js []byte
	if err := s.Scan(&a.ID, &js, &a.State, timeCol{&a.Created}, timeCol{&a.Updated}); err != nil {
		return a, err
	}
	if err := json.Unmarshal(js, &a.Event); err != nil {
		return a, fmt.Errorf("decode event of alert %d: %w", a.ID, err)
	}
	return a, nil
}
