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

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/store"
)

// The methods in this file write records that arrive from the cluster's
// streams (internal/cluster) at least once, keyed by their message id, so
// that each is stored exactly once.

// AddAlertOnce stores e as a new alert under key unless an alert with that
// key exists; it returns the alert's ID and whether this call added it.
func (db *DB) AddAlertOnce(ctx context.Context, key string, e event.Event) (int64, bool, error) {
	return db.addAlertOnce(ctx, db.W, key, e)
}

func (db *DB) addAlertOnce(ctx context.Context, q querier, key string, e event.Event) (int64, bool, error) {
	js, err := json.Marshal(e)
	if err != nil {
		return 0, false, fmt.Errorf("store: add alert once: encode event: %w", err)
	}
	now := db.D.arg(db.now())
	var id int64
	err = q.QueryRowContext(ctx, db.D.rebind(`INSERT INTO alerts
		(rule, name, camera, class, start_pts, state, created, updated, event_json, msg_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (msg_id) DO NOTHING RETURNING id`),
		e.Rule, e.Name, e.Camera, e.Class, e.Start, string(store.StateNew), now, now, string(js), key).Scan(&id)
	if err == nil {
		return id, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, false, fmt.Errorf("store: add alert %s: %w", key, err)
	}
	id, err = db.alertIDByKey(ctx, q, key)
	return id, false, err
}

// AlertIDByKey returns the ID of the alert stored under key.
func (db *DB) AlertIDByKey(ctx context.Context, key string) (int64, error) {
	return db.alertIDByKey(ctx, db.R, key)
}

func (db *DB) alertIDByKey(ctx context.Context, q querier, key string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, db.D.rebind(`SELECT id FROM alerts WHERE msg_id = ?`), key).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("store: alert %s: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("store: alert %s: %w", key, err)
	}
	return id, nil
}

// AddTrackOnce stores a finished track under key unless it is there.
func (db *DB) AddTrackOnce(ctx context.Context, key string, t store.TrackSummary) (bool, error) {
	return db.addTrackOnce(ctx, db.W, key, t)
}

func (db *DB) addTrackOnce(ctx context.Context, q querier, key string, t store.TrackSummary) (bool, error) {
	path, err := json.Marshal(t.Path)
	if err != nil {
		return false, fmt.Errorf("store: add track once: encode path: %w", err)
	}
	attrs, err := json.Marshal(t.Attributes)
	if err != nil {
		return false, fmt.Errorf("store: add track once: encode attributes: %w", err)
	}
	var id int64
	err = q.QueryRowContext(ctx, db.D.rebind(`INSERT INTO tracks
		(camera, track_id, class, start_at, end_at, path, attributes, msg_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (msg_id) DO NOTHING RETURNING id`),
		t.Camera, t.TrackID, t.Class, db.D.arg(Norm(t.Start)), db.D.arg(Norm(t.End)), string(path), string(attrs), key).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // stored before
	}
	if err != nil {
		return false, fmt.Errorf("store: add track %s: %w", key, err)
	}
	if t.Appearance != nil { // a worker described it: searchable like a local track
		if err := db.addAppearance(ctx, q, id, t); err != nil {
			return false, fmt.Errorf("store: add track %s: %w", key, err)
		}
	}
	return true, nil
}

// TrackIDByKey returns the ID of the track stored under key.
func (db *DB) TrackIDByKey(ctx context.Context, key string) (int64, error) {
	var id int64
	err := db.R.QueryRowContext(ctx, db.D.rebind(`SELECT id FROM tracks WHERE msg_id = ?`), key).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("store: track %s: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("store: track %s: %w", key, err)
	}
	return id, nil
}

// AddCountsOnce adds a batch of counter increments unless a batch with
// key was applied; the key and the increments commit together.
func (db *DB) AddCountsOnce(ctx context.Context, key string, cs []store.Count) (bool, error) {
	var first bool
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		first, err = db.addCountsOnce(ctx, tx, key, cs)
		return err
	})
	return first, err
}

