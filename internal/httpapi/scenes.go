package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/store"
)

// sceneFile is the file name scene errors are reported against.
const sceneFile = "scene.yaml"

// sceneVersionView lists a version without its text, which
// GET /scene?version=N returns.
type sceneVersionView struct {
	Camera  string    `json:"camera"`
	Version int       `json:"version"`
	Created time.Time `json:"created"`
	Author  string    `json:"author,omitempty"`
}

func (a *api) getScene(w http.ResponseWriter, r *http.Request) error {
	c, err := a.camera(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	q, err := parseQuery(r, "version", "format")
	if err != nil {
		return err
	}
	if f := q.Get("format"); f != "" && f != "json" {
		return badRequest("parameter \"format\" must be json (the scene as a JSON document beside its YAML text)")
	}
	var v store.SceneVersion
	if s := q.Get("version"); s != "" {
		v, err = a.sceneVersion(r, c.ID, s)
	} else {
		v, err = a.deps.Store.LatestScene(r.Context(), c.ID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return notFound("camera %q has no scene", c.ID)
	}
	if err != nil {
		return err
	}
	if q.Get("format") == "json" {
		return writeSceneDocument(w, v)
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// writeSceneDocument answers a scene version with its YAML also as a JSON
// document, so that an editor (the console's) needs no YAML parser.
func writeSceneDocument(w http.ResponseWriter, v store.SceneVersion) error {
	doc, err := yaml.YAMLToJSON([]byte(v.YAML))
	if err != nil {
		return fmt.Errorf("scene of %s version %d: %w", v.Camera, v.Version, err)
	}
	writeJSON(w, http.StatusOK, struct {
		store.SceneVersion
		Document json.RawMessage `json:"document"`
	}{v, doc})
	return nil
}

// sceneVersion finds one version by number among the camera's versions.
func (a *api) sceneVersion(r *http.Request, camera, s string) (store.SceneVersion, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return store.SceneVersion{}, badRequest("parameter \"version\" must be a positive integer")
	}
	vs, err := a.deps.Store.SceneVersions(r.Context(), camera)
	if err != nil {
		return store.SceneVersion{}, err
	}
	for _, v := range vs {
		if v.Version == n {
			return v, nil
		}
	}
	return store.SceneVersion{}, notFound("camera %q has no scene version %d", camera, n)
}

func (a *api) sceneVersions(w http.ResponseWriter, r *http.Request) error {
	c, err := a.camera(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	vs, err := a.deps.Store.SceneVersions(r.Context(), c.ID)
	if err != nil {
		return err
	}
	out := make([]sceneVersionView, len(vs))
	for i, v := range vs {
		out[i] = sceneVersionView{Camera: v.Camera, Version: v.Version, Created: v.Created, Author: v.Author}
	}
	writeJSON(w, http.StatusOK, map[string]any{"versions": out})
	return nil
}

// putScene validates a scene file, saves it as the camera's next version
// and hot-reloads it. Nothing is saved unless the whole file is valid.
//
// A JSON body (application/json, the console's editor) is a scene
// document like the YAML file's; it is stored as YAML.
func (a *api) putScene(w http.ResponseWriter, r *http.Request) error {
	if err := requireMediaType(r, "application/yaml", "application/x-yaml", "text/yaml", "text/plain", "application/json"); err != nil {
		return err
	}
	if r.URL.Query().Has("author") {
		return badRequest("parameter \"author\" is not accepted: the scene is saved under the logged-in user")
	}
	if _, err := parseQuery(r); err != nil {
		return err
	}
	author := principal(r).Name()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	ctx, cancel := detach(r)
	defer cancel()
	c, err := a.camera(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	isJSON := false
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" {
		if !json.Valid(body) {
			return badRequest("the body is sent as application/json but is not JSON; send YAML as application/yaml")
		}
		isJSON = true
	}
	sc, err := parseScene(body, c.ID)
	if err != nil {
		return err
	}
	if isJSON {
		if body, err = scene.Marshal(sc); err != nil {
			return fmt.Errorf("scene of %s: %w", c.ID, err)
		}
	}
	prev := 0
	if v, err := a.deps.Store.LatestScene(ctx, c.ID); err == nil {
		prev = v.Version
	}
	version, err := a.deps.Store.SaveScene(ctx, c.ID, string(body), author)
	if err != nil {
		return err
	}
	a.log.Info("scene saved", "camera", c.ID, "version", version, "author", author)
	a.audit(r, "scene.save", "camera/"+c.ID, map[string]int{"version": prev}, map[string]int{"version": version})
	if a.deps.Scenes != nil {
		if err := a.deps.Scenes.ApplyScene(ctx, c.ID, sc, string(body)); err != nil {
			a.log.Warn("scene not applied", "camera", c.ID, "version", version, "err", scrub(err.Error(), c.URL))
			return unavailable("scene saved as version %d but not applied: %s", version, scrub(err.Error(), c.URL))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"camera": c.ID, "version": version, "applied": a.deps.Scenes != nil})
	return nil
}

// parseScene validates a scene for a camera. Every problem is listed as
// "scene.yaml:line:column: field: message", so an editor can jump to it.
func parseScene(body []byte, camera string) (*scene.Scene, error) {
	sc, err := scene.Parse(body, sceneFile)
	if err != nil {
		ae := errorf(http.StatusUnprocessableEntity, codeInvalidScene, "the scene file is invalid")
		var es scene.Errors
		if errors.As(err, &es) {
			for _, e := range es {
				ae.Details = append(ae.Details, e.Error())
			}
		} else {
			ae.Details = []string{err.Error()}
		}
		return nil, ae
	}
	// A scene written for another camera would raise alerts under the
	// wrong name: almost certainly an upload to the wrong camera.
	if sc.Camera != camera {
		ae := errorf(http.StatusUnprocessableEntity, codeInvalidScene, "the scene is for camera %q, not %q", sc.Camera, camera)
		ae.Details = []string{sceneFile + ": camera: " + ae.Message}
		return nil, ae
	}
	return sc, nil
}
