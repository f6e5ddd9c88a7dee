package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/store"
)

// Snapshotter gives a camera's latest analysed frame as a JPEG, for the
// wall's low-rate tiles: one small image every few seconds per tile costs
// the browser and the server far less than a live stream per camera. The
// service implements it.
type Snapshotter interface {
	// Snapshot returns the newest frame scaled to at most maxWidth pixels
	// wide (keeping its aspect) and when it was taken; an error wrapping
	// store.ErrNotFound when the camera has no frame yet.
	Snapshot(ctx context.Context, camera string, maxWidth int) (jpeg []byte, at time.Time, err error)
}

// ScenePreviewer replays a camera's stored tracks through an edited scene
// and returns the alerts it would have raised, without storing or
// publishing anything. The analysis chain implements it.
type ScenePreviewer interface {
	PreviewScene(ctx context.Context, camera string, sc *scene.Scene, since, until time.Time) ([]event.Event, error)
}

// Snapshot width bounds: a wall tile is a few hundred pixels wide.
const (
	defaultSnapshotWidth = 480
	minSnapshotWidth     = 64
	maxSnapshotWidth     = 1920
)

func (a *api) cameraSnapshot(w http.ResponseWriter, r *http.Request) error {
	c, err := a.camera(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	q, err := parseQuery(r, "w", "t")
	if err != nil {
		return err
	}
	width := defaultSnapshotWidth
	if s := q.Get("w"); s != "" {
		if width, err = strconv.Atoi(s); err != nil || width < minSnapshotWidth || width > maxSnapshotWidth {
			return badRequest("parameter \"w\" must be a width from %d to %d pixels", minSnapshotWidth, maxSnapshotWidth)
		}
	}
	if a.deps.Snapshots == nil {
		return unavailable("camera snapshots are not available")
	}
	jpg, at, err := a.deps.Snapshots.Snapshot(r.Context(), c.ID, width)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("camera %q has no frame yet", c.ID)
	}
	if err != nil {
		a.log.Warn("snapshot failed", "camera", c.ID, "err", scrub(err.Error(), c.URL))
		return unavailable("camera %q has no snapshot now", c.ID)
	}
	h := w.Header()
	h.Set("Content-Type", "image/jpeg")
	h.Set("Cache-Control", "private, no-cache")
	h.Set("X-Frame-Time", at.UTC().Format(time.RFC3339Nano))
	_, _ = w.Write(jpg)
	return nil
}

// Preview bounds: replaying tracks is work proportional to the window.
const (
	defaultPreviewWindow = time.Hour
	maxPreviewWindow     = 24 * time.Hour
)

type previewInput struct {
	Scene string `json:"scene"`
	Since string `json:"since"`
	Until string `json:"until"`
}

// previewScene answers which alerts an edited scene would have raised
// over a past window (default the last hour) of the camera's stored
// tracks. The scene is validated exactly as PUT /scene does.
func (a *api) previewScene(w http.ResponseWriter, r *http.Request) error {
	c, err := a.camera(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	var in previewInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	sc, err := parseScene([]byte(in.Scene), c.ID)
	if err != nil {
		return err
	}
	since, until, err := a.previewWindow(in)
	if err != nil {
		return err
	}
	if a.deps.Previewer == nil {
		return unavailable("scene preview is not available")
	}
	events, err := a.deps.Previewer.PreviewScene(r.Context(), c.ID, sc, since, until)
	if err != nil {
		a.log.Warn("scene preview failed", "camera", c.ID, "err", scrub(err.Error(), c.URL))
		return unavailable("the preview failed: %s", scrub(err.Error(), c.URL))
	}
	writeJSON(w, http.StatusOK, map[string]any{"camera": c.ID, "since": since, "until": until,
		"count": len(events), "alerts": nonNil(events)})
	return nil
}

func (a *api) previewWindow(in previewInput) (since, until time.Time, err error) {
	until = a.opts.Now().UTC()
	for _, p := range []struct {
		name, s string
		t       *time.Time
	}{{"since", in.Since, &since}, {"until", in.Until, &until}} {
		if p.s == "" {
			continue
		}
		if *p.t, err = time.Parse(time.RFC3339Nano, p.s); err != nil {
			return since, until, badRequest("field %q must be an RFC 3339 time such as 2024-05-01T08:00:00Z", p.name)
		}
	}
	if since.IsZero() {
		since = until.Add(-defaultPreviewWindow)
	}
	if !since.Before(until) {
		return since, until, badRequest("field \"since\" must be before \"until\"")
	}
	if until.Sub(since) > maxPreviewWindow {
		return since, until, badRequest("the preview may span at most %s", maxPreviewWindow)
	}
	return since, until, nil
}
