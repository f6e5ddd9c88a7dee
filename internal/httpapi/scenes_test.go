package httpapi

import (
	"encoding/json"
	"net/http"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/auth"
	"github.com/vigil-cctv/vigil/internal/store"
)

const validScene = `version: 1
camera: gate
image: {width: 1000, height: 800}
zones:
  - {name: plant, type: restricted, polygon: [[400, 300], [600, 300], [600, 500], [400, 500]]}
rules:
  - {type: intrusion, zone: plant, min_dwell: 500ms, severity: critical}
`

// invalidScene has two problems: a zone outside the image and a rule
// naming a zone that does not exist.
const invalidScene = `version: 1
camera: gate
image: {width: 1000, height: 800}
zones:
  - {name: plant, type: restricted, polygon: [[400, 300], [9600, 300], [600, 500]]}
rules:
  - {type: intrusion, zone: nowhere}
`

func sceneHarness(t *testing.T) *harness {
	hs := newHarness(t, Options{})
	readJSON[cameraView](t, hs.do("POST", "/api/v1/cameras", `{"id":"gate","url":"rtsp://h/"}`), http.StatusCreated)
	return hs
}

func TestSceneSaveAndApply(t *testing.T) {
	hs := sceneHarness(t)
	requireError(t, hs.do("GET", "/api/v1/cameras/gate/scene", ""), http.StatusNotFound, codeNotFound)
	for want := 1; want <= 2; want++ {
		w := hs.as(auth.Supervisor).doType("PUT", "/api/v1/cameras/gate/scene", validScene, "application/yaml")
		res := readJSON[struct {
			Version int
			Applied bool
		}](t, w, http.StatusOK)
		require.Equal(t, want, res.Version)
		require.True(t, res.Applied)
	}
	require.Equal(t, "gate", hs.scenes.applied["gate"].Camera)
	v := readJSON[store.SceneVersion](t, hs.do("GET", "/api/v1/cameras/gate/scene", ""), http.StatusOK)
	require.Equal(t, 2, v.Version)
	require.Equal(t, validScene, v.YAML)
	require.Equal(t, "supervisor", v.Author, "the author is the logged-in user")
	requireError(t, hs.doType("PUT", "/api/v1/cameras/gate/scene?author=mallory", validScene, "application/yaml"),
		http.StatusBadRequest, codeBadRequest)
	v = readJSON[store.SceneVersion](t, hs.do("GET", "/api/v1/cameras/gate/scene?version=1", ""), http.StatusOK)
	require.Equal(t, 1, v.Version)
	requireError(t, hs.do("GET", "/api/v1/cameras/gate/scene?version=9", ""), http.StatusNotFound, codeNotFound)
	requireError(t, hs.do("GET", "/api/v1/cameras/gate/scene?version=x", ""), http.StatusBadRequest, codeBadRequest)
	vs := readJSON[struct{ Versions []sceneVersionView }](t, hs.do("GET", "/api/v1/cameras/gate/scene/versions", ""), http.StatusOK)
	require.Len(t, vs.Versions, 2)
	w := hs.doType("PUT", "/api/v1/cameras/gate/scene", validScene, "text/plain; charset=utf-8")
	require.Equal(t, http.StatusOK, w.Code, "text/plain is accepted")
}

func TestSceneErrorsHaveLineAndColumn(t *testing.T) {
	hs := sceneHarness(t)
	e := requireError(t, hs.doType("PUT", "/api/v1/cameras/gate/scene", invalidScene, "application/yaml"),
		http.StatusUnprocessableEntity, codeInvalidScene)
	require.GreaterOrEqual(t, len(e.Error.Details), 2, e.Error.Details)
	loc := regexp.MustCompile(`^scene\.yaml:\d+:\d+: `)
	for _, d := range e.Error.Details {
		require.Regexp(t, loc, d)
	}
	require.Contains(t, e.Error.Details[0], "scene.yaml:5:")
	requireError(t, hs.do("GET", "/api/v1/cameras/gate/scene", ""), http.StatusNotFound, codeNotFound)

	e = requireError(t, hs.doType("PUT", "/api/v1/cameras/gate/scene", "version: [", "application/yaml"),
		http.StatusUnprocessableEntity, codeInvalidScene)
	require.Regexp(t, loc, e.Error.Details[0], "syntax errors are located too")
	requireError(t, hs.doType("PUT", "/api/v1/cameras/gate/scene", "", "application/yaml"),
		http.StatusUnprocessableEntity, codeInvalidScene)
}

func TestSceneOtherCameraAndMediaType(t *testing.T) {
	hs := sceneHarness(t)
	readJSON[cameraView](t, hs.do("POST", "/api/v1/cameras", `{"id":"dock","url":"rtsp://h/"}`), http.StatusCreated)
	e := requireError(t, hs.doType("PUT", "/api/v1/cameras/dock/scene", validScene, "application/yaml"),
		http.StatusUnprocessableEntity, codeInvalidScene)
	require.Contains(t, e.Error.Message, `"gate"`)
	requireError(t, hs.doType("PUT", "/api/v1/cameras/gate/scene", validScene, "text/html"),
		http.StatusUnsupportedMediaType, codeBadRequest)
	e = requireError(t, hs.doType("PUT", "/api/v1/cameras/gate/scene", validScene, "application/json"),
		http.StatusBadRequest, codeBadRequest)
	require.Contains(t, e.Error.Message, "not JSON")
	requireError(t, hs.doType("PUT", "/api/v1/cameras/nope/scene", validScene, "application/yaml"),
		http.StatusNotFound, codeNotFound)
	requireError(t, hs.doType("PUT", "/api/v1/cameras/gate/scene?who=me", validScene, "application/yaml"),
		http.StatusBadRequest, codeBadRequest)
}

// TestSceneAsJSON: the editor reads a scene as a JSON document and saves
// one, which is stored as YAML.
func TestSceneAsJSON(t *testing.T) {
	hs := sceneHarness(t)
	require.Equal(t, http.StatusOK, hs.doType("PUT", "/api/v1/cameras/gate/scene", validScene, "application/yaml").Code)
	got := readJSON[struct {
		Version  int
		Document map[string]any
	}](t, hs.do("GET", "/api/v1/cameras/gate/scene?format=json", ""), http.StatusOK)
	require.Equal(t, 1, got.Version)
	require.Equal(t, "gate", got.Document["camera"])
	zones := got.Document["zones"].([]any)
	zones[0].(map[string]any)["name"] = "renamed"
	got.Document["rules"].([]any)[0].(map[string]any)["zone"] = "renamed"
	body, err := json.Marshal(got.Document)
	require.NoError(t, err)
	w := hs.doType("PUT", "/api/v1/cameras/gate/scene", string(body), "application/json")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	v := readJSON[store.SceneVersion](t, hs.do("GET", "/api/v1/cameras/gate/scene", ""), http.StatusOK)
	require.Equal(t, 2, v.Version)
	require.Contains(t, v.YAML, "name: renamed", "stored as YAML")
	require.NotContains(t, v.YAML, "{\"")
	requireError(t, hs.do("GET", "/api/v1/cameras/gate/scene?format=xml", ""), http.StatusBadRequest, codeBadRequest)
}
