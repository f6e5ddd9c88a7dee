// Package secrets encrypts what Vigil stores that would hurt if the
// database leaked: camera URLs, which carry passwords and tokens.
//
// Values are sealed with AES-256-GCM under a key from a keyring, bound to
// what they belong to (the camera's id) as additional data so a sealed URL
// cannot be moved to another camera. A sealed value reads
// "vigil:sealed:v1:<key id>:<base64url(nonce|ciphertext)>"; the key id
// lets a keyring hold old keys during a rotation.
//
// The keyring comes from, in order: VIGIL_SECRET_KEY (one base64-encoded
// 32-byte key), VIGIL_SECRET_KEY_FILE (a key file), or data_dir/secret.key,
// generated 0600 on first run when absent. A key file holds one key per
// line, "<id> <base64 key>", the first used to seal and all to open.
// Rotation (Rotate, `vigil secrets rotate`) adds a new first key, reseals
// every stored value with it, then drops the old keys.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Prefix starts every sealed value.
const Prefix = "vigil:sealed:v1:"

// Environment variables naming the key.
const (
	EnvKey     = "VIGIL_SECRET_KEY"
	EnvKeyFile = "VIGIL_SECRET_KEY_FILE"
	// EnvNewKey is the replacement key `vigil secrets rotate` seals with
	// when the current key comes from EnvKey.
	EnvNewKey = "VIGIL_NEW_SECRET_KEY"
)

// KeyFileName is the key file generated in the data folder.
const KeyFileName = "secret.key"

const keySize = 32

// Sealer seals values for a context and opens them again; Open returns a
// value that is not sealed as it is. *Keyring implements it; the SQL
// store takes one to encrypt camera URLs.
type Sealer interface {
	Seal(plain, context string) (string, error)
	Open(value, context string) (string, error)
}

var _ Sealer = (*Keyring)(nil)

// Key is one AES-256 key and its id.
type Key struct {
	ID  string
	Raw []byte
}

// Keyring seals with its first key and opens with any of them.
type Keyring struct {
	keys  []Key
	aeads map[string]cipher.AEAD
	// Source says where the keys came from ("env", a file path), for
	// rotation and messages.
	Source string
}

// NewKeyring builds a keyring; keys[0] seals.
func NewKeyring(source string, keys ...Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("secrets: no key")
	}
	kr := &Keyring{keys: keys, aeads: map[string]cipher.AEAD{}, Source: source}
	for _, k := range keys {
		if len(k.Raw) != keySize {
			return nil, fmt.Errorf("secrets: key %s is %d bytes, want %d", k.ID, len(k.Raw), keySize)
		}
		if k.ID == "" || strings.ContainsAny(k.ID, ": \t\n") {
			return nil, fmt.Errorf("secrets: bad key id %q", k.ID)
		}
		block, err := aes.NewCipher(k.Raw)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		kr.aeads[k.ID] = aead
	}
	return kr, nil
}

// NewKey makes a random key with a random id.
func NewKey() Key {
	raw := make([]byte, keySize)
	_, _ = rand.Read(raw) // never fails (crypto/rand)
	id := make([]byte, 4)
	_, _ = rand.Read(id)
	return Key{ID: hex.EncodeToString(id), Raw: raw}
}

// Keys are the keyring's keys, sealing key first.
func (kr *Keyring) Keys() []Key { return kr.keys }

// IsSealed reports whether v is a sealed value.
func IsSealed(v string) bool { return strings.HasPrefix(v, Prefix) }

// Seal encrypts plain for context (what it belongs to, e.g. "camera:gate-1").
func (kr *Keyring) Seal(plain, context string) (string, error) {
	k := kr.keys[0]
	aead := kr.aeads[k.ID]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	_, _ = rand.Read(nonce)
	ct := aead.Seal(nonce, nonce, []byte(plain), []byte(context))
	return Prefix + k.ID + ":" + base64.RawURLEncoding.EncodeToString(ct), nil
}

