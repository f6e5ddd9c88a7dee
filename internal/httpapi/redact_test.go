package httpapi

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// Issue 16 item 8: a password in the query string or with an unencoded
// '#' appeared in full in the API, and a URL parse error quoted the start
// of the password (invalid port ":S3cr").
func TestCameraQueryAndHashSecretsNeverShown(t *testing.T) {
	hs := newHarness(t, Options{})
	const qsecret = "Qs3cret99"
	url := "rtsp://10.0.0.5/live?user=admin&password=" + qsecret
	c := readJSON[cameraView](t, hs.do("POST", "/api/v1/cameras", `{"id":"cam","url":"`+url+`"}`), http.StatusCreated)
	require.Equal(t, "rtsp://10.0.0.5/live?user=admin&password=xxxxx", c.URL)
	require.True(t, c.HasCredentials)
	hs.cams.setStatus(CameraStatus{ID: "cam", State: CameraFailed, Reason: "ffmpeg: " + url + ": 401 (" + qsecret + ")"})
	bodies := []string{
		hs.do("GET", "/api/v1/cameras", "").Body.String(),
		hs.do("GET", "/api/v1/cameras/cam/status", "").Body.String(),
		// Sending back what GET showed keeps the stored value.
		hs.do("PUT", "/api/v1/cameras/cam", `{"url":"rtsp://10.0.0.5/live?user=admin&password=xxxxx","name":"n"}`).Body.String(),
	}
	stored, err := hs.store.GetCamera(context.Background(), "cam")
	require.NoError(t, err)
	require.Equal(t, url, stored.URL)
	// ... but not towards another host.
	e := requireError(t, hs.do("PUT", "/api/v1/cameras/cam", `{"url":"rtsp://evil.example/live?password=xxxxx"}`),
		http.StatusBadRequest, codeBadRequest)
	require.Contains(t, e.Error.Message, `query parameter "password"`)

	for _, body := range []string{
		`{"id":"h1","url":"rtsp://admin:S3cr#t@10.0.0.5/live"}`,
		`{"id":"h2","url":"rtsp://admin:S3cr@10.0.0.5:x/live"}`,
		`{"id":"h3","url":"http://admin:S3cr#t@10.0.0.9/onvif/device_service"}`,
	} {
		w := hs.do("POST", "/api/v1/cameras", body)
		require.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
		bodies = append(bodies, w.Body.String())
	}
	for i, b := range bodies {
		require.NotContains(t, b, qsecret, "response %d", i)
		require.NotContains(t, b, "S3cr", "response %d: %s", i, b)
	}
	require.NotContains(t, hs.logs.String(), qsecret)
	require.NotContains(t, hs.logs.String(), "S3cr")
}
