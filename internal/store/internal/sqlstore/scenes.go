package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/vigil-cctv/vigil/internal/store"
)

// sceneRetries bounds how often SaveScene retries when a concurrent save
// took the version number it computed.
const sceneRetries = 10

const sceneCols = "camera, version, yaml, author, created"

// SaveScene appends a version numbered one past the camera's newest. Two
// concurrent saves may compute the same number; the primary key rejects
// the second, which then retries with the next number.
func (db *DB) SaveScene(ctx context.Context, camera, yaml, author string) (int, error) {
	for range sceneRetries {
		v, err := db.insertScene(ctx, camera, yaml, author)
		if db.D.IsUnique != nil && db.D.IsUnique(err) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("store: save scene for camera %q: %w", camera, err)
		}
		return v, nil
	}
	return 0, fmt.Errorf("store: save scene for camera %q: %w: version kept changing", camera, store.ErrConflict)
}

func (db *DB) insertScene(ctx context.Context, camera, yaml, author string) (int, error) {
	var v int
	err := db.W.QueryRowContext(ctx, db.D.rebind(`SELECT COALESCE(MAX(version), 0) + 1 FROM scenes WHERE camera = ?`),
		camera).Scan(&v)
	if err != nil {
		return 0, err
	}
	_, err = db.W.ExecContext(ctx, db.D.rebind(`INSERT INTO scenes (`+sceneCols+`) VALUES (?, ?, ?, ?, ?)`),
		camera, v, yaml, author, db.D.arg(db.now()))
	return v, err
}

// LatestScene returns the newest version, or store.ErrNotFound.
func (db *DB) LatestScene(ctx context.Context, camera string) (store.SceneVersion, error) {
	row := db.R.QueryRowContext(ctx, db.D.rebind(`SELECT `+sceneCols+` FROM scenes
		WHERE camera = ? ORDER BY version DESC LIMIT 1`), camera)
	s, err := scanScene(row)
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("store: scene for camera %q: %w", camera, store.ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("store: latest scene for camera %q: %w", camera, err)
	}
	return s, nil
}

// SceneVersions returns every version of the camera's scene, oldest first.
func (db *DB) SceneVersions(ctx context.Context, camera string) ([]store.SceneVersion, error) {
	rows, err := db.R.QueryContext(ctx, db.D.rebind(`SELECT `+sceneCols+` FROM scenes
		WHERE camera = ? ORDER BY version`), camera)
	if err != nil {
		return nil, fmt.Errorf("store: scene versions for camera %q: %w", camera, err)
	}
	defer rows.Close()
	var out []store.SceneVersion
	for rows.Next() {
		s, err := scanScene(rows)
		if err != nil {
			return nil, fmt.Errorf("store: scene versions for camera %q: %w", camera, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: scene versions for camera %q: %w", camera, err)
	}
	return out, nil
}

func scanScene(s scanner) (store.SceneVersion, error) {
	var v store.SceneVersion
	err := s.Scan(&v.Camera, &v.Version, &v.YAML, &v.Author, timeCol{&v.Created})
	return v, err
}
