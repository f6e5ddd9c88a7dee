package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vigil-cctv/vigil/internal/store"
)

// AddTrack stores a finished track. Track IDs restart with the tracker,
// so (camera, track_id) is not unique and each call adds a row.
func (db *DB) AddTrack(ctx context.Context, t store.TrackSummary) error {
	var err error
	if t.Appearance == nil {
		_, err = db.addTrack(ctx, db.W, t)
	} else {
		err = db.inTx(ctx, func(tx *sql.Tx) error { _, err := db.addTrack(ctx, tx, t); return err })
	}
	if err != nil {
		return fmt.Errorf("store: add track %d of camera %q: %w", t.TrackID, t.Camera, err)
	}
	return nil
}

// ListTracks returns tracks that started in [since, until), newest first;
// an empty camera or zero time does not filter, and limit works as
// AlertFilter.Limit (default 50, max 500).
func (db *DB) ListTracks(ctx context.Context, camera string, since, until time.Time, n int) ([]store.TrackSummary, error) {
	var w where
	if camera != "" {
		w.add("camera = ?", camera)
	}
	if !since.IsZero() {
		w.add("start_at >= ?", db.D.arg(Norm(since)))
	}
	if !until.IsZero() {
		w.add("start_at < ?", db.D.arg(Norm(until)))
	}
	q := db.D.rebind(`SELECT id, camera, track_id, class, start_at, end_at, path, attributes FROM tracks` +
		w.String() + ` ORDER BY start_at DESC, id DESC LIMIT ?`)
	rows, err := db.R.QueryContext(ctx, q, append(w.args, limit(n))...)
	if err != nil {
		return nil, fmt.Errorf("store: list tracks: %w", err)
	}
	defer rows.Close()
	var out []store.TrackSummary
	for rows.Next() {
		t, err := scanTrack(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list tracks: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list tracks: %w", err)
	}
	return out, nil
}

func scanTrack(rows *sql.Rows) (store.TrackSummary, error) {
	var t store.TrackSummary
	var path, attrs []byte
	if err := rows.Scan(&t.ID, &t.Camera, &t.TrackID, &t.Class, timeCol{&t.Start}, timeCol{&t.End}, &path, &attrs); err != nil {
		return t, err
	}
	if err := json.Unmarshal(path, &t.Path); err != nil {
		return t, fmt.Errorf("decode path: %w", err)
	}
	if err := json.Unmarshal(attrs, &t.Attributes); err != nil {
		return t, fmt.Errorf("decode attributes: %w", err)
	}
	return t, nil
}
