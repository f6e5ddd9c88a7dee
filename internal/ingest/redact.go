package ingest

import (
	"net/url"
	"strings"

	"github.com/vigil-cctv/vigil/internal/decode"
)

// redactor scrubs a camera URL's password from any text. package decode
// already redacts its errors; this is a second line of defence because a
// leaked camera password in an SSE stream or a log is hard to take back.
type redactor struct {
	raw, safe string
	secrets   []string
}

func newRedactor(raw string) redactor {
	r := redactor{raw: raw, safe: raw}
	if strings.Contains(raw, "://") {
		r.safe = decode.RedactURL(raw)
	}
	if pw := password(raw); pw != "" {
		r.secrets = append(r.secrets, pw)
		if dec, err := url.PathUnescape(pw); err == nil && dec != pw {
			r.secrets = append(r.secrets, dec)
		}
	}
	return r
}

// password finds the userinfo password by hand rather than with url.Parse,
// so that a URL too malformed to parse still has its secret removed.
func password(raw string) string {
	i := strings.Index(raw, "://")
	if i < 0 {
		return ""
	}
	authority, _, _ := strings.Cut(raw[i+3:], "/")
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return ""
	}
	_, pw, _ := strings.Cut(authority[:at], ":")
	return pw
}

// clean redacts s and drops a leading "<url>: " that only repeats which
// camera it is: state changes already carry the camera id.
func (r redactor) clean(s string) string {
	if r.raw != "" {
		s = strings.ReplaceAll(s, r.raw, r.safe)
	}
	for _, pw := range r.secrets {
		s = strings.ReplaceAll(s, pw, "xxxxx")
	}
	return strings.TrimPrefix(s, r.safe+": ")
}
