package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigil-cctv/vigil/internal/deliver"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/incident"
	"github.com/vigil-cctv/vigil/internal/store"
)

var _ incident.Store = (*DB)(nil)

// maxTimeline bounds the events GetIncident returns: an incident grouping
// a day of jaywalking keeps its count, and shows its latest events.
const maxTimeline = 1000

const incidentCols = `id, camera, rule, name, place, class, protocol, state, priority, severity, summary, unit, unit_type,
	unit_id, event_count, tracks, notify, best_alert, latest_alert, opened, last_event, updated, escalate_due,
	escalate_priority, escalate_notify, escalated_at, auto_close_s, acked_at, dispatched_at, on_scene_at,
	resolved_at, closed_at`

func scanIncident(s scanner) (incident.Incident, error) {
	var in incident.Incident
	var tracks, notify, escNotify []byte
	var autoClose int64
	err := s.Scan(&in.ID, &in.Camera, &in.Rule, &in.Name, &in.Place, &in.Class, &in.Protocol, &in.State, &in.Priority,
		&in.Severity, &in.Summary, &in.Unit, &in.UnitType, &in.UnitID, &in.Count, &tracks, &notify, &in.Best, &in.Latest,
		timeCol{&in.Opened}, timeCol{&in.LastEvent}, timeCol{&in.Updated}, timeCol{&in.EscalateDue},
		&in.EscalatePriority, &escNotify, timeCol{&in.Escalated}, &autoClose, timeCol{&in.Acked},
		timeCol{&in.Dispatched}, timeCol{&in.OnScene}, timeCol{&in.Resolved}, timeCol{&in.Closed})
	if err != nil {
		return in, err
	}
	in.AutoClose = time.Duration(autoClose) * time.Second
	for _, f := range []struct {
		b []byte
		v any
	}{{tracks, &in.Tracks}, {notify, &in.Notify}, {escNotify, &in.EscalateNotify}} {
		if err := json.Unmarshal(f.b, f.v); err != nil {
			return in, fmt.Errorf("incident %d: %w", in.ID, err)
		}
	}
	return in, nil
}

func jsonList[T any](v []T) string {
	if v == nil {
		return "[]"
	}
	b, _ := json.Marshal(v) // slices of ints and strings always encode
	return string(b)
}

// RecordEvent stores one event; see RecordEvents.
func (db *DB) RecordEvent(ctx context.Context, r incident.EventRecord) (int64, *incident.Incident, error) {
	out, err := db.RecordEvents(ctx, []incident.EventRecord{r})
	if err != nil {
		return 0, nil, err
	}
	return out[0].Alert, out[0].Incident, nil
}

