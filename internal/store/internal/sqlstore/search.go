package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/vigil-cctv/vigil/internal/search"
	"github.com/vigil-cctv/vigil/internal/store"
)

// maxSearchPage bounds one page of SearchRecords and one GetTracks call.
const maxSearchPage = 10000

// addTrack inserts one summary (and its appearance) and returns its id.
func (db *DB) addTrack(ctx context.Context, q querier, t store.TrackSummary) (int64, error) {
	path, err := json.Marshal(t.Path)
	if err != nil {
		return 0, fmt.Errorf("encode path: %w", err)
	}
	attrs, err := json.Marshal(t.Attributes)
	if err != nil {
		return 0, fmt.Errorf("encode attributes: %w", err)
	}
	var id int64
	err = q.QueryRowContext(ctx, db.D.rebind(`INSERT INTO tracks
		(camera, track_id, class, start_at, end_at, path, attributes) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		t.Camera, t.TrackID, t.Class, db.D.arg(Norm(t.Start)), db.D.arg(Norm(t.End)), string(path), string(attrs)).Scan(&id)
	if err != nil {
		return 0, err
	}
	if t.Appearance == nil {
		return id, nil
	}
	return id, db.addAppearance(ctx, q, id, t)
}

func (db *DB) addAppearance(ctx context.Context, q querier, id int64, t store.TrackSummary) error {
	a := t.Appearance
	doc, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode appearance: %w", err)
	}
	r := search.RecordOf(id, t.Camera, t.Class, t.Start, t.End, *a)
	var vec, thumb any
	if r.Vec != nil {
		vec = int8Bytes(r.Vec)
	}
	if len(a.Thumb) > 0 {
		thumb = a.Thumb
	}
	_, err = q.ExecContext(ctx, db.D.rebind(`INSERT INTO track_appearance
		(track, upper_mask, lower_mask, colour_mask, carried_mask, heading, height_m, attrs, embedding, thumb)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		id, int64(r.Upper), int64(r.Lower), int64(r.Colours), int64(r.Carried), int64(r.Heading), a.HeightM,
		string(doc), vec, thumb)
	return err
}

// AddTracks stores summaries in one transaction.
func (db *DB) AddTracks(ctx context.Context, ts []store.TrackSummary) ([]int64, error) {
	ids := make([]int64, 0, len(ts))
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		for _, t := range ts {
			id, err := db.addTrack(ctx, tx, t)
			if err != nil {
				return fmt.Errorf("track %d of camera %q: %w", t.TrackID, t.Camera, err)
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: add tracks: %w", err)
	}
	return ids, nil
}

// SearchRecords pages through the described tracks by id.
func (db *DB) SearchRecords(ctx context.Context, after int64, n int) ([]search.Record, error) {
	n = min(max(n, 1), maxSearchPage)
	rows, err := db.R.QueryContext(ctx, db.D.rebind(`SELECT t.id, t.camera, t.class, t.start_at, t.end_at,
		a.upper_mask, a.lower_mask, a.colour_mask, a.carried_mask, a.heading, a.height_m, a.attrs, a.embedding
		FROM track_appearance a JOIN tracks t ON t.id = a.track WHERE a.track > ? ORDER BY a.track LIMIT ?`), after, n)
	if err != nil {
		return nil, fmt.Errorf("store: search records: %w", err)
	}
	defer rows.Close()
	out := make([]search.Record, 0, n)
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("store: search records: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: search records: %w", err)
	}
	return out, nil
}

func scanRecord(rows *sql.Rows) (search.Record, error) {
	var r search.Record
	var up, lo, co, ca, hd int64
	var h float64
	var doc, vec []byte
	if err := rows.Scan(&r.ID, &r.Camera, &r.Class, timeCol{&r.Start}, timeCol{&r.End}, &up, &lo, &co, &ca, &hd, &h,
		&doc, &vec); err != nil {
		return r, err
	}
	r.Upper, r.Lower, r.Colours, r.Carried = search.Mask(up), search.Mask(lo), search.Mask(co), search.Mask(ca)
	r.Heading, r.HeightM = int8(hd), float32(h)
	if len(vec) > 0 {
		r.Vec = bytesInt8(vec)
	}
	if zones := zonesOf(doc); len(zones) > 0 {
		r.Zones = zones
	}
	return r, nil
}

// zonesOf reads only the zones of an appearance document (the common
// case has none, and then nothing is decoded).
func zonesOf(doc []byte) []string {
	if !strings.Contains(string(doc), `"zones"`) {
		return nil
	}
	var a struct {
		Zones []string `json:"zones"`
	}
	if json.Unmarshal(doc, &a) != nil {
		return nil
	}
	return a.Zones
}

// GetTracks returns tracks by id with their appearance.
func (db *DB) GetTracks(ctx context.Context, ids []int64) ([]store.TrackSummary, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > maxSearchPage {
		return nil, fmt.Errorf("store: get tracks: %d ids, more than %d", len(ids), maxSearchPage)
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	q := db.D.rebind(`SELECT t.id, t.camera, t.track_id, t.class, t.start_at, t.end_at, t.path, t.attributes, a.attrs
		FROM tracks t LEFT JOIN track_appearance a ON a.track = t.id WHERE t.id IN (?` +
		strings.Repeat(", ?", len(ids)-1) + `)`)
	rows, err := db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: get tracks: %w", err)
	}
	defer rows.Close()
	byID := map[int64]store.TrackSummary{}
	for rows.Next() {
		var t store.TrackSummary
		var path, attrs, doc []byte
		if err := rows.Scan(&t.ID, &t.Camera, &t.TrackID, &t.Class, timeCol{&t.Start}, timeCol{&t.End}, &path, &attrs, &doc); err != nil {
			return nil, fmt.Errorf("store: get tracks: %w", err)
		}
		if err := decodeTrack(&t, path, attrs, doc); err != nil {
			return nil, fmt.Errorf("store: get track %d: %w", t.ID, err)
		}
		byID[t.ID] = t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: get tracks: %w", err)
	}
	out := make([]store.TrackSummary, 0, len(byID))
	for _, id := range ids {
		if t, ok := byID[id]; ok {
			out = append(out, t)
		}
	}
	return out, nil
}

func decodeTrack(t *store.TrackSummary, path, attrs, doc []byte) error {
	if err := json.Unmarshal(path, &t.Path); err != nil {
		return fmt.Errorf("decode path: %w", err)
	}
	if err := json.Unmarshal(attrs, &t.Attributes); err != nil {
		return fmt.Errorf("decode attributes: %w", err)
	}
	if doc != nil {
		t.Appearance = &search.Appearance{}
		if err := json.Unmarshal(doc, t.Appearance); err != nil {
			return fmt.Errorf("decode appearance: %w", err)
		}
	}
	return nil
}

// TrackThumb returns a track's thumbnail.
func (db *DB) TrackThumb(ctx context.Context, id int64) ([]byte, error) {
	var thumb []byte
	err := db.R.QueryRowContext(ctx, db.D.rebind(`SELECT thumb FROM track_appearance WHERE track = ?`), id).Scan(&thumb)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && len(thumb) == 0) {
		return nil, fmt.Errorf("track %d thumbnail: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: track %d thumbnail: %w", id, err)
	}
	return thumb, nil
}

func int8Bytes(v []int8) []byte {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return b
}

func bytesInt8(b []byte) []int8 {
	v := make([]int8, len(b))
	for i, x := range b {
		v[i] = int8(x)
	}
	return v
}
