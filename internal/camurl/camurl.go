// Package camurl handles camera locations that may carry secrets: it
// redacts them for display, finds every form a secret could take in other
// text, and parses and validates them with errors that never quote the
// location or any part of it.
//
// A camera URL can hold a secret in three places: the userinfo password
// (rtsp://user:pass@host/), a query parameter (?password=…, &token=…,
// &key=…) and, when a password was pasted without percent-encoding, in
// whatever a parser takes for the port, path, query or fragment
// (rtsp://user:pa#ss@host/ parses as host "user", fragment "ss@host/").
// Redaction therefore does not trust a parse that leaves an '@' after the
// authority: it then hides everything from the first ':' of the userinfo
// to the last '@'. Over-redacting a path that really holds an '@' is the
// price of never showing a password.
package camurl

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Mark replaces every secret; a client that sends it back as the password
// means "keep the stored one" (url.URL.Redacted uses the same mark).
const Mark = "xxxxx"

// Unparsable stands for the rest of a URL that does not parse and has no
// userinfo: nothing in it can be told safe to show.
const Unparsable = "<unparsable>"

// sensitive are the substrings of a query parameter name, lower-cased,
// that make its value a secret.
var sensitive = []string{"pass", "pwd", "token", "secret", "key", "auth", "sig", "cred", "session", "cookie", "jwt"}

// IsURL tells a URL from a file path: only URLs are redacted.
func IsURL(loc string) bool { return strings.Contains(loc, "://") }

// ReplayScheme starts a replay source's location (see package ingest):
// frames made in process. It opens no file and dials nothing, and holds
// no secret.
const ReplayScheme = "replay:"

// IsReplay reports whether a location names a replay source.
func IsReplay(loc string) bool { return strings.HasPrefix(loc, ReplayScheme) }

// SensitiveParam reports whether a query parameter's value is a secret.
func SensitiveParam(name string) bool {
	n := strings.ToLower(name)
	return slices.ContainsFunc(sensitive, func(s string) bool { return strings.Contains(n, s) })
}

// parts is a URL split by hand: scheme "://" user [":" password] "@" rest,
// where rest is host, path, query and fragment. hasPass says whether a
// password (possibly empty) was present.
type parts struct {
	scheme, user, password, rest string
	hasUser, hasPass             bool
}

// split divides a URL without trusting url.Parse (see the package doc).
func split(s string) (parts, bool) {
	i := strings.Index(s, "://")
	if i < 0 {
		return parts{}, false
	}
	p := parts{scheme: s[:i], rest: s[i+3:]}
	at := strings.LastIndex(p.rest, "@")
	if at < 0 {
		return p, true
	}
	if !ambiguous(s) {
		// Only the authority can hold the '@': the userinfo ends there.
		end := strings.IndexAny(p.rest, "/?#")
		if end < 0 {
			end = len(p.rest)
		}
		at = strings.LastIndex(p.rest[:end], "@")
		if at < 0 {
			return p, true
		}
	}
	userinfo := p.rest[:at]
	p.rest = p.rest[at+1:]
	p.hasUser = true
	p.user, p.password, p.hasPass = strings.Cut(userinfo, ":")
	return p, true
}

// ambiguous reports whether an '@' follows the authority as url.Parse
// sees it (or the URL does not parse at all): a delimiter may then sit
// unencoded inside the password.
func ambiguous(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return true
	}
	return strings.Contains(u.EscapedPath(), "@") || strings.Contains(u.RawQuery, "@") ||
		strings.Contains(u.Fragment, "@") || strings.Contains(u.Host, "@")
}

// Redact returns loc with every secret replaced by Mark: the password,
// the values of sensitive query parameters and any fragment. File paths
// are returned as they are; a URL that does not parse and has no userinfo
// keeps only its scheme.
func Redact(loc string) string {
	p, ok := split(loc)
	if !ok {
		return loc
	}
	if !validScheme(p.scheme) {
		return Unparsable
	}
	var b strings.Builder
	b.WriteString(p.scheme + "://")
	if _, err := url.Parse(loc); err != nil && !p.hasUser {
		// Without userinfo to cut at, nothing tells a secret from the
		// rest of a URL that does not parse.
		b.WriteString(Unparsable)
		return b.String()
	}
	if p.hasUser {
		b.WriteString(p.user)
		if p.hasPass {
			b.WriteString(":" + Mark)
		}
		b.WriteByte('@')
	}
	b.WriteString(redactRest(p.rest))
	return b.String()
}

