package service

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/capacity"
	"github.com/vigil-cctv/vigil/internal/httpapi"
	"github.com/vigil-cctv/vigil/internal/store"
)

// With a whole-frame inference fixed at 40 ms and no history (every frame
// detected whole), the box sustains 0.8 × 25 = 20 analysed fps. Three
// configured cameras at 5 fps use 15: a fourth at 4 fps is admitted, a
// fifth at 2 fps is refused with 409 over_capacity and the figures, and
// the capacity route and metrics show the headroom.
func TestAdmissionRefusesCamerasPastCapacity(t *testing.T) {
	dir := t.TempDir()
	cfg := `version: 1
listen: "127.0.0.1:0"
data_dir: ` + dir + `
anomaly: {disabled: true}
cameras:
  - {id: a, url: "rtsp://10.255.255.1:554/a", fps: 5}
  - {id: b, url: "rtsp://10.255.255.1:554/b", fps: 5}
  - {id: c, url: "rtsp://10.255.255.1:554/c", fps: 5}
`
	base, stop := startServiceWith(t, cfg, Deps{Model: slowModel{}, Capacity: &capacity.Cost{Full: 40 * time.Millisecond}})
	defer func() { require.NoError(t, stop()) }()

	post := func(body string) (int, string) {
		r, err := http.Post(base+"/api/v1/cameras", "application/json", strings.NewReader(body))
		require.NoError(t, err)
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	code, body := post(`{"id":"d","url":"rtsp://10.255.255.1:554/d","fps":4}`)
	require.Equal(t, http.StatusCreated, code, body)
	code, body = post(`{"id":"e","url":"rtsp://10.255.255.1:554/e","fps":2}`)
	require.Equal(t, http.StatusConflict, code, body)
	require.Contains(t, body, `"over_capacity"`)
	require.Contains(t, body, "19.0 analysed fps in use, 2.0 asked, this box sustains 20.0")

	r, err := http.Get(base + "/api/v1/capacity")
	require.NoError(t, err)
	var rep httpapi.CapacityReport
	require.NoError(t, json.NewDecoder(r.Body).Decode(&rep))
	r.Body.Close()
	require.True(t, rep.Measured)
	require.Equal(t, 4, rep.Cameras)
	require.InDelta(t, 20, rep.CapacityFPS, 1e-9)
	require.InDelta(t, 19, rep.UsedFPS, 1e-9)
	require.InDelta(t, 1, rep.HeadroomFPS, 1e-9)
	require.Equal(t, "worst case", rep.MixFrom)
	require.Equal(t, 1, rep.Lanes, "an injected cost is one lane's")

	m, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	metrics, _ := io.ReadAll(m.Body)
	m.Body.Close()
	require.Contains(t, string(metrics), "vigil_capacity_headroom_fps 1\n")
	require.Contains(t, string(metrics), "vigil_capacity_fps 20\n")
}

// Before the detector has run (no injected cost), capacity is not
// measured and every camera is admitted.
func TestAdmissionWaitsForAMeasurement(t *testing.T) {
	svc := &Service{pool: NewPool(1, Lane{Model: slowModel{}}), cams: map[string]*camRun{}}
	rep := svc.Capacity(t.Context())
	require.False(t, rep.Measured)
	ok, reason := svc.Admit(t.Context(), storeCamera("x", 25))
	require.True(t, ok, reason)
}

func storeCamera(id string, fps float64) store.Camera {
	return store.Camera{ID: id, URL: "rtsp://10.255.255.1/" + id, Kind: "rtsp", FPS: fps, Enabled: true}
}
