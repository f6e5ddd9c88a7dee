package camurl

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

const secret = "S3cr#t"

// Issue 16 item 8: passwords in the query string or with an unencoded '#'
// appeared in full in the API and in every state log line.
func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"rtsp://admin:pw@10.0.0.5:554/live":                     "rtsp://admin:xxxxx@10.0.0.5:554/live",
		"rtsp://admin:" + secret + "@10.0.0.5/live":             "rtsp://admin:xxxxx@10.0.0.5/live",
		"rtsp://admin:12#ab@10.0.0.5/live":                      "rtsp://admin:xxxxx@10.0.0.5/live",
		"rtsp://admin:12/ab@10.0.0.5/live":                      "rtsp://admin:xxxxx@10.0.0.5/live",
		"rtsp://admin:12?x=@10.0.0.5/live":                      "rtsp://admin:xxxxx@10.0.0.5/live",
		"rtsp://10.0.0.5/live?user=admin&password=hunter2&ch=1": "rtsp://10.0.0.5/live?user=admin&password=xxxxx&ch=1",
		"http://cam/onvif?Token=abc&apiKey=k1&auth_sig=z&x=y":   "http://cam/onvif?Token=xxxxx&apiKey=xxxxx&auth_sig=xxxxx&x=y",
		"rtsp://cam/live?pwd=a%20b":                             "rtsp://cam/live?pwd=xxxxx",
		"rtsp://cam/live#frag":                                  "rtsp://cam/live#xxxxx",
		"rtsp://user@cam/live":                                  "rtsp://user@cam/live",
		"rtsp://cam/a@b":                                        "rtsp://cam/a@b",
		"rtsp://[::1":                                           "rtsp://<unparsable>",
		"/data/videos/gate.mp4":                                 "/data/videos/gate.mp4",
		"rtsp://u:p@h/x?session=abc#s@x":                        "rtsp://u:xxxxx@x",
	} {
		require.Equal(t, want, Redact(in), in)
	}
}

func TestScrubFindsEveryForm(t *testing.T) {
	loc := "rtsp://admin:p%40ss%23w@10.0.0.5/live?token=t%2Bk&x=1"
	text := "dial rtsp://admin:p%40ss%23w@10.0.0.5/live?token=t%2Bk&x=1 failed; auth p@ss#w rejected, token t+k, " +
		"query token=t%2Bk, path p%40ss%23w"
	out := Scrub(text, loc)
	for _, s := range []string{"p@ss#w", "p%40ss%23w", "t+k", "t%2Bk"} {
		require.NotContains(t, out, s)
	}
	require.Contains(t, out, "rtsp://admin:xxxxx@10.0.0.5/live?token=xxxxx&x=1")
	require.Equal(t, "no secret here", Scrub("no secret here", "/a/file"))
}

// Issue 16 item 8: "invalid port \":S3cr\"" quoted the start of the
// password; errors now name the kind of problem only.
func TestParseErrorsNeverEcho(t *testing.T) {
	for _, s := range []string{
		"rtsp://admin:" + secret + "@10.0.0.5/live", "rtsp://admin:S3cr@host:x/", "http://u:S3cr\x7f@h/", "rtsp://u:S3cr%zz@h/",
		"rtsp://[::1:S3cr", "://S3cr",
	} {
		_, err := Parse(s)
		if err != nil {
			require.NotContains(t, err.Error(), "S3cr", s)
			require.True(t, strings.HasPrefix(err.Error(), "not a valid URL ("), err.Error())
		}
		if err := ValidateRTSP(s); err != nil {
			require.NotContains(t, err.Error(), "S3cr", s)
		}
	}
	_, err := Parse("rtsp://admin:S3cr@host:x/")
	require.EqualError(t, err, "not a valid URL (invalid port after host)")
	require.EqualError(t, ValidateRTSP("rtsp://admin:"+secret+"@10.0.0.5/live"),
		"stream URL rtsp://admin:xxxxx@10.0.0.5/live: the user or password holds an unencoded '#', '?', '/' or '@'; percent-encode it")
	require.NoError(t, ValidateRTSP("rtsp://admin:S3cr%23t@10.0.0.5:554/live"))
	require.EqualError(t, ValidateRTSP("http://h/"), `unsupported stream URL scheme "http" in http://h/ (want rtsp or rtsps)`)
}

// Whatever the password, it never survives redaction or scrubbing.
func TestRedactHidesAnyPassword(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		pw := rapid.StringMatching(`[A-Za-z0-9#?/:@!$&'()*+,;=%._~-]{6,20}`).Draw(t, "password")
		if !strings.ContainsAny(pw, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			pw += "Q"
		}
		path := rapid.StringMatching(`(/[a-z0-9]{1,6}){0,3}`).Draw(t, "path")
		loc := "rtsp://admin:" + pw + "@10.1.2.3:554" + path
		require.NotContains(t, Redact(loc), pw)
		require.NotContains(t, Scrub("error: "+loc+" and "+pw, loc), pw)
		if _, err := Parse(loc); err != nil {
			require.NotContains(t, err.Error(), pw)
		}
		if err := ValidateRTSP(loc); err != nil {
			require.NotContains(t, err.Error(), pw)
		}
	})
}

func FuzzRedact(f *testing.F) {
	for _, s := range []string{"rtsp://a:b@c/d?password=e#f", "rtsp://a:b#c@d", "x", "rtsp://", "http://@/?&=#"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 4096 {
			return
		}
		r := Redact(s)
		p, ok := split(s)
		if ok && p.hasPass && len(p.password) >= 4 && !strings.Contains(Mark+p.user+p.rest, p.password) {
			require.NotContains(t, r, p.password)
		}
		_ = Scrub(s, s)
		_ = ValidateRTSP(s)
	})
}
