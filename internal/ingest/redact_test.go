package ingest

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Issue 16 item 8: a password in the query string or with an unencoded '#'
// appeared in full in every state log line.
func TestRedactorScrubsQueryAndHashPasswords(t *testing.T) {
	for _, c := range []struct{ url, secret string }{
		{"rtsp://10.0.0.5/live?user=admin&password=Qq12345", "Qq12345"},
		{"rtsp://admin:Ab#cd9@10.0.0.5/live", "Ab#cd9"},
		{"rtsp://admin:Ab%23cd9@10.0.0.5/live?token=Tok987", "Tok987"},
	} {
		r := newRedactor(c.url)
		out := r.clean("open " + c.url + ": 401 for " + c.secret)
		require.NotContains(t, out, c.secret, c.url)
		require.NotContains(t, r.safe, c.secret, c.url)
	}
	r := newRedactor("http://10.0.0.5/onvif").with("rtsp://u:Res0lved@10.0.0.5/s")
	require.Equal(t, "rtsp://u:xxxxx@10.0.0.5/s failed", r.clean("rtsp://u:Res0lved@10.0.0.5/s failed"))
}
