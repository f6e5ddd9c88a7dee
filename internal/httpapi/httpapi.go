// Package httpapi is Vigil's HTTP interface for control-room clients:
// camera and scene management, the alert list and its operator workflow,
// counters, live MJPEG views, a server-sent event stream, health probes
// and metrics. It is plain net/http: one ServeMux with method+pattern
// routes built from a single route table, which the OpenAPI document
// (openapi.yaml, served at /api/v1/openapi.yaml) is tested against.
//
// Every response is JSON except the media, stream, metrics and OpenAPI
// routes. Errors have the shape {"error":{"code":"...","message":"..."}}
// with a stable code (see the code* constants). A camera URL may hold a
// password; it never leaves this package unredacted, neither in responses
// nor in log lines.
//
// Every route names the least auth.Role it needs (routeTable). Requests
// authenticate with the console's session cookie, an API token
// (Authorization: Bearer) or, from configured proxy addresses only, a
// trusted proxy's user header; state-changing requests must also pass a
// cross-origin check and, with a cookie, carry the session's CSRF token.
// The user is put in the request's context: "who" of every action comes
// from there, never from the request body, and every change is written
// to the audit log. Users limited to camera groups see and act on those
// cameras only; others answer 404 as if they did not exist.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/vigil-cctv/vigil/internal/auth"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/store"
)

// CameraManager runs cameras. The service implements it.
type CameraManager interface {
	// Apply starts or restarts a camera after it was created or updated
	// (a disabled camera is stopped). It should not block on the stream
	// connecting: progress shows in Status.
	Apply(ctx context.Context, c store.Camera) error
	// Remove stops a camera before it is deleted; it returns nil for an
	// ID it does not run.
	Remove(ctx context.Context, id string) error
	// Status reports a camera's runtime state; false when not running.
	Status(id string) (CameraStatus, bool)
}

// Camera runtime states reported in CameraStatus.State.
const (
	CameraConnecting = "connecting"
	CameraStreaming  = "streaming"
	CameraStalled    = "stalled"
	CameraFailed     = "failed"
	CameraDisabled   = "disabled"
)

// CameraStatus is a camera's runtime state and frame counters. Reason may
// quote a stream error; the API scrubs the camera's password from it.
type CameraStatus struct {
	ID             string    `json:"id"`
	State          string    `json:"state"` // connecting|streaming|stalled|failed|disabled
	Reason         string    `json:"reason,omitempty"`
	Since          time.Time `json:"since"`
	FramesIn       int64     `json:"frames_in"`
	FramesDecoded  int64     `json:"frames_decoded"`
	FramesDetected int64     `json:"frames_detected"`
	FramesDropped  int64     `json:"frames_dropped"`
	FPS            float64   `json:"fps"`
}

// SceneApplier hot-reloads a camera's scene after it was validated and
// saved. yaml is the saved text, sc its parsed form.
type SceneApplier interface {
	ApplyScene(ctx context.Context, camera string, sc *scene.Scene, yaml string) error
}

// LiveFeed hands out a camera's annotated frames for the MJPEG view.
type LiveFeed interface {
	// Subscribe returns JPEG frames with overlays; the feed closes frames
	// when the camera stops. cancel must be called exactly once and is
	// what releases the subscription. Slow viewers should get frames
	// dropped, not block the pipeline: that is the feed's job.
	// err wrapping store.ErrNotFound means the camera is not running.
	Subscribe(camera string) (frames <-chan []byte, cancel func(), err error)
}

// Message types carried by the Broker.
const (
	MessageAlert       = "alert"
	MessageCameraState = "camera_state"
	MessageAlertState  = "alert_state"
)

// Message is one server-sent event: Type names it, Data is sent as JSON.
// Camera names the camera it is about, so that users limited to camera
// groups get only their cameras' messages; when empty it is read from
// Data (an alert, or a map with a "camera" key), and a message about no
// known camera reaches only users who see every camera.
type Message struct {
	Type   string `json:"type"`
	Data   any    `json:"data"`
	Camera string `json:"-"`
}

