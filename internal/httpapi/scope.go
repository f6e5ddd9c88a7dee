package httpapi

import (
	"context"
	"slices"

	"github.com/vigil-cctv/vigil/internal/auth"
	"github.com/vigil-cctv/vigil/internal/store"
)

// canSee reports whether the request's principal may see a camera. A
// request with no principal (authentication disabled) sees every camera.
func canSee(ctx context.Context, camera string) bool {
	p, ok := auth.FromContext(ctx)
	return !ok || p.CanSee(camera)
}

// visibleCameras is the camera filter for a list query: nil for all, or
// the principal's cameras (an empty non-nil list when it has none).
func visibleCameras(ctx context.Context) []string {
	p, ok := auth.FromContext(ctx)
	if !ok || !p.Limited() {
		return nil
	}
	return nonNil(p.Cameras())
}

// onlyVisible keeps the items whose camera the principal may see.
func onlyVisible[T any](ctx context.Context, items []T, camera func(T) string) []T {
	return slices.DeleteFunc(items, func(it T) bool { return !canSee(ctx, camera(it)) })
}

// messageCamera is the camera a stream message is about, if known.
func messageCamera(m Message) (string, bool) {
	if m.Camera != "" {
		return m.Camera, true
	}
	switch d := m.Data.(type) {
	case store.Alert:
		return d.Event.Camera, true
	case alertView:
		return d.Event.Camera, true
	case map[string]any:
		c, ok := d["camera"].(string)
		return c, ok
	case map[string]string:
		c, ok := d["camera"]
		return c, ok
	}
	return "", false
}

// mayReceive reports whether a principal gets a stream message: users
// limited to groups get only messages about their cameras.
func mayReceive(p auth.Principal, m Message) bool {
	if !p.Limited() {
		return true
	}
	c, ok := messageCamera(m)
	return ok && p.CanSee(c)
}
