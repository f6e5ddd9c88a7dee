package secrets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// fingerprint names a key that came without an id (from the environment).
func fingerprint(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:4])
}

// Reseal rewrites every stored sealed value with the keyring's first key,
// opening each with any of its keys (sqlstore.DB.ResealCameras).
type Reseal func(ctx context.Context, kr *Keyring) (int, error)

// Rotate replaces the keyring's key: it seals everything again with a new
// key and retires the old ones. For a key file it writes the new key
// first in the file (keeping the old ones, so a crash leaves everything
// readable and Rotate can be run again), reseals, then drops the old
// keys. For a key from VIGIL_SECRET_KEY the new key comes from
// VIGIL_NEW_SECRET_KEY; the operator then moves it to VIGIL_SECRET_KEY.
// It returns the new keyring, how many values were resealed and what the
// operator must do next (empty when nothing).
func Rotate(ctx context.Context, kr *Keyring, getenv func(string) string, reseal Reseal) (*Keyring, int, string, error) {
	if strings.HasPrefix(kr.Source, "env") {
		return rotateEnv(ctx, kr, getenv, reseal)
	}
	path := kr.Source
	next := NewKey()
	both := append([]Key{next}, kr.Keys()...)
	if err := WriteKeyFile(path, both); err != nil {
		return nil, 0, "", err
	}
	during, err := NewKeyring(path, both...)
	if err != nil {
		return nil, 0, "", err
	}
	n, err := reseal(ctx, during)
	if err != nil {
		return nil, 0, "", fmt.Errorf("reseal: %w (the key file holds the old and the new key; run the rotation again)", err)
	}
	if err := WriteKeyFile(path, []Key{next}); err != nil {
		return nil, n, "", err
	}
	done, err := NewKeyring(path, next)
	return done, n, "", err
}

func rotateEnv(ctx context.Context, kr *Keyring, getenv func(string) string, reseal Reseal) (*Keyring, int, string, error) {
	v := strings.TrimSpace(getenv(EnvNewKey))
	if v == "" {
		return nil, 0, "", fmt.Errorf("the key comes from %s: set %s to the new key (openssl rand -base64 32) and run again", EnvKey, EnvNewKey)
	}
	next, err := parseKey("", v)
	if err != nil {
		return nil, 0, "", fmt.Errorf("%s: %w", EnvNewKey, err)
	}
	next.ID = fingerprint(next.Raw)
	if next.ID == kr.Keys()[0].ID {
		return nil, 0, "", errors.New(EnvNewKey + " is the current key")
	}
	during, err := NewKeyring("env", append([]Key{next}, kr.Keys()...)...)
	if err != nil {
		return nil, 0, "", err
	}
	n, err := reseal(ctx, during)
	if err != nil {
		return nil, 0, "", fmt.Errorf("reseal: %w", err)
	}
	done, err := NewKeyring("env "+EnvKey, next)
	return done, n, "now set " + EnvKey + " to the value of " + EnvNewKey + " and remove " + EnvNewKey, err
}
