package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const secret = "s3cr3t-Pa55"

func TestCameraCRUD(t *testing.T) {
	hs := newHarness(t, Options{})
	w := hs.do("POST", "/api/v1/cameras", `{"id":"gate-1","name":"Gate","url":"rtsp://admin:`+secret+`@10.0.0.5:554/live","fps":10}`)
	c := readJSON[cameraView](t, w, http.StatusCreated)
	require.Equal(t, "/api/v1/cameras/gate-1", w.Header().Get("Location"))
	require.Equal(t, "rtsp://admin:xxxxx@10.0.0.5:554/live", c.URL)
	require.True(t, c.HasCredentials)
	require.Equal(t, "rtsp", c.Kind)
	require.True(t, c.Enabled, "enabled by default")
	require.False(t, c.Created.IsZero())
	require.Len(t, hs.cams.applied, 1)
	require.Contains(t, hs.cams.applied[0].URL, secret, "the manager gets the real URL")

	requireError(t, hs.do("POST", "/api/v1/cameras", `{"id":"gate-1","url":"rtsp://h/x"}`), http.StatusConflict, codeConflict)

	hs.cams.setStatus(CameraStatus{ID: "gate-1", State: CameraStreaming})
	list := readJSON[struct{ Cameras []cameraView }](t, hs.do("GET", "/api/v1/cameras", ""), http.StatusOK)
	require.Len(t, list.Cameras, 1)
	require.Equal(t, CameraStreaming, list.Cameras[0].State)

	w = hs.do("PUT", "/api/v1/cameras/gate-1", `{"name":"Gate north","url":"rtsp://admin:xxxxx@10.0.0.5:554/live","enabled":false}`)
	c = readJSON[cameraView](t, w, http.StatusOK)
	require.Equal(t, "Gate north", c.Name)
	require.False(t, c.Enabled)
	stored, err := hs.store.GetCamera(context.Background(), "gate-1")
	require.NoError(t, err)
	require.Equal(t, "rtsp://admin:"+secret+"@10.0.0.5:554/live", stored.URL, "redacted password keeps the stored one")
	require.Equal(t, stored.Created, c.Created)

	w = hs.do("DELETE", "/api/v1/cameras/gate-1", "")
	require.Equal(t, http.StatusNoContent, w.Code)
	require.Equal(t, []string{"gate-1"}, hs.cams.removed)
	requireError(t, hs.do("GET", "/api/v1/cameras/gate-1", ""), http.StatusNotFound, codeNotFound)
	requireError(t, hs.do("DELETE", "/api/v1/cameras/gate-1", ""), http.StatusNotFound, codeNotFound)
}

func TestCameraKinds(t *testing.T) {
	hs := newHarness(t, Options{})
	for body, kind := range map[string]string{
		`{"id":"a","url":"rtsps://cam.example/s"}`:                          "rtsp",
		`{"id":"b","url":"http://u:p@10.0.0.9/onvif/device_service"}`:       "onvif",
		`{"id":"c","url":"/data/videos/gate.mp4","kind":"file","fps":12.5}`: "file",
	} {
		c := readJSON[cameraView](t, hs.do("POST", "/api/v1/cameras", body), http.StatusCreated)
		require.Equal(t, kind, c.Kind, body)
	}
}

func TestCameraValidation(t *testing.T) {
	hs := newHarness(t, Options{})
	for body, want := range map[string]string{
		`{"id":"../x","url":"rtsp://h/"}`:                `"id"`,
		`{"id":"a","url":"ftp://h/x"}`:                   `"url"`,
		`{"id":"a","url":"rtsp://u:` + secret + `@:99"}`: `"url"`,
		`{"id":"a","url":"rtsp://h/","fps":500}`:         `"fps"`,
		`{"id":"a","url":"rtsp://h/","fps":-1}`:          `"fps"`,
		`{"id":"a","url":"rtsp://h/","kind":"file"}`:     `"kind"`,
		`{"id":"a"}`: `"url"`,
		`{"id":"a","url":"rtsp://h/","colour":"red"}`:       `unknown field "colour"`,
		`{"id":"a","url":"rtsp://h/","fps":"ten"}`:          `"fps" must be a number`,
		`{"id":"a","url":"rtsp://h/"} {}`:                   `exactly one`,
		`[1,2]`:                                             `JSON object`,
		`{"id":"a",`:                                        `malformed`,
		`{"id":"a","name":"x\u0007","url":"rtsp://h/"}`:     `"name"`,
		`{"id":"a","url":"http://u:` + secret + `@/onvif"}`: `no host`,
	} {
		e := requireError(t, hs.do("POST", "/api/v1/cameras", body), http.StatusBadRequest, codeBadRequest)
		require.Contains(t, e.Error.Message, want, body)
		require.NotContains(t, e.Error.Message, secret, body)
	}
	w := hs.doType("POST", "/api/v1/cameras", `{"id":"a","url":"rtsp://h/"}`, "text/plain")
	requireError(t, w, http.StatusUnsupportedMediaType, codeBadRequest)
	big := `{"id":"a","name":"` + strings.Repeat("x", maxBody) + `","url":"rtsp://h/"}`
	requireError(t, hs.do("POST", "/api/v1/cameras", big), http.StatusRequestEntityTooLarge, codeTooLarge)
	requireError(t, hs.do("PUT", "/api/v1/cameras/a", `{"id":"b","url":"rtsp://h/"}`), http.StatusBadRequest, codeBadRequest)
}

