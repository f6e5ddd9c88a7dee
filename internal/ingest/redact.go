package ingest

import (
	"slices"
	"strings"

	"github.com/vigil-cctv/vigil/internal/camurl"
)

// redactor scrubs a camera's secrets from any text: the userinfo password,
// sensitive query parameters and anything a password with an unencoded
// '#' or '?' leaves behind (see package camurl). package decode already
// redacts its errors; this is a second line of defence because a leaked
// camera password in an SSE stream or a log is hard to take back.
type redactor struct {
	raw, safe string
	// also are further locations whose secrets are scrubbed: the stream
	// URLs a Resolve hook returned.
	also []string
}

func newRedactor(raw string) redactor {
	return redactor{raw: raw, safe: camurl.Redact(raw)}
}

// with returns a redactor that also scrubs loc's secrets.
func (r redactor) with(loc string) redactor {
	if loc == "" || loc == r.raw || slices.Contains(r.also, loc) {
		return r
	}
	// A camera may hand out a new URL at every reconnect (a fresh token);
	// the last few are enough, as older ones no longer reach any text.
	r.also = append(slices.Clone(r.also[max(0, len(r.also)-3):]), loc)
	return r
}

// clean redacts s and drops a leading "<url>: " that only repeats which
// camera it is: state changes already carry the camera id.
func (r redactor) clean(s string) string {
	if r.raw != "" {
		s = camurl.Scrub(s, r.raw)
	}
	for _, loc := range r.also {
		s = camurl.Scrub(s, loc)
	}
	return strings.TrimPrefix(s, r.safe+": ")
}