// validScheme reports whether s is a URL scheme: a letter, then letters,
// digits, '+', '-' or '.'.
func validScheme(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

// redactRest hides sensitive query values and the fragment of
// host/path?query#fragment.
func redactRest(rest string) string {
	rest, frag, hasFrag := strings.Cut(rest, "#")
	base, query, hasQuery := strings.Cut(rest, "?")
	out := base
	if hasQuery {
		params := strings.Split(query, "&")
		for i, kv := range params {
			k, _, hasValue := strings.Cut(kv, "=")
			name, err := url.QueryUnescape(k)
			if err != nil {
				name = k
			}
			if hasValue && SensitiveParam(name) {
				params[i] = k + "=" + Mark
			}
		}
		out += "?" + strings.Join(params, "&")
	}
	if hasFrag && frag != "" {
		out += "#" + Mark // camera URLs have no fragments: this is a pasted secret
	}
	return out
}

// Secrets lists every secret in loc in each form it may take in other
// text (as written, decoded and re-encoded), longest first so that
// replacing them in order leaves no fragment of a longer one.
func Secrets(loc string) []string {
	p, ok := split(loc)
	if !ok {
		return nil
	}
	var raw []string
	if p.hasPass && p.password != "" {
		raw = append(raw, p.password)
	}
	rest, frag, _ := strings.Cut(p.rest, "#")
	if frag != "" {
		raw = append(raw, frag)
	}
	if _, query, ok := strings.Cut(rest, "?"); ok {
		for kv := range strings.SplitSeq(query, "&") {
			k, v, hasValue := strings.Cut(kv, "=")
			name, err := url.QueryUnescape(k)
			if err != nil {
				name = k
			}
			if hasValue && v != "" && SensitiveParam(name) {
				raw = append(raw, v)
			}
		}
	}
	var out []string
	for _, s := range raw {
		out = append(out, forms(s)...)
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return slices.Compact(out)
}

// forms is s as written, decoded both ways, and re-encoded both ways.
func forms(s string) []string {
	out := []string{s}
	for _, dec := range []func(string) (string, error){url.PathUnescape, url.QueryUnescape} {
		if d, err := dec(s); err == nil {
			out = append(out, d, url.PathEscape(d), url.QueryEscape(d))
			userinfo := strings.TrimPrefix(url.UserPassword("", d).String(), ":")
			out = append(out, userinfo)
		}
	}
	return slices.DeleteFunc(out, func(x string) bool { return x == "" })
}

// Scrub removes loc's secrets from text, which may quote loc or parts of
// it (a stream error, a log line), and then loc itself as redacted.
func Scrub(text, loc string) string {
	if !IsURL(loc) {
		return text
	}
	text = strings.ReplaceAll(text, loc, Redact(loc))
	for _, s := range Secrets(loc) {
		text = strings.ReplaceAll(text, s, Mark)
	}
	return text
}

// quoted matches the quoted fragments url.Parse puts in its errors
// (invalid port ":S3cr" after host).
var quoted = regexp.MustCompile(`\s*"(?:[^"\\]|\\.)*"`)

// Parse parses a URL. Its error says what kind of problem it is and never
// quotes the URL or any part of it.
func Parse(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err == nil {
		return u, nil
	}
	msg := "malformed URL"
	var ue *url.Error
	if errors.As(err, &ue) {
		msg = strings.TrimSpace(quoted.ReplaceAllString(ue.Err.Error(), ""))
		msg = strings.TrimPrefix(msg, "net/url: ")
	}
	return nil, errors.New("not a valid URL (" + msg + ")")
}

// ValidateRTSP checks an rtsp:// or rtsps:// stream URL; errors show the
// URL redacted and never quote a part of it that could be a secret.
func ValidateRTSP(s string) error {
	if p, _ := split(s); p.hasUser && strings.ContainsAny(p.user+p.password, "#?/@") {
		return errors.New("stream URL " + Redact(s) + ": the user or password holds an unencoded '#', '?', '/' or '@'; percent-encode it")
	}
	u, err := Parse(s)
	if err != nil {
		return errors.New("stream URL " + Redact(s) + " is " + err.Error())
	}
	if u.Scheme != "rtsp" && u.Scheme != "rtsps" {
		return fmt.Errorf("unsupported stream URL scheme %q in %s (want rtsp or rtsps)", u.Scheme, Redact(s))
	}
	if u.Hostname() == "" {
		return errors.New("stream URL " + Redact(s) + " has no host")
	}
	for _, c := range u.Port() {
		if c < '0' || c > '9' {
			return errors.New("stream URL " + Redact(s) + " has a bad port")
		}
	}
	return nil
}