// Broker fans messages out to the event stream's clients.
type Broker interface {
	// Subscribe returns a channel of messages and a cancel func that ends
	// the subscription (and may close the channel). A slow subscriber
	// should lose messages rather than stall publishers: the broker's job.
	Subscribe() (<-chan Message, func())
}

// Publisher is optionally implemented by the Broker. When it is, an
// operator's alert transition is published here as an "alert_state"
// message whose data is the updated alert as GET /api/v1/alerts/{id}
// shows it (a store.Alert plus links); when it is not, the
// service must publish transitions itself.
type Publisher interface {
	Publish(Message)
}

// Deps are the services the API drives. Only Store is required: a nil
// Cameras, Scenes, Live, Broker or Metrics makes the routes that need it
// answer 503 unavailable; a nil Ready means always ready.
type Deps struct {
	Store   store.Store
	Cameras CameraManager
	Scenes  SceneApplier
	Live    LiveFeed
	Broker  Broker
	// Feedback acts on verdicts; nil: verdicts are only stored, and
	// lifting a suppression only deletes it from the store.
	Feedback Feedback
	// Baselines shows learned baselines; nil: those routes answer 503.
	Baselines Baselines
	// Sources vets camera locations created or changed through the API;
	// nil accepts every location, which only tests should rely on.
	Sources SourceChecker
	// Incidents is the operator queue and its protocols (the incident
	// engine); nil: the incident and protocol routes answer 503.
	Incidents Incidents
	// Outbox lists and retries dead letters (the store); nil: 503.
	// Redeliver, when set, wakes the delivery worker after a retry.
	Outbox    Outbox
	Redeliver func()
	Metrics   http.Handler // Prometheus exposition
	Ready     func() error // nil error: ready to serve traffic
	Logger    *slog.Logger // nil: discard
	// Auth authenticates requests and keeps accounts and the audit log.
	// Required unless Options.AuthDisabled: without it every route that
	// needs a login answers 503.
	Auth *auth.Service
	// Snapshots gives the latest frame of a camera for the wall's tiles;
	// nil: that route answers 503.
	Snapshots Snapshotter
	// Previewer replays stored tracks through an edited scene; nil: the
	// preview route answers 503.
	Previewer ScenePreviewer
	// Search is the suspect-search index; nil (or a Store that is not a
	// store.SearchStore): the search and track routes answer 503.
	Search SearchIndex
	// Cluster reads the cluster's state on a cluster api node; nil on a
	// single node: GET /api/v1/cluster answers 503.
	Cluster ClusterStatus
	// Recordings cut tracks' video from the cameras' recordings; nil: a
	// track's video is only an alert's clip.
	Recordings Recordings
}

// Recordings are the cameras' continuous recordings.
type Recordings interface {
	// HasVideo reports whether the camera's recording may hold video of
	// [from, to]; it must be cheap (it runs for every track view).
	HasVideo(camera string, from, to time.Time) bool
	// Video is that video as an MP4; an error wrapping store.ErrNotFound
	// means none was kept.
	Video(ctx context.Context, camera string, from, to time.Time) ([]byte, error)
}

