package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/auth"
	"github.com/vigil-cctv/vigil/internal/store"
)

// capacityCameras is a camera manager with a fixed capacity of analysed
// frames per second, used by the cameras it runs.
type capacityCameras struct {
	*fakeCameras
	capacity float64
}

func (c *capacityCameras) used(except string) (float64, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	running := map[string]float64{}
	for _, cam := range c.applied {
		delete(running, cam.ID)
		if cam.Enabled {
			running[cam.ID] = cam.FPS
		}
	}
	sum := 0.0
	for id, fps := range running {
		if id != except {
			sum += fps
		}
	}
	return sum, len(running)
}

func (c *capacityCameras) Capacity(context.Context) CapacityReport {
	u, n := c.used("")
	return CapacityReport{Measured: true, CapacityFPS: c.capacity, UsedFPS: u, HeadroomFPS: c.capacity - u, Cameras: n}
}

func (c *capacityCameras) Admit(_ context.Context, cam store.Camera) (bool, string) {
	u, _ := c.used(cam.ID)
	if u+cam.FPS > c.capacity {
		return false, fmt.Sprintf("%.0f of %.0f fps in use", u, c.capacity)
	}
	return true, ""
}

// A camera past the box's capacity is refused with 409 over_capacity and
// a reason, and is neither stored nor started; one that fits is, and
// GET /capacity (viewer) shows the headroom.
func TestCameraPastCapacityIsRefused(t *testing.T) {
	hs := newHarness(t, Options{})
	cams := &capacityCameras{fakeCameras: hs.cams, capacity: 12}
	hs.h = New(Deps{Store: hs.store, Cameras: cams, Auth: hs.auth.svc, Logger: newTestLogger(hs.logs)}, Options{})

	readJSON[cameraView](t, hs.do("POST", "/api/v1/cameras", `{"id":"a","url":"rtsp://h/a","fps":5}`), http.StatusCreated)
	readJSON[cameraView](t, hs.do("POST", "/api/v1/cameras", `{"id":"b","url":"rtsp://h/b","fps":5}`), http.StatusCreated)
	w := hs.do("POST", "/api/v1/cameras", `{"id":"c","url":"rtsp://h/c","fps":5}`)
	requireError(t, w, http.StatusConflict, codeOverCapacity)
	require.Contains(t, w.Body.String(), "10 of 12 fps in use")
	_, err := hs.store.GetCamera(context.Background(), "c")
	require.ErrorIs(t, err, store.ErrNotFound, "a refused camera is not stored")
	require.Len(t, cams.applied, 2)

	// A slower camera fits; a disabled one is stored without using any.
	readJSON[cameraView](t, hs.do("POST", "/api/v1/cameras", `{"id":"d","url":"rtsp://h/d","fps":2}`), http.StatusCreated)
	readJSON[cameraView](t, hs.do("POST", "/api/v1/cameras", `{"id":"e","url":"rtsp://h/e","fps":5,"enabled":false}`), http.StatusCreated)
	// Enabling it is refused; raising a running camera's rate past the
	// capacity too, while its own current use is not counted twice.
	requireError(t, hs.do("PUT", "/api/v1/cameras/e", `{"url":"rtsp://h/e","fps":5,"enabled":true}`), http.StatusConflict, codeOverCapacity)
	requireError(t, hs.do("PUT", "/api/v1/cameras/d", `{"url":"rtsp://h/d","fps":4}`), http.StatusConflict, codeOverCapacity)
	readJSON[cameraView](t, hs.do("PUT", "/api/v1/cameras/d", `{"url":"rtsp://h/d","fps":1}`), http.StatusOK)

	hs.role = auth.Viewer
	rep := readJSON[CapacityReport](t, hs.do("GET", "/api/v1/capacity", ""), http.StatusOK)
	require.Equal(t, CapacityReport{Measured: true, CapacityFPS: 12, UsedFPS: 11, HeadroomFPS: 1, Cameras: 3}, rep)
}

// Without a capacity-aware manager the route says so and nothing is refused.
func TestCapacityUnavailableWithoutManager(t *testing.T) {
	hs := newHarness(t, Options{})
	requireError(t, hs.do("GET", "/api/v1/capacity", ""), http.StatusServiceUnavailable, codeUnavailable)
}