// addCountsOnce must run in a transaction: the key and the increments
// commit together.
func (db *DB) addCountsOnce(ctx context.Context, tx querier, key string, cs []store.Count) (bool, error) {
	res, err := tx.ExecContext(ctx, db.D.rebind(`INSERT INTO cluster_applied (msg_id, applied) VALUES (?, ?)
		ON CONFLICT (msg_id) DO NOTHING`), key, db.D.arg(db.now()))
	if err != nil {
		return false, fmt.Errorf("store: add counts %s: %w", key, err)
	}
	if first, err := added(res); err != nil || !first {
		return false, err
	}
	q := db.D.rebind(`INSERT INTO counts (camera, name, class, direction, bucket, n) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (camera, name, class, direction, bucket) DO UPDATE SET n = counts.n + excluded.n`)
	for _, c := range cs {
		if _, err := tx.ExecContext(ctx, q, c.Camera, c.Name, c.Class, c.Direction, db.D.arg(Norm(c.Bucket)), c.N); err != nil {
			return false, fmt.Errorf("store: add counts %s: counter %q of camera %q: %w", key, c.Name, c.Camera, err)
		}
	}
	return true, nil
}

// PutBaselineIfNewer replaces camera's baseline when (fence, seq) is
// newer than the stored snapshot's, so a redelivered or late snapshot
// from an earlier owner never overwrites a later one.
func (db *DB) PutBaselineIfNewer(ctx context.Context, camera string, data []byte, fence, seq uint64) (bool, error) {
	return db.putBaselineIfNewer(ctx, db.W, camera, data, fence, seq)
}

func (db *DB) putBaselineIfNewer(ctx context.Context, q querier, camera string, data []byte, fence, seq uint64) (bool, error) {
	res, err := q.ExecContext(ctx, db.D.rebind(`INSERT INTO baselines (camera, data, updated, fence, seq) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (camera) DO UPDATE SET data = excluded.data, updated = excluded.updated, fence = excluded.fence, seq = excluded.seq
		WHERE baselines.fence < excluded.fence OR (baselines.fence = excluded.fence AND baselines.seq < excluded.seq)`),
		camera, data, db.D.arg(db.now()), int64(fence), int64(seq))
	if err != nil {
		return false, fmt.Errorf("store: put baseline of camera %q: %w", camera, err)
	}
	return added(res)
}

// WriteBatch writes every record of b in one transaction (all or
// nothing) and returns the alerts it added; records whose keys are
// stored already are skipped, so a redelivered batch adds nothing.
func (db *DB) WriteBatch(ctx context.Context, b store.RecordBatch) ([]store.NewAlert, error) {
	// One key order for every batch, so two batches that share keys (a
	// redelivery racing its original) lock rows in the same order.
	slices.SortFunc(b.Alerts, func(x, y store.KeyedAlert) int { return strings.Compare(x.Key, y.Key) })
	slices.SortFunc(b.Tracks, func(x, y store.KeyedTrack) int { return strings.Compare(x.Key, y.Key) })
	slices.SortFunc(b.Counts, func(x, y store.KeyedCounts) int { return strings.Compare(x.Key, y.Key) })
	var added []store.NewAlert
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		added = added[:0]
		for _, a := range b.Alerts {
			id, isNew, err := db.addAlertOnce(ctx, tx, a.Key, a.Event)
			if err != nil {
				return err
			}
			if isNew {
				added = append(added, store.NewAlert{ID: id, Key: a.Key})
			}
		}
		for _, t := range b.Tracks {
			if _, err := db.addTrackOnce(ctx, tx, t.Key, t.Track); err != nil {
				return err
			}
		}
		for _, c := range b.Counts {
			if _, err := db.addCountsOnce(ctx, tx, c.Key, c.Counts); err != nil {
				return err
			}
		}
		for _, s := range b.Baselines {
			if _, err := db.putBaselineIfNewer(ctx, tx, s.Camera, s.Data, s.Fence, s.Seq); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: write batch: %w", err)
	}
	return added, nil
}

// PruneApplied forgets applied counter batches older than before (when
// the streams can no longer redeliver them) and returns how many.
func (db *DB) PruneApplied(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.W.ExecContext(ctx, db.D.rebind(`DELETE FROM cluster_applied WHERE applied < ?`), db.D.arg(Norm(before)))
	if err != nil {
		return 0, fmt.Errorf("store: prune applied: %w", err)
	}
	return res.RowsAffected()
}

func added(res sql.Result) (bool, error) {
	n, err := res.RowsAffected()
	return n > 0, err
}
