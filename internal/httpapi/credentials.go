package httpapi

import (
	"net/url"
	"strings"

	"github.com/vigil-cctv/vigil/internal/camurl"
)

// redactedMark is what camurl.Redact puts in place of a secret. A client
// that sends it back as the password means "keep it".
const redactedMark = camurl.Mark

// isURL tells a stream URL from a file path: only URLs can hold
// credentials, and only they are redacted.
func isURL(loc string) bool { return camurl.IsURL(loc) }

// redactLocation is a camera location safe to show: URLs lose their
// password and sensitive query values, file paths are shown as they are.
func redactLocation(loc string) string { return camurl.Redact(loc) }

// hasPassword reports whether a location carries a secret: a password or
// a sensitive query parameter.
func hasPassword(loc string) bool { return len(camurl.Secrets(loc)) > 0 }

// keepPassword returns incoming with the stored secrets put back where
// the client sent them omitted (user only) or redacted: the password, and
// sensitive query values sent as the redacted mark. Stored secrets are
// reused only for the same scheme and host (and user, for the password):
// otherwise changing the host while sending the redacted mark would hand
// them to a server of the client's choosing. A URL with no user at all
// means "no credentials".
func keepPassword(stored, incoming string) (string, error) {
	in, err := url.Parse(incoming)
	if !isURL(incoming) || err != nil {
		return incoming, nil // validation reports malformed URLs
	}
	old, err := url.Parse(stored)
	if !isURL(stored) || err != nil {
		old = nil
	}
	sameHost := old != nil && old.Scheme == in.Scheme && strings.EqualFold(old.Host, in.Host)
	changedUser, err := keepUserPassword(in, old, sameHost)
	if err != nil {
		return "", err
	}
	changedQuery, err := keepQuerySecrets(in, old, sameHost)
	if err != nil {
		return "", err
	}
	if changedUser || changedQuery {
		return in.String(), nil
	}
	return incoming, nil
}

// keepUserPassword puts the stored password into in when in's is omitted
// or redacted; it reports whether it changed in.
func keepUserPassword(in, old *url.URL, sameHost bool) (bool, error) {
	if in.User == nil {
		return false, nil
	}
	pass, set := in.User.Password()
	if set && pass != redactedMark {
		return false, nil
	}
	var oldPass string
	oldSet := false
	if old != nil && old.User != nil {
		oldPass, oldSet = old.User.Password()
	}
	switch {
	case oldSet && sameHost && old.User.Username() == in.User.Username():
		in.User = url.UserPassword(in.User.Username(), oldPass)
		return true, nil
	case set: // the redacted mark, with nothing it may stand for
		return false, badRequest("url holds the redacted password %q but the stored URL has no password for "+
			"this scheme, host and user: send the real password", redactedMark)
	}
	return false, nil
}

// keepQuerySecrets puts stored values back into sensitive query
// parameters sent as the redacted mark; it reports whether it changed in.
func keepQuerySecrets(in, old *url.URL, sameHost bool) (bool, error) {
	if in.RawQuery == "" {
		return false, nil
	}
	var stored url.Values
	if old != nil && sameHost {
		stored, _ = url.ParseQuery(old.RawQuery)
	}
	params := strings.Split(in.RawQuery, "&")
	changed := false
	for i, kv := range params {
		k, v, _ := strings.Cut(kv, "=")
		name, err := url.QueryUnescape(k)
		if err != nil || v != redactedMark || !camurl.SensitiveParam(name) {
			continue
		}
		if !stored.Has(name) {
			return false, badRequest("url holds the redacted value %q for query parameter %q but the stored URL "+
				"has none for this scheme and host: send the real value", redactedMark, name)
		}
		params[i] = k + "=" + url.QueryEscape(stored.Get(name))
		changed = true
	}
	in.RawQuery = strings.Join(params, "&")
	return changed, nil
}

// scrub removes a camera URL's secrets from text that may quote it, such
// as a stream error from the camera manager.
func scrub(text, loc string) string { return camurl.Scrub(text, loc) }
