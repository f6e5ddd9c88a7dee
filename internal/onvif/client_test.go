package onvif

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const (
	testUser = "admin"
	// A password with characters that need escaping in URLs and XML, and
	// distinctive enough to spot anywhere it leaks.
	testPass = "S3cr&t:p@ss/w?rd"
)

const wantRTSP = "rtsp://192.0.2.10:554/Streaming/Channels/101?transportmode=unicast&profile=Profile_1"

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // hang guard
	t.Cleanup(cancel)
	return ctx
}

func clientFor(cam *fakeCamera, pass string) *Client {
	return &Client{Endpoint: cam.endpoint(), Username: testUser, Password: pass}
}

// assertNoPassword fails if err's message leaks the password in any form.
func assertNoPassword(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	for _, leak := range []string{testPass, "S3cr", "p@ss", "S3cr%26t"} {
		if strings.Contains(msg, leak) {
			t.Fatalf("error leaks the password (%q): %s", leak, msg)
		}
	}
}

func TestPasswordDigestKnownVector(t *testing.T) {
	// Worked example from the ONVIF Application Programmer's Guide.
	nonce, _ := base64.StdEncoding.DecodeString("LKqI6G/AikKCQrN0zqZFlg==")
	got := passwordDigest(nonce, "2010-09-16T07:50:45Z", "userpassword")
	if want := "tuOSpGlFlIXsozq4HFNeeGeFLEI="; got != want {
		t.Fatalf("digest = %s, want %s", got, want)
	}
}