// Options tune the API; the zero value is usable.
type Options struct {
	// MediaDir is the only directory alert snapshots, crops and clips are
	// served from. Empty disables those routes (404).
	MediaDir string
	// Heartbeat is the interval of SSE keep-alive comments (default 15 s),
	// short enough that proxies do not close an idle stream.
	Heartbeat time.Duration
	// WriteTimeout bounds each write to a streaming client (default 10 s),
	// so a client that stops reading cannot hold a handler forever.
	WriteTimeout time.Duration
	// Now is the clock for camera timestamps (default time.Now).
	Now func() time.Time
	// AuthDisabled serves every request from a loopback address as the
	// administrator "local" and refuses all others. The config allows it
	// only with a loopback listen address.
	AuthDisabled bool
	// TrustedProxies are the addresses whose ProxyUserHeader names the
	// user and whose X-Forwarded-For gives the client address.
	TrustedProxies  []netip.Prefix
	ProxyUserHeader string
	// TrustedOrigins are other origins ("https://console.example") whose
	// pages may make state-changing requests, e.g. behind a proxy that
	// rewrites Host.
	TrustedOrigins []string
	// SeparateMonitor leaves /metrics, /healthz and /readyz out of this
	// handler: they are served by NewMonitor on their own address.
	SeparateMonitor bool
	// SceneValidations bounds how many scene uploads are validated at
	// once (default 2); SceneTimeout bounds the wait for a slot and each
	// validation (default 5 s).
	SceneValidations int
	SceneTimeout     time.Duration
	// MaxCameras bounds how many cameras the store may hold before
	// POST /cameras answers 429 (0: no limit).
	MaxCameras int
}

// maxBody bounds every request body: cameras, transitions and scene files
// are all far smaller, and the bound keeps a client from exhausting memory.
const maxBody = 1 << 20

// api holds the handlers' shared state.
type api struct {
	deps Deps
	opts Options
	log  *slog.Logger
	mux  *http.ServeMux
	// camMu serialises camera writes so that create-if-absent and the
	// read-merge-write of an update are atomic within this process.
	camMu sync.Mutex
	// roles maps each mux pattern to its route's least role.
	roles map[string]auth.Role
	// cop refuses state-changing requests from other sites' pages.
	cop *http.CrossOriginProtection
	// sceneSlots holds one token per scene validation in progress.
	sceneSlots chan struct{}
}

// New returns the API handler. deps.Store must not be nil.
func New(deps Deps, opts Options) http.Handler {
	a := newAPI(deps, opts)
	return a.chain(http.HandlerFunc(a.dispatch))
}

