package httpapi

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/vigil-cctv/vigil/internal/store"
)

// sceneFile is the file name scene errors are reported against.
const sceneFile = "scene.yaml"

const maxAuthorLen = 100

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
	q, err := parseQuery(r, "version")
	if err != nil {
		return err
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
	writeJSON(w, http.StatusOK, v)
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
func (a *api) putScene(w http.ResponseWriter, r *http.Request) error {
	if err := requireMediaType(r, "application/yaml", "application/x-yaml", "text/yaml", "text/plain"); err != nil {
		return err
	}
	q, err := parseQuery(r, "author")
	if err != nil {
		return err
	}
	author := q.Get("author")
	if len(author) > maxAuthorLen || strings.IndexFunc(author, unicode.IsControl) >= 0 {
		return badRequest("parameter \"author\" must be at most %d characters without control characters", maxAuthorLen)
	}
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
	sc, err := a.validateScene(ctx, body, c.ID)
	if err != nil {
		return err
	}
	version, err := a.deps.Store.SaveScene(ctx, c.ID, string(body), author)
	if err != nil {
		return err
	}
	a.log.Info("scene saved", "camera", c.ID, "version", version, "author", author)
	if a.deps.Scenes != nil {
		if err := a.deps.Scenes.ApplyScene(ctx, c.ID, sc, string(body)); err != nil {
			a.log.Warn("scene not applied", "camera", c.ID, "version", version, "err", scrub(err.Error(), c.URL))
			return unavailable("scene saved as version %d but not applied: %s", version, scrub(err.Error(), c.URL))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"camera": c.ID, "version": version, "applied": a.deps.Scenes != nil})
	return nil
}