func TestStreamURIMedia1ViaGetServices(t *testing.T) {
	cam := newFakeCamera(t, camConfig{user: testUser, pass: testPass})
	c := clientFor(cam, testPass)
	uri, err := c.StreamURI(testCtx(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if uri != wantRTSP {
		t.Fatalf("uri = %q, want %q", uri, wantRTSP)
	}
	// The audio-only first profile was skipped, and the LAN-address XAddr
	// was reached through the test server's host.
	if n := cam.count("/onvif/Media GetStreamUri"); n != 1 {
		t.Fatalf("Media1 GetStreamUri calls = %d, want 1", n)
	}
	if n := cam.count("/onvif/device_service GetCapabilities"); n != 0 {
		t.Fatalf("GetCapabilities called %d times although GetServices worked", n)
	}
}

func TestStreamURIFallsBackToGetCapabilities(t *testing.T) {
	cam := newFakeCamera(t, camConfig{user: testUser, pass: testPass, noGetServices: true})
	uri, err := clientFor(cam, testPass).StreamURI(testCtx(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if uri != wantRTSP {
		t.Fatalf("uri = %q", uri)
	}
	if cam.count("/onvif/device_service GetCapabilities") != 1 {
		t.Fatal("GetCapabilities not used as the fallback")
	}
}

func TestStreamURIPrefersMedia2(t *testing.T) {
	cam := newFakeCamera(t, camConfig{user: testUser, pass: testPass, media2: true})
	c := clientFor(cam, testPass)
	ctx := testCtx(t)
	profiles, err := c.GetProfiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := Profile{Token: "Profile_1", Name: "mainStream", Encoding: "H265", Width: 3840, Height: 2160}
	if len(profiles) != 1 || profiles[0] != want {
		t.Fatalf("profiles = %+v, want [%+v]", profiles, want)
	}
	uri, err := c.StreamURI(ctx, "")
	if err != nil || uri != wantRTSP {
		t.Fatalf("StreamURI = %q, %v", uri, err)
	}
	if cam.count("/onvif/Media2 GetStreamUri") != 1 || cam.count("/onvif/Media GetStreamUri") != 0 {
		t.Fatal("Media2 not preferred")
	}
	if cam.count("/onvif/device_service GetServices") != 1 {
		t.Fatal("media services not cached")
	}
}

func TestStreamURIFallsBackFromBrokenMedia2(t *testing.T) {
	cam := newFakeCamera(t, camConfig{user: testUser, pass: testPass, media2Broken: true})
	uri, err := clientFor(cam, testPass).StreamURI(testCtx(t), "")
	if err != nil || uri != wantRTSP {
		t.Fatalf("StreamURI = %q, %v", uri, err)
	}
	if cam.count("/onvif/Media2 GetProfiles") != 1 || cam.count("/onvif/Media GetStreamUri") != 1 {
		t.Fatal("expected one Media2 attempt, then Media1")
	}
}

func TestGetProfilesMedia1(t *testing.T) {
	cam := newFakeCamera(t, camConfig{user: testUser, pass: testPass})
	profiles, err := clientFor(cam, testPass).GetProfiles(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []Profile{
		{Token: "AudioOnly", Name: "audio"},
		{Token: "Profile_1", Name: "mainStream", Encoding: "H264", Width: 2560, Height: 1440},
		{Token: "Profile_2", Name: "subStream", Encoding: "H264", Width: 640, Height: 360},
	}
	if len(profiles) != len(want) {
		t.Fatalf("profiles = %+v", profiles)
	}
	for i := range want {
		if profiles[i] != want[i] {
			t.Fatalf("profile %d = %+v, want %+v", i, profiles[i], want[i])
		}
	}
}

func TestStreamURIByTokenAndName(t *testing.T) {
	cam := newFakeCamera(t, camConfig{user: testUser, pass: testPass})
	c := clientFor(cam, testPass)
	ctx := testCtx(t)
	sub := strings.Replace(wantRTSP, "Profile_1", "Profile_2", 1)
	for _, profile := range []string{"Profile_2", "SUBSTREAM"} {
		uri, err := c.StreamURI(ctx, profile)
		if err != nil || uri != sub {
			t.Fatalf("StreamURI(%q) = %q, %v", profile, uri, err)
		}
	}
	_, err := c.StreamURI(ctx, "nope")
	if !errors.Is(err, ErrNoProfile) || !strings.Contains(err.Error(), "Profile_2") {
		t.Fatalf("unknown profile: %v", err)
	}
}

func TestGetStreamURIFault(t *testing.T) {
	cam := newFakeCamera(t, camConfig{user: testUser, pass: testPass})
	_, err := clientFor(cam, testPass).GetStreamURI(testCtx(t), "missing")
	var f *Fault
	if !errors.As(err, &f) || !f.Has("NoProfile") || !f.Has("ter:InvalidArgVal") {
		t.Fatalf("want NoProfile fault, got %v", err)
	}
	if errors.Is(err, ErrNotAuthorized) {
		t.Fatal("NoProfile must not count as an auth failure")
	}
}

func TestStreamURIWithCredentials(t *testing.T) {
	cam := newFakeCamera(t, camConfig{user: testUser, pass: testPass})
	c := clientFor(cam, testPass)
	plain, err := c.StreamURI(testCtx(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain, "@") {
		t.Fatalf("credentials inserted without being asked: %s", plain)
	}
	uri, err := c.StreamURIWithCredentials(testCtx(t), "")
	if err != nil {
		t.Fatal(err)
	}
	want := "rtsp://admin:S3cr&t%3Ap%40ss%2Fw%3Frd@192.0.2.10:554/Streaming/Channels/101?transportmode=unicast&profile=Profile_1"
	if uri != want {
		t.Fatalf("uri = %q, want %q", uri, want)
	}
}

func TestInjectCredentials(t *testing.T) {
	got, err := InjectCredentials("rtsp://old:creds@cam:554/live", "u", "p w")
	if err != nil || got != "rtsp://u:p%20w@cam:554/live" {
		t.Fatalf("got %q, %v", got, err)
	}
	if got, _ := InjectCredentials("rtsp://cam/live", "", "x"); got != "rtsp://cam/live" {
		t.Fatalf("empty user changed the URI: %q", got)
	}
	_, err = InjectCredentials("::not a url", "u", testPass)
	if err == nil {
		t.Fatal("want error for invalid URI")
	}
	assertNoPassword(t, err)
}

func TestEndpointCredentials(t *testing.T) {
	cam := newFakeCamera(t, camConfig{user: testUser, pass: testPass})
	ep := strings.Replace(cam.endpoint(), "http://", "http://admin:S3cr%26t%3Ap%40ss%2Fw%3Frd@", 1)
	uri, err := (&Client{Endpoint: ep}).StreamURI(testCtx(t), "")
	if err != nil || uri != wantRTSP {
		t.Fatalf("StreamURI = %q, %v", uri, err)
	}
}

func TestWrongPassword(t *testing.T) {
	cam := newFakeCamera(t, camConfig{user: testUser, pass: "other", echoPassword: true})
	_, err := clientFor(cam, testPass).StreamURI(testCtx(t), "")
	if !errors.Is(err, ErrNotAuthorized) {
		t.Fatalf("want ErrNotAuthorized, got %v", err)
	}
	var f *Fault
	if !errors.As(err, &f) || !f.Has("ter:NotAuthorized") || f.HTTPStatus != http.StatusBadRequest {
		t.Fatalf("want NotAuthorized fault, got %#v", f)
	}
	if !strings.Contains(err.Error(), "NotAuthorized") || !strings.Contains(err.Error(), "username and password") {
		t.Fatalf("unclear message: %s", err)
	}
	assertNoPassword(t, err)
	// One clock sync, and no second try: the clocks agree, so retrying
	// would only count towards the camera's lockout.
	if n := cam.count("/onvif/device_service GetServices"); n != 1 {
		t.Fatalf("GetServices sent %d times, want 1", n)
	}
	if n := cam.count("/onvif/device_service GetSystemDateAndTime"); n != 1 {
		t.Fatalf("GetSystemDateAndTime sent %d times, want 1", n)
	}
}

func TestFaultReasonIsRedacted(t *testing.T) {
	// The camera echoes the password it expected, which here is the right
	// one: a buggy device must not leak it through us.
	cam := newFakeCamera(t, camConfig{user: "someone-else", pass: testPass, echoPassword: true})
	_, err := clientFor(cam, testPass).GetProfiles(testCtx(t))
	if err == nil {
		t.Fatal("want error")
	}
	assertNoPassword(t, err)
	var f *Fault
	if errors.As(err, &f) && strings.Contains(f.Reason, testPass) {
		t.Fatalf("Fault.Reason leaks the password: %s", f.Reason)
	}
}

func TestClockSkewRetry(t *testing.T) {
	for _, skew := range []time.Duration{time.Hour, -37 * time.Minute} {
		cam := newFakeCamera(t, camConfig{user: testUser, pass: testPass, skew: skew})
		c := clientFor(cam, testPass)
		uri, err := c.StreamURI(testCtx(t), "")
		if err != nil || uri != wantRTSP {
			t.Fatalf("skew %v: StreamURI = %q, %v", skew, uri, err)
		}
		if n := cam.count("/onvif/device_service GetSystemDateAndTime"); n != 1 {
			t.Fatalf("skew %v: %d clock syncs, want 1 (offset must be kept)", skew, n)
		}
		if n := cam.count("/onvif/device_service GetServices"); n != 2 {
			t.Fatalf("skew %v: GetServices sent %d times, want 2 (rejected, then retried)", skew, n)
		}
		if d := absDuration(c.clockOffset() - skew); d > 2*time.Second {
			t.Fatalf("skew %v: measured offset %v", skew, c.clockOffset())
		}
	}
}

func TestClientClockIsUsed(t *testing.T) {
	// A wrong local clock is the same problem seen from the other side.
	cam := newFakeCamera(t, camConfig{user: testUser, pass: testPass})
	c := clientFor(cam, testPass)
	c.Clock = func() time.Time { return time.Now().Add(-3 * time.Hour) }
	if _, err := c.StreamURI(testCtx(t), ""); err != nil {
		t.Fatal(err)
	}
}

func TestGetSystemDateAndTime(t *testing.T) {
	cam := newFakeCamera(t, camConfig{user: testUser, pass: testPass, skew: 24 * time.Hour})
	got, err := clientFor(cam, "wrong").GetSystemDateAndTime(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if d := absDuration(time.Until(got) - 24*time.Hour); d > 2*time.Second {
		t.Fatalf("device time %v is off by %v", got, d)
	}
}

func TestGetCapabilities(t *testing.T) {
	cam := newFakeCamera(t, camConfig{user: testUser, pass: testPass})
	caps, err := clientFor(cam, testPass).GetCapabilities(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if caps.Media != "http://192.0.2.10/onvif/Media" || caps.Events == "" || caps.PTZ != "" {
		t.Fatalf("caps = %+v", caps)
	}
}

func TestGetServices(t *testing.T) {
	cam := newFakeCamera(t, camConfig{user: testUser, pass: testPass, media2: true})
	svcs, err := clientFor(cam, testPass).GetServices(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(svcs) != 4 || svcs[3] != (Service{Namespace: nsMedia2, XAddr: "http://192.0.2.10/onvif/Media2", Major: 17, Minor: 12}) {
		t.Fatalf("services = %+v", svcs)
	}
}

func TestNetworkErrorHidesPassword(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	for _, c := range []*Client{
		{Endpoint: "http://" + addr + "/onvif/device_service", Username: testUser, Password: testPass},
		{Endpoint: "http://admin:S3cr%26t%3Ap%40ss%2Fw%3Frd@" + addr + "/onvif/device_service"},
	} {
		_, err := c.StreamURIWithCredentials(testCtx(t), "")
		if err == nil {
			t.Fatal("want error")
		}
		assertNoPassword(t, err)
	}
	_, err = (&Client{Endpoint: "::bad admin:" + testPass}).StreamURI(testCtx(t), "")
	if err == nil {
		t.Fatal("want error for a bad endpoint")
	}
	assertNoPassword(t, err)
}

func TestHTTPUnauthorized(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Digest realm="IP Camera", nonce="x", qop="auth"`)
		http.Error(w, "<html>401 Unauthorized</html>", http.StatusUnauthorized)
	}))
	defer srv.Close()
	c := &Client{Endpoint: srv.URL + "/onvif/device_service", Username: testUser, Password: testPass}
	_, err := c.GetProfiles(testCtx(t))
	var h *HTTPError
	if !errors.Is(err, ErrNotAuthorized) || !errors.As(err, &h) || h.StatusCode != 401 {
		t.Fatalf("want HTTP 401 as ErrNotAuthorized, got %v", err)
	}
	assertNoPassword(t, err)
}

func TestDecodeFaults(t *testing.T) {
	soap11 := `<?xml version="1.0"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><SOAP-ENV:Fault>` +
		`<faultcode>SOAP-ENV:Client</faultcode><faultstring>Authority failure</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>`
	_, err := decodeResponse[getStreamURIResponse]([]byte(soap11), 500)
	var f *Fault
	if !errors.As(err, &f) || f.Code != "SOAP-ENV:Client" || f.Reason != "Authority failure" {
		t.Fatalf("SOAP 1.1 fault: %#v", err)
	}
	expired := envelopeHead + `<env:Fault><env:Code><env:Value>env:Sender</env:Value><env:Subcode><env:Value>wsse:MessageExpired</env:Value></env:Subcode></env:Code>` +
		`<env:Reason><env:Text xml:lang="en">expired</env:Text></env:Reason></env:Fault>` + envelopeTail
	_, err = decodeResponse[getStreamURIResponse]([]byte(expired), 200)
	if !errors.Is(err, ErrNotAuthorized) {
		t.Fatalf("MessageExpired should be an auth failure: %v", err)
	}
	if _, err := decodeResponse[getStreamURIResponse]([]byte("<html>oops</html>"), 502); err == nil {
		t.Fatal("want error for HTML 502")
	}
	wrong := envelopeHead + `<trt:GetProfilesResponse/>` + envelopeTail
	if _, err := decodeResponse[getStreamURIResponse]([]byte(wrong), 200); err == nil {
		t.Fatal("want error for the wrong response element")
	}
}

func TestEnvelopeEscapesUsername(t *testing.T) {
	tok, err := newToken(`a<b&"c`, "hunter-2", time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if tok.Created != "2024-01-02T03:04:05Z" {
		t.Fatalf("created = %s", tok.Created)
	}
	env := string(buildEnvelope(&tok, "<tds:GetServices/>"))
	if !strings.Contains(env, "a&lt;b&amp;&#34;c") || strings.Contains(env, "hunter-2") {
		t.Fatalf("envelope: %s", env)
	}
}
