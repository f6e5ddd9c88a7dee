package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/store"
)

// Issue 16 item 2: a 100 KB scene of 50,000 nested '[' kept a handler busy
// for more than 30 s and grew the process past 4 GB; it is now a 422
// naming the line and the limit.
func TestPutSceneRefusesDeepNesting(t *testing.T) {
	hs := sceneHarness(t)
	body := "version: 1\ncamera: gate\nimage: {width: 1000, height: 800}\nzones: " + strings.Repeat("[", 50000)
	e := requireError(t, hs.doType("PUT", "/api/v1/cameras/gate/scene", body, "application/yaml"),
		http.StatusUnprocessableEntity, codeInvalidScene)
	require.Equal(t, []string{"scene.yaml:4:39: lists and mappings nest more than 32 levels deep"}, e.Error.Details)
	_, err := hs.store.LatestScene(context.Background(), "gate")
	require.ErrorIs(t, err, store.ErrNotFound, "nothing saved")
}

// Issue 16 item 3: 1,000 zones aliasing one 1,000-vertex polygon cost 7 s
// of CPU; it is now refused before any polygon is checked.
func TestPutSceneRefusesAliasedPolygons(t *testing.T) {
	hs := sceneHarness(t)
	var b strings.Builder
	b.WriteString("version: 1\ncamera: gate\nimage: {width: 1000, height: 800}\nzones:\n  - {name: z0, type: custom, polygon: &p [")
	for i := range 1000 {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "[%d, %d]", i%1000, (i*7)%800)
	}
	b.WriteString("]}\n")
	for i := 1; i < 1000; i++ {
		fmt.Fprintf(&b, "  - {name: z%d, type: custom, polygon: *p}\n", i)
	}
	e := requireError(t, hs.doType("PUT", "/api/v1/cameras/gate/scene", b.String(), "application/yaml"),
		http.StatusUnprocessableEntity, codeInvalidScene)
	require.Len(t, e.Error.Details, 1)
	require.Contains(t, e.Error.Details[0], "once aliases are followed (anchor &p is used 999 times")
}

// When every validation slot is taken, a request waits SceneTimeout and
// then gets 503 with Retry-After instead of piling up more CPU work.
func TestPutSceneWaitsForAValidationSlot(t *testing.T) {
	api := newAPI(Deps{Store: newMemStore()}, Options{SceneValidations: 1, SceneTimeout: 20 * time.Millisecond})
	api.sceneSlots <- struct{}{} // a validation in progress that never ends
	_, err := api.validateScene(context.Background(), []byte(validScene), "gate")
	var ae *apiError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, http.StatusServiceUnavailable, ae.Status)
	require.Equal(t, 1, ae.retryAfter)
	w := httptest.NewRecorder()
	writeError(w, ae)
	require.Equal(t, "1", w.Header().Get("Retry-After"))
	require.Contains(t, ae.Message, "1 scene validations are already running")

	<-api.sceneSlots
	// The same bound limits the validation itself: long enough now that a
	// busy machine still validates (20 ms was only for the wait above).
	api.opts.SceneTimeout = time.Minute
	sc, err := api.validateScene(context.Background(), []byte(validScene), "gate")
	require.NoError(t, err)
	require.Equal(t, "gate", sc.Camera)
	require.Empty(t, api.sceneSlots, "the slot is given back")
}

// Issue 16 item 10: a scene from the config file names its camera its own
// way (the demo's plaza camera has "camera: pets09-view1"); what GET
// returns can be PUT back unchanged, while another camera's name is still
// refused.
func TestSceneReadCanBePutBack(t *testing.T) {
	hs := sceneHarness(t)
	configScene := strings.Replace(validScene, "camera: gate", "camera: pets09-view1", 1)
	_, err := hs.store.SaveScene(context.Background(), "gate", configScene, "config:vigil.yaml")
	require.NoError(t, err)
	v := readJSON[store.SceneVersion](t, hs.do("GET", "/api/v1/cameras/gate/scene", ""), http.StatusOK)
	res := readJSON[struct{ Version int }](t, hs.doType("PUT", "/api/v1/cameras/gate/scene", v.YAML, "application/yaml"), http.StatusOK)
	require.Equal(t, 2, res.Version)

	other := strings.Replace(validScene, "camera: gate", "camera: dock", 1)
	e := requireError(t, hs.doType("PUT", "/api/v1/cameras/gate/scene", other, "application/yaml"),
		http.StatusUnprocessableEntity, codeInvalidScene)
	require.Contains(t, e.Error.Message, `the scene is for camera "dock", not "gate"`)
}
