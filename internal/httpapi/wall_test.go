package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/auth"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/store"
)

type fakeSnapshots struct{ width int }

func (f *fakeSnapshots) Snapshot(_ context.Context, camera string, maxWidth int) ([]byte, time.Time, error) {
	if camera != "gate" {
		return nil, time.Time{}, fmt.Errorf("camera %s: %w", camera, store.ErrNotFound)
	}
	f.width = maxWidth
	return []byte("\xff\xd8jpeg"), t0, nil
}

type fakePreviewer struct {
	since, until time.Time
	scene        *scene.Scene
}

func (f *fakePreviewer) PreviewScene(_ context.Context, camera string, sc *scene.Scene, since, until time.Time) ([]event.Event, error) {
	f.since, f.until, f.scene = since, until, sc
	return []event.Event{{Rule: "intrusion", Camera: camera, Zone: sc.Zones[0].Name}}, nil
}

func wallHarness(t *testing.T) (*harness, *fakeSnapshots, *fakePreviewer) {
	hs := newHarness(t, Options{Now: func() time.Time { return t0 }})
	snaps, prev := &fakeSnapshots{}, &fakePreviewer{}
	hs.h = New(Deps{Store: hs.store, Auth: hs.auth.svc, Snapshots: snaps, Previewer: prev}, Options{Now: func() time.Time { return t0 }})
	readJSON[cameraView](t, hs.do("POST", "/api/v1/cameras", `{"id":"gate","url":"rtsp://h/"}`), http.StatusCreated)
	readJSON[cameraView](t, hs.do("POST", "/api/v1/cameras", `{"id":"dark","url":"rtsp://h/2"}`), http.StatusCreated)
	return hs, snaps, prev
}

func TestCameraSnapshot(t *testing.T) {
	hs, snaps, _ := wallHarness(t)
	w := hs.as(auth.Viewer).do("GET", "/api/v1/cameras/gate/snapshot.jpg?w=320&t=5", "")
	require.Equal(t, http.StatusOK, w.Code)
	require.Equal(t, "image/jpeg", w.Header().Get("Content-Type"))
	require.Equal(t, t0.Format(time.RFC3339Nano), w.Header().Get("X-Frame-Time"))
	require.Equal(t, 320, snaps.width)
	hs.do("GET", "/api/v1/cameras/gate/snapshot.jpg", "")
	require.Equal(t, defaultSnapshotWidth, snaps.width)
	for _, q := range []string{"w=10", "w=5000", "w=x", "h=3"} {
		requireError(t, hs.do("GET", "/api/v1/cameras/gate/snapshot.jpg?"+q, ""), http.StatusBadRequest, codeBadRequest)
	}
	e := requireError(t, hs.do("GET", "/api/v1/cameras/dark/snapshot.jpg", ""), http.StatusNotFound, codeNotFound)
	require.Contains(t, e.Error.Message, "no frame yet")
	requireError(t, hs.do("GET", "/api/v1/cameras/none/snapshot.jpg", ""), http.StatusNotFound, codeNotFound)
}

func TestScenePreview(t *testing.T) {
	hs, _, prev := wallHarness(t)
	body := func(extra string) string {
		return `{"scene":` + jsonString(validScene) + extra + `}`
	}
	res := readJSON[struct {
		Count  int
		Alerts []event.Event
	}](t, hs.as(auth.Supervisor).do("POST", "/api/v1/cameras/gate/scene/preview", body("")), http.StatusOK)
	require.Equal(t, 1, res.Count)
	require.Equal(t, "gate", res.Alerts[0].Camera)
	require.Equal(t, t0.Add(-time.Hour), prev.since, "the last hour by default")
	require.Equal(t, t0, prev.until)
	hs.do("POST", "/api/v1/cameras/gate/scene/preview", body(`,"since":"2024-04-30T08:00:00Z","until":"2024-05-01T07:00:00Z"`))
	require.Equal(t, 23*time.Hour, prev.until.Sub(prev.since))
	requireError(t, hs.do("POST", "/api/v1/cameras/gate/scene/preview", body(`,"since":"2024-04-29T08:00:00Z"`)),
		http.StatusBadRequest, codeBadRequest)
	requireError(t, hs.do("POST", "/api/v1/cameras/gate/scene/preview", body(`,"until":"yesterday"`)), http.StatusBadRequest, codeBadRequest)
	e := requireError(t, hs.do("POST", "/api/v1/cameras/gate/scene/preview", `{"scene":`+jsonString(invalidScene)+`}`),
		http.StatusUnprocessableEntity, codeInvalidScene)
	require.NotEmpty(t, e.Error.Details)
	requireError(t, hs.do("POST", "/api/v1/cameras/dark/scene/preview", body("")), http.StatusUnprocessableEntity, codeInvalidScene)
	requireError(t, hs.as(auth.Operator).do("POST", "/api/v1/cameras/gate/scene/preview", body("")), http.StatusForbidden, codeForbidden)

	bare := newHarness(t, Options{})
	readJSON[cameraView](t, bare.do("POST", "/api/v1/cameras", `{"id":"gate","url":"rtsp://h/"}`), http.StatusCreated)
	requireError(t, bare.do("POST", "/api/v1/cameras/gate/scene/preview", body("")), http.StatusServiceUnavailable, codeUnavailable)
}

func jsonString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`).Replace(s) + `"`
}
