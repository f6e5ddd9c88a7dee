package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/vigil-cctv/vigil/internal/camurl"
	"github.com/vigil-cctv/vigil/internal/cluster"
	"github.com/vigil-cctv/vigil/internal/ingest"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/store"
)

// Camera field limits.
const (
	maxIDLen   = scene.MaxNameLen
	maxNameLen = 200
	maxURLLen  = 2048
	maxFPS     = 60
	minFPS     = 0.1
)

// cameraInput is the body of POST and PUT /cameras. The read-only fields
// of cameraView are accepted and ignored, so that a client can send back
// what it read.
type cameraInput struct {
	ID      string  `json:"id"`
	Name    string  `json:"name"`
	URL     *string `json:"url"`
	Kind    string  `json:"kind"`
	Enabled *bool   `json:"enabled"`
	FPS     float64 `json:"fps"`

	HasCredentials json.RawMessage `json:"has_credentials"`
	Created        json.RawMessage `json:"created"`
	Updated        json.RawMessage `json:"updated"`
	State          json.RawMessage `json:"state"`
}

// cameraView is a camera as the API shows it: the URL redacted.
type cameraView struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	URL            string    `json:"url"`
	Kind           string    `json:"kind"`
	Enabled        bool      `json:"enabled"`
	FPS            float64   `json:"fps"`
	HasCredentials bool      `json:"has_credentials"`
	Created        time.Time `json:"created"`
	Updated        time.Time `json:"updated"`
	State          string    `json:"state,omitempty"`
}

func (a *api) view(c store.Camera) cameraView {
	v := cameraView{
		ID: c.ID, Name: c.Name, URL: redactLocation(c.URL), Kind: c.Kind, Enabled: c.Enabled,
		FPS: c.FPS, HasCredentials: hasPassword(c.URL), Created: c.Created, Updated: c.Updated,
	}
	if a.deps.Cameras != nil {
		if st, ok := a.deps.Cameras.Status(c.ID); ok {
			v.State = st.State
		}
	}
	return v
}

// camera loads a camera named in the path; an ID that cannot exist, and a
// camera outside the groups a user is limited to, are simply not found.
func (a *api) camera(ctx context.Context, id string) (store.Camera, error) {
	if !scene.ValidName(id) || !canSee(ctx, id) {
		return store.Camera{}, notFound("camera %q not found", id)
	}
	c, err := a.deps.Store.GetCamera(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return c, notFound("camera %q not found", id)
	}
	return c, err
}

func (a *api) listCameras(w http.ResponseWriter, r *http.Request) error {
	cams, err := a.deps.Store.ListCameras(r.Context())
	if err != nil {
		return err
	}
	cams = onlyVisible(r.Context(), cams, func(c store.Camera) string { return c.ID })
	out := make([]cameraView, len(cams))
	for i, c := range cams {
		out[i] = a.view(c)
	}
	writeJSON(w, http.StatusOK, map[string]any{"cameras": out})
	return nil
}

func (a *api) getCamera(w http.ResponseWriter, r *http.Request) error {
	c, err := a.camera(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.view(c))
	return nil
}