// Open decrypts a sealed value for context; a value that is not sealed
// (stored before encryption was on) is returned as it is.
func (kr *Keyring) Open(v, context string) (string, error) {
	if !IsSealed(v) {
		return v, nil
	}
	id, b64, ok := strings.Cut(strings.TrimPrefix(v, Prefix), ":")
	if !ok {
		return "", errors.New("secrets: malformed sealed value")
	}
	aead, ok := kr.aeads[id]
	if !ok {
		return "", fmt.Errorf("secrets: value sealed with key %s, which the keyring (%s) does not hold", id, kr.Source)
	}
	ct, err := base64.RawURLEncoding.DecodeString(b64)
	if err != nil || len(ct) < aead.NonceSize() {
		return "", errors.New("secrets: malformed sealed value")
	}
	plain, err := aead.Open(nil, ct[:aead.NonceSize()], ct[aead.NonceSize():], []byte(context))
	if err != nil {
		return "", fmt.Errorf("secrets: value does not open with key %s for %s (tampered, or sealed for something else)", id, context)
	}
	return string(plain), nil
}

// Load finds the keyring: VIGIL_SECRET_KEY, else VIGIL_SECRET_KEY_FILE,
// else dataDir/secret.key, which is created (0600) with a new key when
// missing. getenv is os.Getenv outside tests.
func Load(dataDir string, getenv func(string) string) (*Keyring, error) {
	if v := strings.TrimSpace(getenv(EnvKey)); v != "" {
		k, err := parseKey("", v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvKey, err)
		}
		k.ID = fingerprint(k.Raw)
		return NewKeyring("env "+EnvKey, k)
	}
	if p := getenv(EnvKeyFile); p != "" {
		return ReadKeyFile(p)
	}
	p := filepath.Join(dataDir, KeyFileName)
	kr, err := ReadKeyFile(p)
	if errors.Is(err, os.ErrNotExist) {
		if err := createKeyFile(p, NewKey()); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		return ReadKeyFile(p) // ErrExist: another process made it first
	}
	return kr, err
}

// parseKey decodes one base64 (standard or URL, padded or not) key.
func parseKey(id, s string) (Key, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err := enc.DecodeString(s); err == nil {
			if len(raw) != keySize {
				return Key{}, fmt.Errorf("the key is %d bytes, want %d (base64 of 32 random bytes: openssl rand -base64 32)", len(raw), keySize)
			}
			return Key{ID: id, Raw: raw}, nil
		}
	}
	return Key{}, errors.New("the key is not base64 (want 32 random bytes: openssl rand -base64 32)")
}

// ReadKeyFile reads a key file. It refuses one that others may read.
func ReadKeyFile(path string) (*Keyring, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("secret key file: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secret key file %s has mode %v: others may read it; chmod 600 it", path, info.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret key file: %w", err)
	}
	var keys []Key
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, b64, ok := strings.Cut(line, " ")
		if !ok {
			return nil, fmt.Errorf("secret key file %s:%d: want \"<id> <base64 key>\"", path, n+1)
		}
		k, err := parseKey(id, strings.TrimSpace(b64))
		if err != nil {
			return nil, fmt.Errorf("secret key file %s:%d: %w", path, n+1, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("secret key file %s holds no key", path)
	}
	return NewKeyring(path, keys...)
}

const keyFileHeader = "# Vigil secret keys: the first seals, all open. Keep this file private (0600) and backed up:\n" +
	"# without it the camera credentials in the database cannot be read.\n"

func keyFileText(keys []Key) []byte {
	var b strings.Builder
	b.WriteString(keyFileHeader)
	for _, k := range keys {
		b.WriteString(k.ID + " " + base64.StdEncoding.EncodeToString(k.Raw) + "\n")
	}
	return []byte(b.String())
}

// createKeyFile writes a new key file, failing if one exists.
func createKeyFile(path string, k Key) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("secret key file: %w", err)
	}
	_, err = f.Write(keyFileText([]Key{k}))
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// WriteKeyFile replaces path with keys, atomically and 0600.
func WriteKeyFile(path string, keys []Key) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("secret key file: %w", err)
	}
	_, err = f.Write(keyFileText(keys))
	if err == nil {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err != nil {
		return fmt.Errorf("secret key file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("secret key file: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
