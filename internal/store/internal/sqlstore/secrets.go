package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/vigil-cctv/vigil/internal/secrets"
)

// Sealer encrypts values at rest (secrets.Sealer, which *secrets.Keyring
// implements).
type Sealer = secrets.Sealer

// UseSecrets sets the sealer camera URLs are encrypted with (see Secrets);
// call it before the store is shared.
func (db *DB) UseSecrets(s Sealer) { db.Secrets = s }

// errNoKey is returned for a sealed URL when the store has no keyring.
var errNoKey = errors.New("the camera URL is encrypted and no secret key is configured " +
	"(VIGIL_SECRET_KEY, VIGIL_SECRET_KEY_FILE or data_dir/secret.key)")

// sealContext binds a camera's sealed URL to its id, so it cannot be
// copied to another camera's row.
func sealContext(id string) string { return "camera:" + id }

func (db *DB) sealURL(id, url string) (string, error) {
	if db.Secrets == nil {
		return url, nil
	}
	return db.Secrets.Seal(url, sealContext(id))
}

func (db *DB) openURL(id, stored string) (string, error) {
	if db.Secrets == nil {
		if secrets.IsSealed(stored) {
			return "", errNoKey
		}
		return stored, nil
	}
	return db.Secrets.Open(stored, sealContext(id))
}

// ResealCameras rewrites every camera URL sealed with with's sealing key,
// opening each with with (which must hold the key it was sealed with, or
// it must be plain), in one transaction: run at start to encrypt URLs
// stored before encryption was on, and by a key rotation. It returns how
// many rows it rewrote.
func (db *DB) ResealCameras(ctx context.Context, with Sealer) (int, error) {
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: reseal cameras: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	rows, err := tx.QueryContext(ctx, `SELECT id, url FROM cameras ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("store: reseal cameras: %w", err)
	}
	type row struct{ id, url string }
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.url); err != nil {
			rows.Close()
			return 0, fmt.Errorf("store: reseal cameras: %w", err)
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("store: reseal cameras: %w", err)
	}
	for _, r := range all {
		plain, err := with.Open(r.url, sealContext(r.id))
		if err != nil {
			return 0, fmt.Errorf("store: reseal camera %q: %w", r.id, err)
		}
		sealed, err := with.Seal(plain, sealContext(r.id))
		if err != nil {
			return 0, fmt.Errorf("store: reseal camera %q: %w", r.id, err)
		}
		if _, err := tx.ExecContext(ctx, db.D.rebind(`UPDATE cameras SET url = ? WHERE id = ?`), sealed, r.id); err != nil {
			return 0, fmt.Errorf("store: reseal camera %q: %w", r.id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: reseal cameras: %w", err)
	}
	return len(all), nil
}