func (a *api) createCamera(w http.ResponseWriter, r *http.Request) error {
	var in cameraInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.URL == nil {
		return badRequest("field \"url\" is required")
	}
	c, err := in.camera()
	if err != nil {
		return err
	}
	// A new camera's id must also be a NATS subject token and KV key, so
	// the same camera can run in a cluster ('.' would split the subject).
	// Cameras stored before keep their ids.
	if err := cluster.ValidID(c.ID); err != nil {
		return badRequest("field \"id\": %v", err)
	}
	ctx, cancel := detach(r)
	defer cancel()
	if err := a.checkSource(ctx, c.URL); err != nil {
		return err
	}
	a.camMu.Lock()
	defer a.camMu.Unlock()
	if _, err := a.deps.Store.GetCamera(ctx, c.ID); err == nil {
		return conflict("camera %q already exists", c.ID)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := a.checkCameraLimit(ctx); err != nil {
		return err
	}
	if err := a.admit(ctx, c); err != nil {
		return err
	}
	c.Created = a.opts.Now().UTC()
	c.Updated = c.Created
	if c, err = a.save(ctx, r, c, "create", nil); err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/cameras/"+c.ID)
	writeJSON(w, http.StatusCreated, a.view(c))
	return nil
}

func (a *api) updateCamera(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var in cameraInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.ID != "" && in.ID != id {
		return badRequest("body id %q differs from the path's %q; a camera cannot be renamed", in.ID, id)
	}
	ctx, cancel := detach(r)
	defer cancel()
	a.camMu.Lock()
	defer a.camMu.Unlock()
	old, err := a.camera(ctx, id)
	if err != nil {
		return err
	}
	c, err := in.merge(old)
	if err != nil {
		return err
	}
	if c.URL != old.URL { // an unchanged location keeps its trust (config cameras)
		if err := a.checkSource(ctx, c.URL); err != nil {
			return err
		}
	}
	if err := a.admit(ctx, c); err != nil {
		return err
	}
	c.Updated = a.opts.Now().UTC()
	if c, err = a.save(ctx, r, c, "update", &old); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.view(c))
	return nil
}

// merge applies a PUT body to the stored camera: the body replaces every
// field, except that an omitted url keeps the stored one and an omitted
// or redacted password keeps the stored password (see keepPassword).
func (in cameraInput) merge(old store.Camera) (store.Camera, error) {
	in.ID = old.ID
	loc := old.URL
	if in.URL != nil {
		var err error
		if loc, err = keepPassword(old.URL, *in.URL); err != nil {
			return store.Camera{}, err
		}
	}
	in.URL = &loc
	c, err := in.camera()
	c.Created = old.Created
	return c, err
}

// save stores a camera, records the change (before is nil for a new
// camera) in the audit log and has the manager (re)start it. It returns
// the camera as stored, since the store may keep its own timestamps.
func (a *api) save(ctx context.Context, r *http.Request, c store.Camera, what string, before *store.Camera) (store.Camera, error) {
	if err := a.deps.Store.PutCamera(ctx, c); err != nil {
		return c, fmt.Errorf("store camera %s: %s", c.ID, scrub(err.Error(), c.URL))
	}
	if got, err := a.deps.Store.GetCamera(ctx, c.ID); err == nil {
		c = got
	}
	a.log.Info("camera "+what+"d", "camera", c.ID, "url", redactLocation(c.URL), "enabled", c.Enabled)
	var prev any
	if before != nil {
		prev = a.view(*before)
	}
	a.audit(r, "camera."+what, "camera/"+c.ID, prev, a.view(c))
	if a.deps.Cameras == nil {
		return c, nil
	}
	if err := a.deps.Cameras.Apply(ctx, c); err != nil {
		msg := scrub(err.Error(), c.URL)
		a.log.Warn("camera not applied", "camera", c.ID, "err", msg)
		return c, unavailable("camera %q was saved but could not be started: %s", c.ID, msg)
	}
	return c, nil
}

