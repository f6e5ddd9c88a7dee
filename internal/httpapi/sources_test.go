package httpapi

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/sourcepolicy"
)

// Issue 16 item 4: through the API a camera could read any local path and
// make the server connect anywhere. With the policy wired, files come only
// from allowed folders (one answer for missing and forbidden) and
// loopback, link-local and metadata addresses are refused.
func TestCameraSourcePolicy(t *testing.T) {
	allowed := t.TempDir()
	video := filepath.Join(allowed, "gate.mp4")
	require.NoError(t, os.WriteFile(video, []byte("x"), 0o600))
	policy, err := sourcepolicy.New(sourcepolicy.Options{AllowDirs: []string{allowed}, AllowPrivate: true})
	require.NoError(t, err)
	hs := newHarness(t, Options{})
	hs.h = New(Deps{Store: hs.store, Cameras: hs.cams, Sources: policy, Logger: newTestLogger(hs.logs), Auth: hs.auth.svc}, Options{})

	readJSON[cameraView](t, hs.do("POST", "/api/v1/cameras", `{"id":"ok","url":"`+video+`"}`), http.StatusCreated)
	readJSON[cameraView](t, hs.do("POST", "/api/v1/cameras", `{"id":"lan","url":"rtsp://admin:pw@10.0.0.5/live"}`), http.StatusCreated)
	// A replay source opens and reaches nothing: allowed; a malformed one
	// is a bad request naming what is wrong, not a refused file path.
	readJSON[cameraView](t, hs.do("POST", "/api/v1/cameras", `{"id":"rp","url":"replay:frames=100,size=48x32"}`), http.StatusCreated)
	bad := hs.do("POST", "/api/v1/cameras", `{"id":"rq","url":"replay:frames=0"}`)
	require.Equal(t, http.StatusBadRequest, bad.Code, bad.Body.String())
	require.Contains(t, bad.Body.String(), "frames")
	var msgs []string
	for _, url := range []string{"/etc/passwd", filepath.Join(allowed, "missing.mp4"), filepath.Join(allowed, "..")} {
		e := requireError(t, hs.do("POST", "/api/v1/cameras", `{"id":"f","url":"`+url+`"}`), http.StatusForbidden, codeSourceRefused)
		msgs = append(msgs, e.Error.Message)
	}
	require.Equal(t, msgs[0], msgs[1])
	require.Equal(t, msgs[0], msgs[2])
	for url, want := range map[string]string{
		"http://admin:S3cret@127.0.0.1:8080/onvif/device_service": "is loopback",
		"http://169.254.169.254/latest":                           "metadata",
		"rtsp://[::1]:22/":                                        "is loopback",
	} {
		e := requireError(t, hs.do("POST", "/api/v1/cameras", `{"id":"n","url":"`+url+`"}`), http.StatusForbidden, codeSourceRefused)
		require.Contains(t, e.Error.Message, want)
		require.NotContains(t, e.Error.Message, "S3cret")
	}
	// An update that moves a camera to a refused address is refused too;
	// one that keeps its location is not re-checked.
	requireError(t, hs.do("PUT", "/api/v1/cameras/lan", `{"url":"rtsp://127.0.0.1/live"}`), http.StatusForbidden, codeSourceRefused)
	readJSON[cameraView](t, hs.do("PUT", "/api/v1/cameras/lan", `{"name":"Lane"}`), http.StatusOK)
	c, err := hs.store.GetCamera(context.Background(), "lan")
	require.NoError(t, err)
	require.Equal(t, "rtsp://admin:pw@10.0.0.5/live", c.URL)
}

// Issue 16 item 6: there was no cap on cameras created through the API.
func TestCameraLimit(t *testing.T) {
	hs := newHarness(t, Options{MaxCameras: 2})
	readJSON[cameraView](t, hs.do("POST", "/api/v1/cameras", `{"id":"a","url":"rtsp://h/"}`), http.StatusCreated)
	readJSON[cameraView](t, hs.do("POST", "/api/v1/cameras", `{"id":"b","url":"rtsp://h/"}`), http.StatusCreated)
	e := requireError(t, hs.do("POST", "/api/v1/cameras", `{"id":"c","url":"rtsp://h/"}`), http.StatusTooManyRequests, codeLimit)
	require.Contains(t, e.Error.Message, "already has 2 cameras")
	require.Contains(t, e.Error.Message, "limits.max_cameras")
	hs.do("DELETE", "/api/v1/cameras/a", "")
	readJSON[cameraView](t, hs.do("POST", "/api/v1/cameras", `{"id":"c","url":"rtsp://h/"}`), http.StatusCreated)
}
