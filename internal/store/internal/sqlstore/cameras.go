package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/vigil-cctv/vigil/internal/store"
)

// Errors here name the camera ID only: the URL may hold a password.

const cameraCols = "id, name, url, kind, enabled, fps, created, updated"

// PutCamera inserts c or updates the camera with its ID, keeping the
// original Created time.
func (db *DB) PutCamera(ctx context.Context, c store.Camera) error {
	if c.ID == "" {
		return errors.New("store: put camera: empty id")
	}
	stored, err := db.sealURL(c.ID, c.URL)
	if err != nil {
		return fmt.Errorf("store: put camera %q: %w", c.ID, err)
	}
	c.URL = stored
	now := db.D.arg(db.now())
	q := db.D.rebind(`INSERT INTO cameras (` + cameraCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, url = excluded.url,
		kind = excluded.kind, enabled = excluded.enabled, fps = excluded.fps, updated = excluded.updated`)
	_, err = db.W.ExecContext(ctx, q, c.ID, c.Name, c.URL, c.Kind, c.Enabled, c.FPS, now, now)
	if err != nil {
		return fmt.Errorf("store: put camera %q: %w", c.ID, db.conflict(err))
	}
	return nil
}

// GetCamera returns one camera or store.ErrNotFound.
func (db *DB) GetCamera(ctx context.Context, id string) (store.Camera, error) {
	row := db.R.QueryRowContext(ctx, db.D.rebind(`SELECT `+cameraCols+` FROM cameras WHERE id = ?`), id)
	c, err := scanCamera(row)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("store: camera %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("store: get camera %q: %w", id, err)
	}
	if c.URL, err = db.openURL(c.ID, c.URL); err != nil {
		return store.Camera{}, fmt.Errorf("store: get camera %q: %w", id, err)
	}
	return c, nil
}

// ListCameras returns all cameras ordered by ID.
func (db *DB) ListCameras(ctx context.Context) ([]store.Camera, error) {
	rows, err := db.R.QueryContext(ctx, `SELECT `+cameraCols+` FROM cameras ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: list cameras: %w", err)
	}
	defer rows.Close()
	var out []store.Camera
	for rows.Next() {
		c, err := scanCamera(rows)
		if err == nil {
			c.URL, err = db.openURL(c.ID, c.URL)
		}
		if err != nil {
			return nil, fmt.Errorf("store: list cameras: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list cameras: %w", err)
	}
	return out, nil
}

// DeleteCamera removes a camera. Its scenes, alerts, tracks and counts
// stay: they are the record of what happened.
func (db *DB) DeleteCamera(ctx context.Context, id string) error {
	res, err := db.W.ExecContext(ctx, db.D.rebind(`DELETE FROM cameras WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("store: delete camera %q: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: delete camera %q: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("store: camera %q: %w", id, store.ErrNotFound)
	}
	return nil
}

type scanner interface{ Scan(dest ...any) error }

func scanCamera(s scanner) (store.Camera, error) {
	var c store.Camera
	err := s.Scan(&c.ID, &c.Name, &c.URL, &c.Kind, &c.Enabled, &c.FPS,
		timeCol{&c.Created}, timeCol{&c.Updated})
	return c, err
}
