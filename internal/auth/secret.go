package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
)

// Session ids and token secrets are 256 random bits: unguessable, so a
// fast hash (SHA-256) is enough to store them; argon2 is for passwords,
// which people choose.
const secretBytes = 32

// newSecret returns 256 random bits, base64url without padding (43 chars).
func newSecret() string {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashSecret is how session ids and token secrets are stored: the SHA-256
// of the secret, in hex. A stolen database holds no usable session.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// validSecret reports whether s has the shape newSecret gives, so that
// junk is refused before it reaches the store.
func validSecret(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(secretBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil
}

// CSRFToken is the double-submit token of a session: derived from the
// session id, so it needs no storage and is bound to that session, while
// knowing it (it sits in a script-readable cookie) reveals nothing of the
// id (a one-way hash with its own domain prefix, unlike the stored hash).
func CSRFToken(sessionID string) string {
	sum := sha256.Sum256([]byte("vigil-csrf\x00" + sessionID))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// CheckCSRF compares a submitted token with the session's in constant time.
func CheckCSRF(sessionID, submitted string) bool {
	want := CSRFToken(sessionID)
	return len(submitted) == len(want) && subtle.ConstantTimeCompare([]byte(submitted), []byte(want)) == 1
}

// API tokens look like "vgt_<id>_<secret>": the id (16 hex digits) finds
// the stored token, the secret proves it. The prefix lets secret scanners
// recognise a leaked token.
const (
	tokenPrefix = "vgt_"
	tokenIDLen  = 16
)

// ErrBadToken is returned for a malformed token string.
var ErrBadToken = errors.New("malformed API token")

// newTokenID returns a fresh public token id.
func newTokenID() string {
	b := make([]byte, tokenIDLen/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// FormatToken joins a token's id and secret into what the client sends.
func FormatToken(id, secret string) string { return tokenPrefix + id + "_" + secret }

// ParseToken splits a client's token into id and secret.
func ParseToken(s string) (id, secret string, err error) {
	rest, ok := strings.CutPrefix(s, tokenPrefix)
	if !ok || len(rest) != tokenIDLen+1+base64.RawURLEncoding.EncodedLen(secretBytes) || rest[tokenIDLen] != '_' {
		return "", "", ErrBadToken
	}
	id, secret = rest[:tokenIDLen], rest[tokenIDLen+1:]
	if _, err := hex.DecodeString(id); err != nil || strings.ToLower(id) != id || !validSecret(secret) {
		return "", "", ErrBadToken
	}
	return id, secret, nil
}

// ParseBearer reads an Authorization header of the form "Bearer <token>"
// (the scheme is case-insensitive, RFC 9110 section 11.1).
func ParseBearer(header string) (id, secret string, err error) {
	scheme, tok, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", "", ErrBadToken
	}
	return ParseToken(strings.TrimLeft(tok, " "))
}