func (a *api) deleteCamera(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := detach(r)
	defer cancel()
	a.camMu.Lock()
	defer a.camMu.Unlock()
	c, err := a.camera(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	// Stop before forgetting: a camera that runs but is not stored could
	// not be stopped again through the API.
	if a.deps.Cameras != nil {
		if err := a.deps.Cameras.Remove(ctx, c.ID); err != nil {
			return unavailable("camera %q could not be stopped: %s", c.ID, scrub(err.Error(), c.URL))
		}
	}
	if err := a.deps.Store.DeleteCamera(ctx, c.ID); err != nil {
		return err
	}
	a.log.Info("camera deleted", "camera", c.ID)
	a.audit(r, "camera.delete", "camera/"+c.ID, a.view(c), nil)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) cameraStatus(w http.ResponseWriter, r *http.Request) error {
	c, err := a.camera(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	st, ok := CameraStatus{}, false
	if a.deps.Cameras != nil {
		st, ok = a.deps.Cameras.Status(c.ID)
	}
	if !ok {
		st = CameraStatus{State: CameraConnecting, Reason: "not running yet"}
		if !c.Enabled {
			st = CameraStatus{State: CameraDisabled, Reason: "camera is disabled"}
		}
	}
	st.ID = c.ID
	st.Reason = scrub(st.Reason, c.URL)
	writeJSON(w, http.StatusOK, st)
	return nil
}

// detach gives writes a context that survives the client hanging up, so
// that a store write and the camera restart that follows it are not torn
// apart halfway; it still ends after a bound.
func detach(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
}

// camera validates the input into a camera (timestamps unset).
func (in cameraInput) camera() (store.Camera, error) {
	if !scene.ValidName(in.ID) {
		return store.Camera{}, badRequest("field \"id\" must be 1 to %d letters, digits, '_', '-' or '.', "+
			"starting with a letter or digit", maxIDLen)
	}
	name := in.Name
	if name == "" {
		name = in.ID
	}
	if len(name) > maxNameLen || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return store.Camera{}, badRequest("field \"name\" must be at most %d characters without control characters", maxNameLen)
	}
	kind, err := validateLocation(*in.URL, in.Kind)
	if err != nil {
		return store.Camera{}, err
	}
	if in.FPS != 0 && (in.FPS < minFPS || in.FPS > maxFPS) {
		return store.Camera{}, badRequest("field \"fps\" must be 0 (the source's own rate) or from %g to %d", minFPS, maxFPS)
	}
	enabled := in.Enabled == nil || *in.Enabled
	return store.Camera{ID: in.ID, Name: name, URL: *in.URL, Kind: kind, Enabled: enabled, FPS: in.FPS}, nil
}

// validateLocation checks a camera URL or path and returns its kind,
// inferred from the scheme when kind is empty. Messages show the URL
// redacted only.
func validateLocation(loc, kind string) (string, error) {
	if loc == "" || len(loc) > maxURLLen || strings.IndexFunc(loc, unicode.IsControl) >= 0 {
		return "", badRequest("field \"url\" must be 1 to %d characters without control characters", maxURLLen)
	}
	inferred, err := locationKind(loc)
	if err != nil {
		return "", err
	}
	if kind != "" && kind != inferred {
		return "", badRequest("field \"kind\" is %q but the url is a %s source (kinds: rtsp, onvif, file)", kind, inferred)
	}
	return inferred, nil
}

// locationKind classifies and validates a location: rtsp(s) URLs are
// streams, http(s) URLs ONVIF devices, replay sources and anything
// without a scheme files.
func locationKind(loc string) (string, error) {
	if ingest.IsReplay(loc) {
		// Frames made in process; it behaves like a file (paced, looping).
		if _, err := ingest.ParseReplay(loc); err != nil {
			return "", badRequest("field \"url\": %v", err)
		}
		return "file", nil
	}
	if !isURL(loc) {
		return "file", nil
	}
	scheme, _, _ := strings.Cut(loc, "://")
	switch strings.ToLower(scheme) {
	case "rtsp", "rtsps":
		if err := camurl.ValidateRTSP(loc); err != nil {
			return "", badRequest("field \"url\": %v", err)
		}
		return "rtsp", nil
	case "http", "https":
		return "onvif", validateONVIF(loc)
	}
	return "", badRequest("field \"url\" must be an rtsp://, rtsps://, http(s):// (ONVIF) URL or a file path, not %s",
		redactLocation(loc))
}

// validateONVIF checks an ONVIF device service URL.
func validateONVIF(loc string) error {
	u, err := camurl.Parse(loc)
	if err != nil {
		return badRequest("field \"url\" %s is %v", redactLocation(loc), err)
	}
	if u.Hostname() == "" {
		return badRequest("field \"url\" has no host: %s", redactLocation(loc))
	}
	for _, c := range u.Port() {
		if c < '0' || c > '9' {
			return badRequest("field \"url\" has a bad port: %s", redactLocation(loc))
		}
	}
	return nil
}
