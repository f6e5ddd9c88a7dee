package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/vigil-cctv/vigil/internal/scene"
)

// Defaults for Options.SceneValidations and Options.SceneTimeout: a real
// scene validates in milliseconds, so two at a time and five seconds each
// only ever stop hostile uploads, and a camera's own work keeps the rest
// of the machine.
const (
	defaultSceneValidations = 2
	defaultSceneTimeout     = 5 * time.Second
)

// validateScene parses a scene under the API's bounds: at most
// Options.SceneValidations at once (a request waits up to SceneTimeout for
// a slot, then gets 503 with Retry-After), each within SceneTimeout.
func (a *api) validateScene(ctx context.Context, body []byte, camera string) (*scene.Scene, error) {
	wait := time.NewTimer(a.opts.SceneTimeout)
	defer wait.Stop()
	select {
	case a.sceneSlots <- struct{}{}:
		defer func() { <-a.sceneSlots }()
	case <-wait.C:
		e := unavailable("%d scene validations are already running; retry in a moment", cap(a.sceneSlots))
		e.retryAfter = 1
		return nil, e
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	vctx, cancel := context.WithTimeout(ctx, a.opts.SceneTimeout)
	defer cancel()
	sc, err := scene.ParseContext(vctx, body, sceneFile)
	if err != nil {
		return nil, sceneError(err)
	}
	if sc.Camera != camera && !a.sameSceneCamera(ctx, camera, sc.Camera) {
		// A scene written for another camera would raise alerts under the
		// wrong name: almost certainly an upload to the wrong camera.
		ae := errorf(http.StatusUnprocessableEntity, codeInvalidScene, "the scene is for camera %q, not %q", sc.Camera, camera)
		ae.Details = []string{sceneFile + ": camera: " + ae.Message}
		return nil, ae
	}
	return sc, nil
}

// sameSceneCamera reports whether the camera's stored scene already names
// its camera this way, as a scene file from the config does when the
// file's camera name differs from the camera's id: what GET returned can
// then be PUT back unchanged.
func (a *api) sameSceneCamera(ctx context.Context, camera, name string) bool {
	v, err := a.deps.Store.LatestScene(ctx, camera)
	if err != nil {
		return false
	}
	stored, err := scene.ParseContext(ctx, []byte(v.YAML), sceneFile)
	return err == nil && stored.Camera == name
}

// sceneError lists every problem as "scene.yaml:line:column: field:
// message", so an editor can jump to it.
func sceneError(err error) error {
	ae := errorf(http.StatusUnprocessableEntity, codeInvalidScene, "the scene file is invalid")
	var es scene.Errors
	if errors.As(err, &es) {
		for _, e := range es {
			ae.Details = append(ae.Details, e.Error())
		}
	} else {
		ae.Details = []string{err.Error()}
	}
	return ae
}
