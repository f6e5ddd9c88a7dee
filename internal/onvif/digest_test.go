package onvif

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// digestOK checks an Authorization header the way the fake camera's
// firmware would, computing the response independently of digest.go.
func (cam *fakeCamera) digestOK(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	if !strings.HasPrefix(h, "Digest ") {
		return false
	}
	p := map[string]string{}
	for _, m := range regexp.MustCompile(`(\w+)=("([^"]*)"|[^,\s]+)`).FindAllStringSubmatch(h, -1) {
		v := m[2]
		if m[3] != "" || strings.HasPrefix(v, `"`) {
			v = m[3]
		}
		p[m[1]] = v
	}
	md := func(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }
	ha1 := md(cam.user + ":IP Camera(21A88):" + cam.pass)
	ha2 := md(r.Method + ":" + r.URL.RequestURI())
	want := md(ha1 + ":4e6b4d3a5f2b:" + p["nc"] + ":" + p["cnonce"] + ":auth:" + ha2)
	return p["username"] == cam.user && p["uri"] == r.URL.RequestURI() && p["qop"] == "auth" &&
		p["opaque"] == "c0ffee" && p["response"] == want
}

// TestDigestRFC2617Vector is the worked example of RFC 2617 section 3.5.
func TestDigestRFC2617Vector(t *testing.T) {
	c, err := parseChallenge([]string{`Basic realm="x"`, `Digest realm="testrealm@host.com", qop="auth,auth-int", ` +
		`nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"`})
	if err != nil {
		t.Fatal(err)
	}
	got := c.authorization("GET", "/dir/index.html", "Mufasa", "Circle Of Life", "0a4f113b")
	if !strings.Contains(got, `response="6629fae49393a05397450978507c4ef1"`) {
		t.Fatalf("authorization = %s", got)
	}
	for _, want := range []string{`qop=auth`, `nc=00000001`, `opaque="5ccc069c403ebaf9f0171e9517f40e41"`, `algorithm=MD5`} {
		if !strings.Contains(got, want) {
			t.Fatalf("authorization lacks %s: %s", want, got)
		}
	}
}

func TestParseChallenge(t *testing.T) {
	for _, tc := range []struct {
		name, header string
		wantErr      string
		qop          bool
		alg          string
	}{
		{"sha-256", `Digest realm="r", nonce="n", algorithm=SHA-256, qop="auth"`, "", true, "SHA-256"},
		{"no qop", `digest realm="r", nonce="n"`, "", false, "MD5"},
		{"comma in realm", `Digest realm="a, b", nonce="n", qop="auth-int"`, "", false, "MD5"},
		{"no nonce", `Digest realm="r"`, "without a nonce", false, ""},
		{"sess", `Digest nonce="n", algorithm=MD5-sess`, "not supported", false, ""},
		{"basic only", `Basic realm="r"`, "no Digest challenge", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseChallenge([]string{tc.header})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || c.qopAuth != tc.qop || c.algorithm != tc.alg || c.nonce != "n" {
				t.Fatalf("got %+v, %v", c, err)
			}
		})
	}
	c, _ := parseChallenge([]string{`Digest realm="a, b", nonce="n"`})
	if c.realm != "a, b" {
		t.Fatalf("realm = %q", c.realm)
	}
}

func TestStreamURIOverHTTPDigest(t *testing.T) {
	cam := newFakeCamera(t, camConfig{user: testUser, pass: testPass, httpDigest: true})
	uri, err := clientFor(cam, testPass).StreamURI(testCtx(t), "")
	if err != nil || uri != wantRTSP {
		t.Fatalf("uri %q, err %v", uri, err)
	}
	_, err = clientFor(cam, "wrong").StreamURI(testCtx(t), "")
	if !errors.Is(err, ErrNotAuthorized) {
		t.Fatalf("wrong password: want ErrNotAuthorized, got %v", err)
	}
	assertNoPassword(t, err)
}

func FuzzParseChallenge(f *testing.F) {
	f.Add(`Digest realm="r", nonce="n", qop="auth"`)
	f.Add(`Digest nonce="n", algorithm=SHA-256, opaque="o,p"`)
	f.Add(`Digest "`)
	f.Fuzz(func(t *testing.T, h string) {
		c, err := parseChallenge([]string{h})
		if err != nil {
			return
		}
		if c.nonce == "" || (c.algorithm != "MD5" && c.algorithm != "SHA-256") {
			t.Fatalf("accepted %+v", c)
		}
		if a := c.authorization("POST", "/onvif/device_service", "u", "p", "c"); !strings.HasPrefix(a, "Digest ") {
			t.Fatalf("authorization %q", a)
		}
	})
}
