package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over the memory
	Threads uint8  // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes of derived key stored
}

// DefaultParams are RFC 9106's second recommended option (section 4,
// for when 2 GiB per hash is too much): argon2id, 64 MiB, 3 passes,
// 4 lanes, a 128-bit salt and a 256-bit tag. On this project's 2-core
// machine one hash costs 0.18–0.29 s of processor time
// (BenchmarkHashDefault, cpu-ms/op; with the machine busy with other work
// it took 0.8–1.3 s of wall time): a person logging in hardly notices,
// while an attacker with a stolen database pays 64 MiB and 3 passes for
// every guess. At most hashSlots hashes run at once, so the memory in use
// stays bounded by hashSlots × 64 MiB however many logins arrive.
var DefaultParams = Params{Memory: 64 * 1024, Time: 3, Threads: 4, SaltLen: 16, KeyLen: 32}

// Bounds on parameters read back from a stored hash: a hash tampered with
// in the database must not make one login allocate gigabytes or run for
// minutes.
const (
	maxMemory  = 1 << 20 // KiB: 1 GiB
	maxTime    = 16
	maxThreads = 64
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
	maxHashLen = 512 // bytes of an encoded hash
)

// Password rules: long enough to resist guessing, short enough that
// hashing it is not itself a cost an attacker can inflate.
const (
	MinPasswordLen = 12  // characters
	MaxPasswordLen = 256 // bytes
)

// hashSlots bounds concurrent argon2 computations (each holds
// Params.Memory); further logins wait their turn.
const hashSlots = 2

var hashSem = make(chan struct{}, hashSlots)

// ErrMismatch is returned by VerifyPassword for a wrong password.
var ErrMismatch = errors.New("password does not match")

// CheckPassword enforces the password rules, naming the one broken.
func CheckPassword(pw string) error {
	switch {
	case len(pw) > MaxPasswordLen:
		return fmt.Errorf("password must be at most %d bytes", MaxPasswordLen)
	case !utf8.ValidString(pw):
		return errors.New("password must be valid UTF-8")
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		return fmt.Errorf("password must be at least %d characters", MinPasswordLen)
	}
	return nil
}

// HashPassword derives an argon2id hash of pw with a fresh random salt and
// encodes it in the PHC string format:
//
//	$argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>
//
// salt and hash in unpadded standard base64, as the reference
// implementation writes them, so other tools can verify the hashes.
func HashPassword(ctx context.Context, pw string, p Params) (string, error) {
	if len(pw) > MaxPasswordLen {
		return "", fmt.Errorf("password must be at most %d bytes", MaxPasswordLen)
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key, err := derive(ctx, pw, salt, p)
	if err != nil {
		return "", err
	}
	return encodePHC(p, salt, key), nil
}

// VerifyPassword checks pw against an encoded hash in constant time. It
// also reports whether the hash was made with other parameters than p, so
// the caller can re-hash the password now that it knows it.
func VerifyPassword(ctx context.Context, pw, encoded string, p Params) (stale bool, err error) {
	hp, salt, want, err := DecodeHash(encoded)
	if err != nil {
		return false, err
	}
	if len(pw) > MaxPasswordLen {
		return false, ErrMismatch
	}
	got, err := derive(ctx, pw, salt, hp)
	if err != nil {
		return false, err
	}
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, ErrMismatch
	}
	return hp != p, nil
}

// derive runs argon2id within the concurrency bound.
func derive(ctx context.Context, pw string, salt []byte, p Params) ([]byte, error) {
	select {
	case hashSem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-hashSem }()
	return argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen), nil
}

func encodePHC(p Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// DecodeHash parses a PHC-format argon2id hash, refusing parameters
// outside safe bounds. The returned Params have SaltLen and KeyLen set
// from the decoded salt and key.
func DecodeHash(encoded string) (Params, []byte, []byte, error) {
	var p Params
	if len(encoded) > maxHashLen {
		return p, nil, nil, errors.New("password hash: too long")
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errors.New("password hash: not a PHC argon2id string")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("password hash: unsupported version %q", parts[2])
	}
	if err := parseCosts(parts[3], &p); err != nil {
		return p, nil, nil, err
	}
	salt, err := base64.RawStdEncoding.Strict().DecodeString(parts[4])
	if err != nil || len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return p, nil, nil, errors.New("password hash: bad salt")
	}
	key, err := base64.RawStdEncoding.Strict().DecodeString(parts[5])
	if err != nil || len(key) < minKeyLen || len(key) > maxKeyLen {
		return p, nil, nil, errors.New("password hash: bad key")
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

// parseCosts reads "m=…,t=…,p=…" in that order.
func parseCosts(s string, p *Params) error {
	fields := strings.Split(s, ",")
	if len(fields) != 3 {
		return errors.New("password hash: want m=,t=,p= parameters")
	}
	var vals [3]uint64
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(fields[i], name+"=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil || (len(v) > 1 && v[0] == '0') {
			return fmt.Errorf("password hash: bad parameter %q", fields[i])
		}
		vals[i] = n
	}
	m, t, th := vals[0], vals[1], vals[2]
	if th < 1 || th > maxThreads || t < 1 || t > maxTime || m < 8*th || m > maxMemory {
		return fmt.Errorf("password hash: parameters m=%d,t=%d,p=%d out of bounds", m, t, th)
	}
	p.Memory, p.Time, p.Threads = uint32(m), uint32(t), uint8(th)
	return nil
}