// newAPI applies the option defaults and builds the routes.
func newAPI(deps Deps, opts Options) *api {
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 15 * time.Second
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SceneValidations <= 0 {
		opts.SceneValidations = defaultSceneValidations
	}
	if opts.SceneTimeout <= 0 {
		opts.SceneTimeout = defaultSceneTimeout
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &api{deps: deps, opts: opts, log: log, mux: http.NewServeMux(), roles: map[string]auth.Role{},
		cop: http.NewCrossOriginProtection(), sceneSlots: make(chan struct{}, opts.SceneValidations)}
	for _, o := range opts.TrustedOrigins {
		// The config validates origins; one that is still bad is left
		// out, which can only refuse requests, never admit more.
		if err := a.cop.AddTrustedOrigin(o); err != nil {
			log.Error("trusted origin ignored", "origin", o, "err", err)
		}
	}
	for _, rt := range routeTable() {
		if opts.SeparateMonitor && isMonitorPath(rt.path) {
			continue
		}
		pattern := rt.method + " " + rt.path
		a.mux.HandleFunc(pattern, a.adapt(rt.handle))
		a.roles[pattern] = rt.role
	}
	return a
}

// chain wraps a handler in the middleware every response goes through.
func (a *api) chain(h http.Handler) http.Handler {
	return a.accessLog(a.recoverPanics(securityHeaders(a.limitBody(a.guard(h)))))
}

// handlerFunc is a route handler. A returned error becomes the JSON error
// response (see fail); streaming handlers return nil once they started.
type handlerFunc func(*api, http.ResponseWriter, *http.Request) error

// route is one entry of the route table.
type route struct {
	method string
	path   string
	// role is the least role that may use the route; auth.Public routes
	// (probes, metrics) need no login.
	role   auth.Role
	handle handlerFunc
}

// routeTable is every route, in one place so that the OpenAPI test can
// compare it with the document.
func routeTable() []route {
	return []route{
		{http.MethodGet, "/api/v1/cameras", auth.Viewer, (*api).listCameras},
		{http.MethodPost, "/api/v1/cameras", auth.Admin, (*api).createCamera},
		{http.MethodGet, "/api/v1/cameras/{id}", auth.Viewer, (*api).getCamera},
		{http.MethodPut, "/api/v1/cameras/{id}", auth.Admin, (*api).updateCamera},
		{http.MethodDelete, "/api/v1/cameras/{id}", auth.Admin, (*api).deleteCamera},
		{http.MethodGet, "/api/v1/cameras/{id}/status", auth.Viewer, (*api).cameraStatus},
		{http.MethodGet, "/api/v1/cameras/{id}/scene", auth.Viewer, (*api).getScene},
		{http.MethodPut, "/api/v1/cameras/{id}/scene", auth.Supervisor, (*api).putScene},
		{http.MethodGet, "/api/v1/cameras/{id}/scene/versions", auth.Viewer, (*api).sceneVersions},
		{http.MethodGet, "/api/v1/cameras/{id}/live.mjpeg", auth.Viewer, (*api).liveMJPEG},
		{http.MethodGet, "/api/v1/alerts", auth.Viewer, (*api).listAlerts},
		{http.MethodGet, "/api/v1/alerts/{id}", auth.Viewer, (*api).getAlert},
		{http.MethodPost, "/api/v1/alerts/{id}/transition", auth.Operator, (*api).transitionAlert},
		{http.MethodGet, "/api/v1/alerts/{id}/snapshot", auth.Viewer, (*api).alertSnapshot},
		{http.MethodGet, "/api/v1/alerts/{id}/crop", auth.Viewer, (*api).alertCrop},
		{http.MethodGet, "/api/v1/alerts/{id}/clip", auth.Viewer, (*api).alertClip},
		{http.MethodGet, "/api/v1/counts", auth.Viewer, (*api).listCounts},
		{http.MethodGet, "/api/v1/stats", auth.Viewer, (*api).stats},
		{http.MethodGet, "/api/v1/capacity", auth.Viewer, (*api).getCapacity},
		{http.MethodGet, "/api/v1/cluster", auth.Supervisor, (*api).getCluster},
		{http.MethodGet, "/api/v1/stats/verdicts", auth.Viewer, (*api).verdicts},
		{http.MethodGet, "/api/v1/suppressions", auth.Viewer, (*api).listSuppressions},
		{http.MethodDelete, "/api/v1/suppressions/{id}", auth.Supervisor, (*api).deleteSuppression},
		{http.MethodGet, "/api/v1/cameras/{id}/baseline", auth.Viewer, (*api).baselineState},
		{http.MethodGet, "/api/v1/cameras/{id}/baseline/heatmap.png", auth.Viewer, (*api).baselineHeatmap},
		{http.MethodGet, "/api/v1/incidents", auth.Viewer, (*api).listIncidents},
		{http.MethodGet, "/api/v1/incidents/{id}", auth.Viewer, (*api).getIncident},
		{http.MethodPost, "/api/v1/incidents/{id}/transition", auth.Operator, (*api).transitionIncident},
		{http.MethodGet, "/api/v1/stats/response", auth.Viewer, (*api).responseStats},
		{http.MethodGet, "/api/v1/protocols", auth.Viewer, (*api).getProtocols},
		{http.MethodPut, "/api/v1/protocols", auth.Supervisor, (*api).putProtocols},
		{http.MethodGet, "/api/v1/deliveries/dead", auth.Viewer, (*api).listDeadLetters},
		{http.MethodPost, "/api/v1/deliveries/dead/{seq}/retry", auth.Supervisor, (*api).retryDeadLetter},
		{http.MethodGet, "/api/v1/events", auth.Viewer, (*api).events},
		{http.MethodGet, "/api/v1/openapi.yaml", auth.Viewer, (*api).openAPI},
		{http.MethodGet, "/api/v1/cameras/{id}/snapshot.jpg", auth.Viewer, (*api).cameraSnapshot},
		{http.MethodPost, "/api/v1/cameras/{id}/scene/preview", auth.Supervisor, (*api).previewScene},
		{http.MethodGet, "/api/v1/search", auth.Viewer, (*api).searchGet},
		{http.MethodPost, "/api/v1/search", auth.Viewer, (*api).searchPost},
		{http.MethodGet, "/api/v1/tracks/{id}", auth.Viewer, (*api).getTrack},
		{http.MethodGet, "/api/v1/tracks/{id}/thumb.jpg", auth.Viewer, (*api).trackThumb},
		{http.MethodGet, "/api/v1/tracks/{id}/video.mp4", auth.Viewer, (*api).trackVideo},
		{http.MethodPost, "/api/v1/login", auth.Public, (*api).login},
		{http.MethodPost, "/api/v1/logout", auth.Viewer, (*api).logout},
		{http.MethodGet, "/api/v1/me", auth.Viewer, (*api).me},
		{http.MethodPost, "/api/v1/me/password", auth.Viewer, (*api).changeOwnPassword},
		{http.MethodGet, "/api/v1/users", auth.Admin, (*api).listUsers},
		{http.MethodPost, "/api/v1/users", auth.Admin, (*api).createUser},
		{http.MethodGet, "/api/v1/users/{name}", auth.Admin, (*api).getUser},
		{http.MethodPatch, "/api/v1/users/{name}", auth.Admin, (*api).updateUser},
		{http.MethodPost, "/api/v1/users/{name}/password", auth.Admin, (*api).setPassword},
		{http.MethodGet, "/api/v1/tokens", auth.Admin, (*api).listTokens},
		{http.MethodPost, "/api/v1/tokens", auth.Admin, (*api).createToken},
		{http.MethodDelete, "/api/v1/tokens/{id}", auth.Admin, (*api).revokeToken},
		{http.MethodGet, "/api/v1/groups", auth.Viewer, (*api).listGroups},
		{http.MethodPut, "/api/v1/groups/{name}", auth.Admin, (*api).putGroup},
		{http.MethodDelete, "/api/v1/groups/{name}", auth.Admin, (*api).deleteGroup},
		{http.MethodGet, "/api/v1/audit", auth.Supervisor, (*api).listAudit},
		{http.MethodGet, "/metrics", auth.Public, (*api).metrics},
		{http.MethodGet, "/healthz", auth.Public, (*api).healthz},
		{http.MethodGet, "/readyz", auth.Public, (*api).readyz},
	}
}

// adapt turns a route handler into an http.HandlerFunc.
func (a *api) adapt(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(a, w, r); err != nil {
			a.fail(w, r, err)
		}
	}
}