// TestCameraPasswordNeverShown drives every camera route with a password
// in the URL and in a stream error, and checks no response or log line
// carries it.
func TestCameraPasswordNeverShown(t *testing.T) {
	hs := newHarness(t, Options{})
	url := "rtsp://admin:" + secret + "@10.0.0.5/live"
	bodies := []string{
		hs.do("POST", "/api/v1/cameras", `{"id":"cam","url":"`+url+`"}`).Body.String(),
		hs.do("GET", "/api/v1/cameras", "").Body.String(),
		hs.do("GET", "/api/v1/cameras/cam", "").Body.String(),
	}
	hs.cams.setStatus(CameraStatus{ID: "cam", State: CameraFailed, Reason: "ffmpeg: " + url + ": 401 Unauthorized (password " + secret + ")"})
	st := readJSON[CameraStatus](t, hs.do("GET", "/api/v1/cameras/cam/status", ""), http.StatusOK)
	require.Contains(t, st.Reason, "rtsp://admin:xxxxx@10.0.0.5/live")
	bodies = append(bodies,
		hs.do("PUT", "/api/v1/cameras/cam", `{"url":"rtsp://admin@10.0.0.5/live2"}`).Body.String(),
		hs.do("PUT", "/api/v1/cameras/cam", `{"url":"rtsp://admin:xxxxx@10.0.0.5/live"}`).Body.String(),
		hs.do("GET", "/api/v1/cameras/cam/status", "").Body.String())
	hs.cams.applyErr = errors.New("dial " + url + " refused")
	bodies = append(bodies, hs.do("PUT", "/api/v1/cameras/cam", `{"name":"x"}`).Body.String())
	for i, b := range bodies {
		require.NotContains(t, b, secret, "response %d: %s", i, b)
	}
	require.NotContains(t, hs.logs.String(), secret)
	require.Contains(t, hs.logs.String(), "camera created")
	stored, _ := hs.store.GetCamera(context.Background(), "cam")
	require.Equal(t, url, stored.URL, "omitted and redacted passwords both kept the stored one")
}

func TestCameraPasswordNotSentElsewhere(t *testing.T) {
	hs := newHarness(t, Options{})
	readJSON[cameraView](t, hs.do("POST", "/api/v1/cameras", `{"id":"cam","url":"rtsp://admin:`+secret+`@10.0.0.5/live"}`), http.StatusCreated)
	// The redacted mark with another host must not carry the password there.
	e := requireError(t, hs.do("PUT", "/api/v1/cameras/cam", `{"url":"rtsp://admin:xxxxx@evil.example/live"}`), http.StatusBadRequest, codeBadRequest)
	require.Contains(t, e.Error.Message, "real password")
	// A user-only URL on another host is taken as it is: no password.
	c := readJSON[cameraView](t, hs.do("PUT", "/api/v1/cameras/cam", `{"url":"rtsp://admin@other.example/live"}`), http.StatusOK)
	require.False(t, c.HasCredentials)
	// A URL without a user removes the credentials.
	readJSON[cameraView](t, hs.do("PUT", "/api/v1/cameras/cam", `{"url":"rtsp://admin:new@10.0.0.5/live"}`), http.StatusOK)
	c = readJSON[cameraView](t, hs.do("PUT", "/api/v1/cameras/cam", `{"url":"rtsp://10.0.0.5/live"}`), http.StatusOK)
	require.False(t, c.HasCredentials)
}

func TestCameraStatusWhenNotRunning(t *testing.T) {
	hs := newHarness(t, Options{Now: func() time.Time { return time.Unix(0, 0) }})
	readJSON[cameraView](t, hs.do("POST", "/api/v1/cameras", `{"id":"off","url":"rtsp://h/","enabled":false}`), http.StatusCreated)
	st := readJSON[CameraStatus](t, hs.do("GET", "/api/v1/cameras/off/status", ""), http.StatusOK)
	require.Equal(t, CameraDisabled, st.State)
	requireError(t, hs.do("GET", "/api/v1/cameras/nope/status", ""), http.StatusNotFound, codeNotFound)
}

func TestCameraApplyFailure(t *testing.T) {
	hs := newHarness(t, Options{})
	hs.cams.applyErr = errors.New("manager stopping")
	requireError(t, hs.do("POST", "/api/v1/cameras", `{"id":"a","url":"rtsp://h/"}`), http.StatusServiceUnavailable, codeUnavailable)
	_, err := hs.store.GetCamera(context.Background(), "a")
	require.NoError(t, err, "saved even though not started")
}

// TestCameraIDMustBeSubjectToken: a new camera's id must be usable as a
// NATS subject token (the cluster publishes on vigil.<kind>.<camera>),
// so '.' and wildcards are refused before anything is stored.
func TestCameraIDMustBeSubjectToken(t *testing.T) {
	hs := newHarness(t, Options{})
	for _, id := range []string{"gate.1", "gate.*", "a.>", "x" + strings.Repeat("y", 64)} {
		body := `{"id":"` + id + `","url":"rtsp://h/"}`
		e := requireError(t, hs.do("POST", "/api/v1/cameras", body), http.StatusBadRequest, codeBadRequest)
		require.Contains(t, e.Error.Message, `"id"`, id)
		requireError(t, hs.do("GET", "/api/v1/cameras/"+id, ""), http.StatusNotFound, codeNotFound)
	}
	require.Equal(t, http.StatusCreated, hs.do("POST", "/api/v1/cameras", `{"id":"gate-1_b","url":"rtsp://h/"}`).Code)
}
