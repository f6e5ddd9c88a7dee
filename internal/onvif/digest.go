package onvif

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strings"
)

// Some firmware protects its SOAP services with HTTP Digest (RFC 7616)
// instead of, or as well as, WS-Security. A 401 carrying a Digest challenge
// is answered once with an Authorization header; the WS-Security token
// still travels in the envelope, so devices that want both are served.

// challenge is a parsed WWW-Authenticate: Digest header.
type challenge struct {
	realm, nonce, opaque, algorithm string
	qopAuth                         bool // the server offers qop=auth
}

// maxChallenge bounds the header a device may send us.
const maxChallenge = 4096

// parseChallenge reads the Digest challenge among a 401's WWW-Authenticate
// headers.
func parseChallenge(headers []string) (challenge, error) {
	for _, h := range headers {
		if len(h) > maxChallenge {
			continue
		}
		scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
		if !strings.EqualFold(scheme, "Digest") {
			continue
		}
		return parseDigestParams(rest)
	}
	return challenge{}, errors.New("no Digest challenge")
}

func parseDigestParams(s string) (challenge, error) {
	var c challenge
	for _, kv := range splitParams(s) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"`)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "realm":
			c.realm = v
		case "nonce":
			c.nonce = v
		case "opaque":
			c.opaque = v
		case "algorithm":
			c.algorithm = strings.ToUpper(v)
		case "qop":
			for _, q := range strings.Split(v, ",") {
				c.qopAuth = c.qopAuth || strings.TrimSpace(q) == "auth"
			}
		}
	}
	switch {
	case c.nonce == "":
		return c, errors.New("Digest challenge without a nonce")
	case c.algorithm == "":
		c.algorithm = "MD5"
	case c.algorithm != "MD5" && c.algorithm != "SHA-256":
		return c, fmt.Errorf("Digest algorithm %q is not supported (MD5, SHA-256)", c.algorithm)
	}
	return c, nil
}

// splitParams splits on commas outside quotes.
func splitParams(s string) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

func (c challenge) hash() hash.Hash {
	if c.algorithm == "SHA-256" {
		return sha256.New()
	}
	return md5.New()
}

func (c challenge) h(parts ...string) string {
	h := c.hash()
	h.Write([]byte(strings.Join(parts, ":")))
	return hex.EncodeToString(h.Sum(nil))
}

// authorization is the Authorization header answering c for one request;
// cnonce is random per request, nc is always 1 because every challenge is
// answered once.
func (c challenge) authorization(method, uri, user, pass, cnonce string) string {
	ha1 := c.h(user, c.realm, pass)
	ha2 := c.h(method, uri)
	const nc = "00000001"
	var b strings.Builder
	fmt.Fprintf(&b, `Digest username=%q, realm=%q, nonce=%q, uri=%q, algorithm=%s`, user, c.realm, c.nonce, uri, c.algorithm)
	if c.qopAuth {
		fmt.Fprintf(&b, `, qop=auth, nc=%s, cnonce=%q, response=%q`, nc, cnonce, c.h(ha1, c.nonce, nc, cnonce, "auth", ha2))
	} else {
		fmt.Fprintf(&b, `, response=%q`, c.h(ha1, c.nonce, ha2))
	}
	if c.opaque != "" {
		fmt.Fprintf(&b, `, opaque=%q`, c.opaque)
	}
	return b.String()
}

func newCnonce() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// digestRetry reports whether resp asks for HTTP Digest credentials that
// we have, and returns the header answering it.
func (c *Client) digestRetry(resp *http.Response, req *http.Request) (string, bool) {
	user, pass := c.credentials()
	if resp.StatusCode != http.StatusUnauthorized || (user == "" && pass == "") || req.Header.Get("Authorization") != "" {
		return "", false
	}
	ch, err := parseChallenge(resp.Header.Values("WWW-Authenticate"))
	if err != nil {
		return "", false
	}
	cnonce, err := newCnonce()
	if err != nil {
		return "", false
	}
	return ch.authorization(req.Method, req.URL.RequestURI(), user, pass, cnonce), true
}