// dispatch routes through the mux, but answers unmatched requests itself:
// the mux's own 404 and 405 replies are plain text, and clients of this
// API parse every error as JSON.
func (a *api) dispatch(w http.ResponseWriter, r *http.Request) {
	h, pattern := a.mux.Handler(r)
	if pattern != "" {
		a.mux.ServeHTTP(w, r)
		return
	}
	rec := &headerRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	switch rec.code {
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", rec.header.Get("Allow"))
		a.fail(w, r, errorf(http.StatusMethodNotAllowed, codeMethodNotAllowed,
			"method %s is not allowed here (allowed: %s)", r.Method, rec.header.Get("Allow")))
	case http.StatusNotFound:
		a.fail(w, r, errorf(http.StatusNotFound, codeNotFound, "no route for %s", r.URL.Path))
	default: // a redirect to the cleaned path: pass it through
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.code)
	}
}

// headerRecorder keeps the status and headers of the mux's fallback
// handlers and drops their plain-text body.
type headerRecorder struct {
	header http.Header
	code   int
}

func (h *headerRecorder) Header() http.Header { return h.header }
func (h *headerRecorder) Write(b []byte) (int, error) {
	if h.code == 0 {
		h.code = http.StatusOK
	}
	return len(b), nil
}
func (h *headerRecorder) WriteHeader(code int) {
	if h.code == 0 {
		h.code = code
	}
}
