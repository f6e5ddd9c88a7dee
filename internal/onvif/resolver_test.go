package onvif

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-cctv/vigil/internal/sourcepolicy"
)

// Issue 16 item 4: the server POSTed SOAP to any ONVIF address, loopback
// and metadata included. Through a policy-checked client it refuses them
// at connect time, and a device cannot point its stream at one either.
func TestResolverWithPolicy(t *testing.T) {
	cam := newFakeCamera(t, camConfig{user: testUser, pass: testPass})
	u, _ := url.Parse(cam.endpoint())
	u.User = url.UserPassword(testUser, testPass)
	endpoint := u.String()

	strict, err := sourcepolicy.New(sourcepolicy.Options{AllowPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Resolver(endpoint, "", strict.HTTPClient(0), strict.Check)(testCtx(t))
	if !errors.Is(err, sourcepolicy.ErrRefused) || !strings.Contains(err.Error(), "is loopback") {
		t.Fatalf("want a loopback refusal, got %v", err)
	}
	assertNoPassword(t, err)
	cam.mu.Lock()
	reached := len(cam.calls)
	cam.mu.Unlock()
	if reached != 0 {
		t.Fatalf("the device was reached: %v", cam.calls)
	}

	loopback, err := sourcepolicy.New(sourcepolicy.Options{AllowLoopback: true})
	if err != nil {
		t.Fatal(err)
	}
	// The device's stream (192.0.2.10, documentation range) is public:
	// allowed. A stream on a private address is refused by this policy.
	uri, err := Resolver(endpoint, "", loopback.HTTPClient(0), loopback.Check)(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(uri, "rtsp://admin:") || !strings.Contains(uri, "@192.0.2.10:554/") {
		t.Fatalf("uri = %q", uri)
	}
	private := newFakeCamera(t, camConfig{user: testUser, pass: testPass, rtsp: "rtsp://10.1.1.1/live"})
	u, _ = url.Parse(private.endpoint())
	u.User = url.UserPassword(testUser, testPass)
	_, err = Resolver(u.String(), "", loopback.HTTPClient(0), loopback.Check)(testCtx(t))
	if !errors.Is(err, sourcepolicy.ErrRefused) || !strings.Contains(err.Error(), "stream address is refused") {
		t.Fatalf("want the private stream refused, got %v", err)
	}
	assertNoPassword(t, err)
}

// Without a configured profile the resolver takes the substream that
// covers the model input and reports which, and why.
func TestModelResolverPicksAndReportsTheSubstream(t *testing.T) {
	cam := newFakeCamera(t, camConfig{user: testUser, pass: testPass})
	u, _ := url.Parse(cam.endpoint())
	u.User = url.UserPassword(testUser, testPass)
	var got []Choice
	uri, err := ModelResolver(u.String(), 640, nil, nil, func(c Choice) { got = append(got, c) })(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(uri, "profile=Profile_2") || !strings.HasPrefix(uri, "rtsp://admin:") {
		t.Fatalf("uri = %q", uri)
	}
	if len(got) != 1 || got[0].Profile.Token != "Profile_2" || !strings.Contains(got[0].Reason, "covering the 640-pixel model input") {
		t.Fatalf("reported %+v", got)
	}
	if strings.Contains(got[0].Reason, testPass) {
		t.Fatal("the reason holds the password")
	}
}