// RecordEvents stores events as alerts and applies their incident changes
// and messages in one transaction: a busy api node commits a batch at once
// instead of an event at a time.
func (db *DB) RecordEvents(ctx context.Context, rs []incident.EventRecord) ([]incident.Recorded, error) {
	out := make([]incident.Recorded, len(rs))
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		// Every camera's lock first, in one order for every process, so
		// two batches never wait on each other's locks; a second process
		// recording the same key waits, then finds it recorded.
		for _, cam := range batchCameras(rs) {
			if err := db.lockCamera(ctx, tx, cam); err != nil {
				return err
			}
		}
		for i, r := range rs {
			var err error
			if out[i], err = db.recordEvent(ctx, tx, r); err != nil {
				return fmt.Errorf("store: record event (camera %q, rule %q): %w", r.Event.Camera, r.Event.Rule, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// batchCameras is the cameras of rs, sorted, each once.
func batchCameras(rs []incident.EventRecord) []string {
	cams := make([]string, 0, len(rs))
	for _, r := range rs {
		cams = append(cams, r.Event.Camera)
	}
	slices.Sort(cams)
	return slices.Compact(cams)
}

// recordEvent stores one event; the camera is locked.
func (db *DB) recordEvent(ctx context.Context, tx *sql.Tx, r incident.EventRecord) (incident.Recorded, error) {
	var out incident.Recorded
	if r.Key != "" {
		done, err := db.recorded(ctx, tx, r.Key, &out.Alert, &out.Incident)
		if err != nil || done {
			out.Existed = done
			return out, err
		}
	}
	var err error
	if out.Alert, err = db.insertAlert(ctx, tx, r.Event, r.Key); err != nil {
		return out, err
	}
	if r.Decide != nil {
		g, err := db.grouping(ctx, tx, r.Event)
		if err != nil {
			return out, fmt.Errorf("grouping: %w", err)
		}
		r.Incident, r.NewIsBest = r.Decide(g)
	}
	if r.Incident != nil {
		inc, err := db.applyEvent(ctx, tx, out.Alert, r)
		if err != nil {
			return out, err
		}
		out.Incident = &inc
	}
	if r.Messages != nil {
		return out, db.enqueue(ctx, tx, r.Messages(out.Alert, out.Incident))
	}
	return out, nil
}

// lockCamera serialises the incident changes of one camera across the
// processes sharing the database, as the engine's decisions need.
func (db *DB) lockCamera(ctx context.Context, tx *sql.Tx, camera string) error {
	return db.lock(ctx, tx, "incident-camera:"+camera)
}

// openStates are the states events may still join (incident.State.Open).
var openStates = []any{string(incident.New), string(incident.Acknowledged), string(incident.Dispatched), string(incident.OnScene)}

// grouping reads what deciding e's incident needs; the camera is locked.
func (db *DB) grouping(ctx context.Context, tx *sql.Tx, e event.Event) (incident.Grouping, error) {
	var g incident.Grouping
	var err error
	g.Open, err = queryAll(ctx, tx, db.D.rebind(`SELECT `+incidentCols+` FROM incidents WHERE camera = ?
		AND state IN (?, ?, ?, ?) ORDER BY id DESC`), scanIncident, append([]any{e.Camera}, openStates...)...)
	if err != nil {
		return g, err
	}
	latest, err := queryAll(ctx, tx, db.D.rebind(`SELECT `+incidentCols+` FROM incidents WHERE camera = ? AND rule = ?
		AND name = ? AND place = ? ORDER BY id DESC LIMIT 1`), scanIncident, e.Camera, e.Rule, e.Name, e.Place())
	if err != nil {
		return g, err
	}
	if len(latest) > 0 {
		g.Latest = &latest[0]
	}
	return g, nil
}

// recorded finds an event already stored under key, with its incident.
func (db *DB) recorded(ctx context.Context, tx *sql.Tx, key string, alertID *int64, inc **incident.Incident) (bool, error) {
	err := tx.QueryRowContext(ctx, db.D.rebind(`SELECT id FROM alerts WHERE event_key = ?`), key).Scan(alertID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var id int64
	err = tx.QueryRowContext(ctx, db.D.rebind(`SELECT incident_id FROM incident_events WHERE alert_id = ?`), *alertID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	in, err := db.incidentRow(ctx, tx, id)
	*inc = &in
	return true, err
}

func (db *DB) insertAlert(ctx context.Context, tx *sql.Tx, e event.Event, key string) (int64, error) {
	js, err := json.Marshal(e)
	if err != nil {
		return 0, fmt.Errorf("encode event: %w", err)
	}
	now := db.D.arg(db.now())
	var k any
	if key != "" {
		k = key
	}
	var id int64
	err = tx.QueryRowContext(ctx, db.D.rebind(`INSERT INTO alerts (rule, name, camera, class, start_pts, state, created,
		updated, event_json, event_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		e.Rule, e.Name, e.Camera, e.Class, e.Start, string(store.StateNew), now, now, string(js), k).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert alert: %w", db.conflict(err))
	}
	return id, nil
}

// applyEvent opens the incident (ID 0) or joins the event to it.
func (db *DB) applyEvent(ctx context.Context, tx *sql.Tx, alertID int64, r incident.EventRecord) (incident.Incident, error) {
	in := r.Incident
	now := db.D.arg(db.now())
	id := in.ID
	if id == 0 {
		err := tx.QueryRowContext(ctx, db.D.rebind(`INSERT INTO incidents (camera, rule, name, place, class, protocol, state,
			priority, severity, summary, unit, unit_type, unit_id, event_count, tracks, notify, best_alert, latest_alert,
			opened, last_event, updated, escalate_due, escalate_priority, escalate_notify, auto_close_s)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			in.Camera, in.Rule, in.Name, in.Place, in.Class, in.Protocol, string(incident.New), in.Priority,
			string(in.Severity), in.Summary, in.Unit, jsonList(in.Tracks), jsonList(in.Notify), alertID, alertID,
			db.D.arg(Norm(r.At)), db.D.arg(Norm(r.At)), now, db.D.nullTime(in.EscalateDue), in.EscalatePriority,
			jsonList(in.EscalateNotify), int64(in.AutoClose/time.Second)).Scan(&id)
		if err != nil {
			return incident.Incident{}, fmt.Errorf("open incident: %w", err)
		}
	} else {
		best := "best_alert"
		if r.NewIsBest {
			best = "?"
		}
		args := []any{db.D.arg(Norm(r.At)), alertID}
		if r.NewIsBest {
			args = append(args, alertID)
		}
		args = append(args, string(in.Severity), in.Summary, jsonList(in.Tracks), now, id)
		res, err := tx.ExecContext(ctx, db.D.rebind(`UPDATE incidents SET event_count = event_count + 1, last_event = ?,
			latest_alert = ?, best_alert = `+best+`, severity = ?, summary = ?, tracks = ?, updated = ? WHERE id = ?`), args...)
		if err != nil {
			return incident.Incident{}, fmt.Errorf("join incident %d: %w", id, err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return incident.Incident{}, fmt.Errorf("incident %d: %w", id, store.ErrNotFound)
		}
	}
	if _, err := tx.ExecContext(ctx, db.D.rebind(`INSERT INTO incident_events (incident_id, alert_id, at) VALUES (?, ?, ?)`),
		id, alertID, db.D.arg(Norm(r.At))); err != nil {
		return incident.Incident{}, fmt.Errorf("incident %d evidence: %w", id, err)
	}
	return db.incidentRow(ctx, tx, id)
}

func (db *DB) incidentRow(ctx context.Context, q querier, id int64) (incident.Incident, error) {
	in, err := scanIncident(q.QueryRowContext(ctx, db.D.rebind(`SELECT `+incidentCols+` FROM incidents WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return in, fmt.Errorf("incident %d: %w", id, store.ErrNotFound)
	}
	return in, err
}

// stepColumn is the time column a transition to s sets.
func stepColumn(s incident.State) string {
	switch s {
	case incident.Acknowledged:
		return "acked_at"
	case incident.Dispatched:
		return "dispatched_at"
	case incident.OnScene:
		return "on_scene_at"
	case incident.Resolved, incident.FalseAlarm:
		return "resolved_at"
	}
	return "closed_at"
}

// TransitionIncident moves an incident along its lifecycle.
func (db *DB) TransitionIncident(ctx context.Context, r incident.TransitionRecord) (incident.Incident, error) {
	var out incident.Incident
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.lockIncidentCamera(ctx, tx, r.ID); err != nil {
			return err
		}
		var cur incident.State
		var last time.Time
		err := tx.QueryRowContext(ctx, db.D.rebind(`SELECT state, last_event FROM incidents WHERE id = ?`+db.D.ForUpdate), r.ID).
			Scan(&cur, timeCol{&last})
		if err != nil {
			return err
		}
		if cur != r.From || !incident.Allowed(r.From, r.To) {
			return fmt.Errorf("incident %d is %s, cannot move %s to %s: %w", r.ID, cur, r.From, r.To, store.ErrConflict)
		}
		if !r.Quiet.IsZero() && !last.Equal(Norm(r.Quiet)) {
			return fmt.Errorf("incident %d had an event since it was found quiet: %w", r.ID, store.ErrConflict)
		}
		at := db.D.arg(Norm(r.At))
		set := "state = ?, updated = ?, " + stepColumn(r.To) + " = COALESCE(" + stepColumn(r.To) + ", ?)"
		args := []any{string(r.To), db.D.arg(db.now()), at}
		if r.To == incident.Dispatched {
			set += ", acked_at = COALESCE(acked_at, ?), unit_type = ?, unit_id = ?"
			args = append(args, at, r.UnitType, r.UnitID)
		}
		if _, err := tx.ExecContext(ctx, db.D.rebind(`UPDATE incidents SET `+set+` WHERE id = ?`), append(args, r.ID)...); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, db.D.rebind(`INSERT INTO incident_history (incident_id, from_state, to_state,
			by_user, at, unit_type, unit_id, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
			r.ID, string(r.From), string(r.To), r.By, at, r.UnitType, r.UnitID, r.Note); err != nil {
			return err
		}
		judged, err := db.verdictAlerts(ctx, tx, r)
		if err != nil {
			return err
		}
		if out, err = db.getIncident(ctx, tx, r.ID); err != nil {
			return err
		}
		out.Judged = judged
		if r.Messages != nil {
			return db.enqueue(ctx, tx, r.Messages(out))
		}
		return nil
	})
	if err != nil {
		return incident.Incident{}, fmt.Errorf("store: transition incident: %w", err)
	}
	return out, nil
}

// lockIncidentCamera takes the lock of an incident's camera (its camera
// never changes), before any row lock, as RecordEvent does: a transition
// never interleaves with an event joining the incident.
func (db *DB) lockIncidentCamera(ctx context.Context, tx *sql.Tx, id int64) error {
	var camera string
	err := tx.QueryRowContext(ctx, db.D.rebind(`SELECT camera FROM incidents WHERE id = ?`), id).Scan(&camera)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("incident %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return err
	}
	return db.lockCamera(ctx, tx, camera)
}

// verdictAlerts carries an incident's verdict to its grouped alerts that
// no one has judged yet, so per-rule precision counts them.
func (db *DB) verdictAlerts(ctx context.Context, tx *sql.Tx, r incident.TransitionRecord) ([]int64, error) {
	to := store.StateConfirmed
	switch r.To {
	case incident.Resolved:
	case incident.FalseAlarm:
		to = store.StateFalseAlarm
	default:
		return nil, nil
	}
	rows, err := tx.QueryContext(ctx, db.D.rebind(`SELECT a.id, a.state FROM alerts a JOIN incident_events ie ON ie.alert_id = a.id
		WHERE ie.incident_id = ? AND a.state IN (?, ?) ORDER BY a.id`), r.ID, string(store.StateNew), string(store.StateAcknowledged))
	if err != nil {
		return nil, err
	}
	type alertState struct {
		id    int64
		state store.AlertState
	}
	var list []alertState
	for rows.Next() {
		var a alertState
		if err := rows.Scan(&a.id, &a.state); err != nil {
			rows.Close()
			return nil, err
		}
		list = append(list, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	note := fmt.Sprintf("incident %d: %s", r.ID, r.To)
	ids := make([]int64, 0, len(list))
	for _, a := range list {
		if err := db.recordTransition(ctx, tx, a.id, a.state, to, r.By, note); err != nil {
			return nil, fmt.Errorf("alert %d: %w", a.id, err)
		}
		ids = append(ids, a.id)
	}
	return ids, nil
}

// EscalateIncident escalates an incident exactly once.
func (db *DB) EscalateIncident(ctx context.Context, id int64, at time.Time, priority string, msgs func(incident.Incident) []deliver.Message) (incident.Incident, bool, error) {
	var out incident.Incident
	var ok bool
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.D.rebind(`UPDATE incidents SET escalated_at = ?, priority = ?, updated = ?
			WHERE id = ? AND state = ? AND escalated_at IS NULL`),
			db.D.arg(Norm(at)), priority, db.D.arg(db.now()), id, string(incident.New))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		ok = true
		if out, err = db.incidentRow(ctx, tx, id); err != nil {
			return err
		}
		if msgs != nil {
			return db.enqueue(ctx, tx, msgs(out))
		}
		return nil
	})
	if err != nil {
		return out, false, fmt.Errorf("store: escalate incident %d: %w", id, err)
	}
	return out, ok, nil
}

// GetIncident returns an incident with its timeline and history.
func (db *DB) GetIncident(ctx context.Context, id int64) (incident.Incident, error) {
	in, err := db.getIncident(ctx, db.R, id)
	if err != nil {
		return in, fmt.Errorf("store: get incident: %w", err)
	}
	return in, nil
}

func (db *DB) getIncident(ctx context.Context, q querier, id int64) (incident.Incident, error) {
	in, err := db.incidentRow(ctx, q, id)
	if err != nil {
		return in, err
	}
	if in.Events, err = db.timeline(ctx, q, id); err != nil {
		return in, fmt.Errorf("incident %d events: %w", id, err)
	}
	rows, err := q.QueryContext(ctx, db.D.rebind(`SELECT from_state, to_state, by_user, at, unit_type, unit_id, note
		FROM incident_history WHERE incident_id = ? ORDER BY id`), id)
	if err != nil {
		return in, fmt.Errorf("incident %d history: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var t incident.Transition
		if err := rows.Scan(&t.From, &t.To, &t.By, timeCol{&t.At}, &t.UnitType, &t.UnitID, &t.Note); err != nil {
			return in, fmt.Errorf("incident %d history: %w", id, err)
		}
		in.History = append(in.History, t)
	}
	return in, rows.Err()
}

// timeline is the incident's latest events, oldest first.
func (db *DB) timeline(ctx context.Context, q querier, id int64) ([]incident.EventRef, error) {
	rows, err := q.QueryContext(ctx, db.D.rebind(`SELECT ie.alert_id, ie.at, a.event_json FROM incident_events ie
		JOIN alerts a ON a.id = ie.alert_id WHERE ie.incident_id = ? ORDER BY ie.at DESC, ie.alert_id DESC LIMIT ?`), id, maxTimeline)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []incident.EventRef
	for rows.Next() {
		var r incident.EventRef
		var js []byte
		if err := rows.Scan(&r.Alert, timeCol{&r.At}, &js); err != nil {
			return nil, err
		}
		var e event.Event
		if err := json.Unmarshal(js, &e); err != nil {
			return nil, fmt.Errorf("alert %d: %w", r.Alert, err)
		}
		r.Rule, r.Name, r.Severity, r.Explanation, r.Tracks, r.Snapshot = e.Rule, e.Name, e.Severity, e.Explanation, e.Tracks, e.Snapshot != ""
		out = append(out, r)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, rows.Err()
}

// ListIncidents returns incidents matching f, newest first.
func (db *DB) ListIncidents(ctx context.Context, f incident.Filter) ([]incident.Incident, error) {
	var w where
	for _, c := range []struct{ col, v string }{{"camera", f.Camera}, {"rule", f.Rule}, {"priority", f.Priority}} {
		if c.v != "" {
			w.add(c.col+" = ?", c.v)
		}
	}
	if len(f.States) > 0 {
		args := make([]any, len(f.States))
		for i, s := range f.States {
			args[i] = string(s)
		}
		w.add("state IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ")+")", args...)
	}
	if !f.Since.IsZero() {
		w.add("opened >= ?", db.D.arg(Norm(f.Since)))
	}
	if !f.Until.IsZero() {
		w.add("opened < ?", db.D.arg(Norm(f.Until)))
	}
	if f.After > 0 {
		w.add("id < ?", f.After)
	}
	out, err := db.queryIncidents(ctx, `SELECT `+incidentCols+` FROM incidents`+w.String()+` ORDER BY id DESC LIMIT ?`,
		append(w.args, limit(f.Limit))...)
	if err != nil {
		return nil, fmt.Errorf("store: list incidents: %w", err)
	}
	return out, nil
}

// ActiveIncidents returns the incidents not closed, oldest first.
func (db *DB) ActiveIncidents(ctx context.Context) ([]incident.Incident, error) {
	out, err := db.queryIncidents(ctx, `SELECT `+incidentCols+` FROM incidents WHERE state IN (?, ?, ?, ?, ?, ?) ORDER BY id`,
		append(openStates, string(incident.Resolved), string(incident.FalseAlarm))...)
	if err != nil {
		return nil, fmt.Errorf("store: active incidents: %w", err)
	}
	return out, nil
}

func (db *DB) queryIncidents(ctx context.Context, q string, args ...any) ([]incident.Incident, error) {
	return queryAll(ctx, db.R, db.D.rebind(q), scanIncident, args...)
}

// SaveProtocols stores a protocol file as the next version.
func (db *DB) SaveProtocols(ctx context.Context, yaml, author string) (int, error) {
	var v int
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) + 1 FROM protocol_versions`).Scan(&v); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, db.D.rebind(`INSERT INTO protocol_versions (version, yaml, author, created) VALUES (?, ?, ?, ?)`),
			v, yaml, author, db.D.arg(db.now()))
		return db.conflict(err)
	})
	if err != nil {
		return 0, fmt.Errorf("store: save protocols: %w", err)
	}
	return v, nil
}

// LatestProtocols returns the newest saved protocol file.
func (db *DB) LatestProtocols(ctx context.Context) (incident.ProtocolVersion, error) {
	var p incident.ProtocolVersion
	err := db.R.QueryRowContext(ctx, `SELECT version, yaml, author, created FROM protocol_versions ORDER BY version DESC LIMIT 1`).
		Scan(&p.Version, &p.YAML, &p.Author, timeCol{&p.Created})
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("store: no saved protocols: %w", store.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("store: latest protocols: %w", err)
	}
	return p, nil
}
