package httpapi

import (
	"net/url"
	"strings"

	"github.com/vigil-cctv/vigil/internal/decode"
)

// redactedMark is what url.URL.Redacted (and so decode.RedactURL) puts in
// place of a password. A client that sends it back means "keep it".
const redactedMark = "xxxxx"

// isURL tells a stream URL from a file path: only URLs can hold
// credentials, and only they are redacted.
func isURL(loc string) bool { return strings.Contains(loc, "://") }

// redactLocation is a camera location safe to show: URLs lose their
// password, file paths are shown as they are.
func redactLocation(loc string) string {
	if !isURL(loc) {
		return loc
	}
	return decode.RedactURL(loc)
}

// hasPassword reports whether a location carries a password.
func hasPassword(loc string) bool {
	if !isURL(loc) {
		return false
	}
	u, err := url.Parse(loc)
	if err != nil || u.User == nil {
		return false
	}
	_, ok := u.User.Password()
	return ok
}

// keepPassword returns incoming with the stored password put back when
// the client sent the URL with the password omitted (user only) or
// redacted. The stored password is reused only for the same scheme, host
// and user: otherwise changing the host while sending the redacted mark
// would hand the stored password to a server of the client's choosing.
// A URL with no user at all means "no credentials".
func keepPassword(stored, incoming string) (string, error) {
	in, err := url.Parse(incoming)
	if !isURL(incoming) || err != nil || in.User == nil {
		return incoming, nil // validation reports malformed URLs
	}
	pass, set := in.User.Password()
	if set && pass != redactedMark {
		return incoming, nil
	}
	old, err := url.Parse(stored)
	var oldPass string
	oldSet := false
	if isURL(stored) && err == nil && old.User != nil {
		oldPass, oldSet = old.User.Password()
	}
	same := oldSet && old.Scheme == in.Scheme && strings.EqualFold(old.Host, in.Host) &&
		old.User.Username() == in.User.Username()
	switch {
	case same:
		in.User = url.UserPassword(in.User.Username(), oldPass)
		return in.String(), nil
	case set: // the redacted mark, with nothing it may stand for
		return "", badRequest("url holds the redacted password %q but the stored URL has no password for "+
			"this scheme, host and user: send the real password", redactedMark)
	}
	return incoming, nil
}

// scrub removes a camera URL's password from text that may quote it,
// such as a stream error from the camera manager.
func scrub(text, loc string) string {
	if !isURL(loc) {
		return text
	}
	text = strings.ReplaceAll(text, loc, decode.RedactURL(loc))
	u, err := url.Parse(loc)
	if err != nil || u.User == nil {
		return text
	}
	pass, ok := u.User.Password()
	if !ok || pass == "" {
		return text
	}
	_, encoded, _ := strings.Cut(u.User.String(), ":") // as written in a URL
	for _, p := range []string{encoded, url.QueryEscape(pass), url.PathEscape(pass), pass} {
		if p != "" {
			text = strings.ReplaceAll(text, p, redactedMark)
		}
	}
	return text
}
