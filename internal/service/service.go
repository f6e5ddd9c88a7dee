// Package service is `vigil serve`: it runs every configured camera under
// a supervisor, shares one detector between them fairly, runs each
// camera's frames through its analysis chain (internal/analysis), stores
// what the chains raise and serves the HTTP API, the live views and the
// metrics. It holds no per-frame analysis logic.
//
// Lifecycle. Every goroutine has an owner and is waited for. Run owns the
// detector pool, the HTTP server, the media janitor and the baseline saver
// (the last three in one run group); each camera's supervisor, decoder
// hand-off, feeder and consumer are owned by its runCamera, tracked in
// Service.wg. Shutdown, when Run's context ends, goes in this order:
//
//  1. the HTTP server stops taking requests; open streams (SSE, MJPEG) end
//     with the context;
//  2. the janitor and the saver stop;
//  3. every camera stops: its chain ends the stream (raising what was
//     pending on open tracks), the results are stored, the clips in
//     progress are finished and the baseline is saved;
//  4. the detector pool stops.
//
// Only then does Run return, so the caller may close the store and the
// model: nothing uses them any more.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/oklog/run"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vigil-cctv/vigil/internal/attrs"
	"github.com/vigil-cctv/vigil/internal/auth"
	"github.com/vigil-cctv/vigil/internal/capacity"
	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/httpapi"
	"github.com/vigil-cctv/vigil/internal/httpserver"
	"github.com/vigil-cctv/vigil/internal/live"
	"github.com/vigil-cctv/vigil/internal/media"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/search"
	"github.com/vigil-cctv/vigil/internal/secrets"
	"github.com/vigil-cctv/vigil/internal/snapshot"
	"github.com/vigil-cctv/vigil/internal/sourcepolicy"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/suppress"
	"github.com/vigil-cctv/vigil/internal/web"
)

// Service owns every running part of `vigil serve`.
type Service struct {
	cfg   *config.Config
	log   *slog.Logger
	store store.Store
	model Model
	pool  *Pool
	// replays are the replay cameras' recorded detections, by file.
	replays struct {
		mu     sync.Mutex
		byPath map[string]*RecordedModel
	}
	broker  *live.Broker[Message]
	hub     *live.Hub
	metrics *Metrics
	media   string
	started time.Time
	supp    *suppress.Set
	auth    *auth.Service
	queue   *opQueue
	policy  *sourcepolicy.Policy
	clu     *clusterRole // nil: single node
	janitor *media.Janitor
	mediaM  *media.Metrics
	recs    *recordings   // nil: media.recording.off
	index   *search.Index // suspect search; built from the store in Run
	embed   attrs.Embedder

	fixedCost *capacity.Cost // Deps.Capacity
	secrets   secrets.Sealer // Deps.Secrets

	mu     sync.Mutex
	cams   map[string]*camRun
	runCtx context.Context
	wg     sync.WaitGroup
}

// Deps are built by the caller (cli) so tests can inject their own.
type Deps struct {
	Store store.Store
	Model Model
	Log   *slog.Logger
	// Auth authenticates the API's users (cli builds it over Store).
	Auth *auth.Service
	// RegionModel detects crops for the detection plan; nil: the plan
	// detects whole frames or carries them.
	RegionModel RegionModel
	// MoreLanes infer beside Model and RegionModel (the first lane), in
	// parallel: each its own sessions at the same input sizes
	// (detector.lanes).
	MoreLanes []Lane
	// Embedder embeds person tracks' best crops for suspect search (safe
	// for concurrent use: every camera's chain calls it); nil: none.
	Embedder attrs.Embedder
	// Capacity fixes the inference costs admission control weighs; nil:
	// the mean of the inferences the detector pool has run.
	Capacity *capacity.Cost
	// Secrets seals camera URLs written to the cluster's config bucket
	// (every node needs the same key to open them); nil: they travel as
	// they are, which only tests do.
	Secrets secrets.Sealer
}

// New assembles a service; nothing runs until Run.
func New(cfg *config.Config, deps Deps) (*Service, error) {
	if err := checkSceneFiles(cfg); err != nil {
		return nil, err
	}
	if _, err := config.EnsureDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	mediaDir := filepath.Join(cfg.DataDir, "media")
	if err := os.MkdirAll(mediaDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	log := deps.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{cfg: cfg, log: log, store: deps.Store, model: deps.Model, broker: live.NewBroker[Message](cfg.Limits.MaxEventClients),
		metrics: NewMetrics(), media: mediaDir, cams: map[string]*camRun{}, supp: suppress.NewSet(), auth: deps.Auth,
		clu: newClusterRole(cfg.Cluster), index: search.NewIndex(), embed: deps.Embedder}
	s.hub = live.NewHub(live.Options{FPS: cfg.Live.FPS, MaxPerCamera: cfg.Limits.MaxViewersPerCamera, MaxTotal: cfg.Limits.MaxViewers,
		OnEncodeError: func(camera string, err error) { log.Warn("live view not encoded", "camera", camera, "err", err) }})
	s.metrics.Registry.MustRegister(newSupervisorCollector(s))
	s.registerAuthMetrics()
	s.mediaM = media.NewMetrics(s.metrics.Registry)
	if !cfg.Media.Recording.Off {
		s.recs = newRecordings(cfg, s.metrics.Registry)
	}
	s.janitor = &media.Janitor{Dir: s.media, MaxAge: time.Duration(cfg.Media.MaxAge), MaxBytes: cfg.Media.MaxBytes,
		MinFree: uint64(max(cfg.Media.MinFreeBytes, 0)), Metrics: s.mediaM, Log: log}
	var err error
	if s.policy, err = sourcepolicy.New(cfg.Sources.PolicyOptions()); err != nil {
		return nil, err
	}
	if s.queue, err = s.newQueue(); err != nil {
		return nil, err
	}
	s.pool = NewPool(2, append([]Lane{{Model: deps.Model, Region: deps.RegionModel}}, deps.MoreLanes...)...)
	s.fixedCost = deps.Capacity
	s.secrets = deps.Secrets
	s.registerCapacityMetrics()
	s.pool.OnDrop = s.dropped
	s.pool.OnInfer = func(cam string, d time.Duration) {
		s.metrics.Inference.WithLabelValues(cam).Observe(d.Seconds())
	}
	return s, nil
}

func (s *Service) mediaFailed(kind string) { s.mediaM.Failures.WithLabelValues(kind).Inc() }

func (s *Service) dropped(cam string, j Job) {
	s.mu.Lock()
	r := s.cams[cam]
	s.mu.Unlock()
	if r != nil {
		r.proc.recycle(j)
	}
}

func (s *Service) sinks() Sinks {
	return Sinks{Store: s.resultStore(), Queue: s.queue, Published: s.published, MediaFailed: s.mediaFailed,
		Metrics: s.metrics, Snapshot: &snapshot.Writer{Dir: s.media}, Log: s.log,
		Media: s.clipDir(), PreRoll: time.Duration(s.cfg.Media.PreRoll), PostRoll: time.Duration(s.cfg.Media.PostRoll),
		Search: s.index}
}

// Handler is the console at "/" and the HTTP API, with the service
// behind them.
func (s *Service) Handler() http.Handler {
	feed, snaps := s.liveFeeds()
	api := httpapi.New(httpapi.Deps{
		Store: s.store, Cameras: s.cameraManager(), Scenes: s.cameraManager(), Live: feed, Broker: s.broker, Feedback: s, Baselines: s,
		Metrics: promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{}),
		Ready:   s.ready, Logger: s.log, Auth: s.auth, Snapshots: snaps, Sources: s.policy, Previewer: s,
		Incidents: s.queue.eng, Outbox: s.queue.st, Redeliver: s.queue.worker.Notify, Search: s.index, Cluster: s.clusterStatus(),
		Recordings: s.recordingsAPI(),
	}, s.apiOptions())
	mux := http.NewServeMux()
	for _, p := range []string{"/metrics", "/healthz", "/readyz"} {
		mux.Handle(p, api)
	}
	if s.clu != nil && !s.clu.has(config.RoleAPI) {
		return mux // a worker or coordinator: the console is on the api nodes
	}
	mux.Handle("/api/", api)
	mux.Handle("/", web.Handler())
	return mux
}

// ready is /readyz: not ready while starting, while any alert waits in the
// spool for the store, when the media folder cannot be written or the
// disk is below its free-space watermark.
func (s *Service) ready() error {
	if s.runCtx == nil {
		return errors.New("starting")
	}
	return errors.Join(s.queue.alerts.Ready(), media.CheckWritable(s.media), s.janitor.CheckFree())
}

// Run starts the cameras from the config, then serves HTTP on ln until
// ctx ends; it shuts down in the order of the package doc, losing no
// stored alert.
func (s *Service) Run(ctx context.Context, ln net.Listener) error {
	s.runCtx = ctx
	s.started = time.Now()
	poolCtx, stopPool := context.WithCancel(context.Background())
	poolDone := make(chan struct{})
	s.calibrate() // before the pool runs: the model is not safe for concurrent use
	go func() { defer close(poolDone); s.pool.Run(poolCtx) }()
	// The caller closes the model after Run returns: inference must have
	// stopped by then, and the cameras before it.
	defer func() { stopPool(); <-poolDone }()
	defer s.recs.close() // after the cameras have stopped writing
	defer s.stopAll()
	defer s.stopCluster() // a worker's cameras stop and hand over first
	if err := s.loadSuppressions(ctx); err != nil {
		return err
	}
	if err := s.loadIndex(ctx); err != nil {
		return err
	}
	if err := s.queue.start(ctx); err != nil {
		return err
	}
	if err := s.startCameras(ctx); err != nil {
		return err
	}
	var g run.Group
	s.addServer(&g, ctx, ln, s.Handler())
	if err := s.addMonitor(&g, ctx); err != nil {
		return err
	}
	addLoop(&g, func(ctx context.Context) error { s.janitor.Run(ctx, time.Minute); return nil })
	addLoop(&g, func(ctx context.Context) error { return s.saveBaselines(ctx, time.Duration(s.cfg.Anomaly.SaveEvery)) })
	addLoop(&g, s.queue.alerts.Run)
	addLoop(&g, s.queue.worker.Run)
	addLoop(&g, func(ctx context.Context) error {
		return s.queue.ticks(ctx, func(err error) { s.log.Warn("incident tick failed", "err", err) })
	})
	s.log.Info("serving", "addr", "http://"+ln.Addr().String(), "cameras", len(s.cfg.Cameras))
	return g.Run()
}

// addServer serves HTTP in g until ctx ends, then shuts the server down.
// Requests live in ctx, so streams (SSE, MJPEG) end with it instead of
// holding Shutdown until its timeout.
func (s *Service) addServer(g *run.Group, ctx context.Context, ln net.Listener, h http.Handler) {
	hc := s.cfg.HTTP
	srv := httpserver.New(httpapi.HostGuard(hc.AllowedHosts)(h), httpserver.Config{
		ReadHeaderTimeout: time.Duration(hc.ReadHeaderTimeout), ReadTimeout: time.Duration(hc.ReadTimeout),
		WriteTimeout: time.Duration(hc.WriteTimeout), IdleTimeout: time.Duration(hc.IdleTimeout),
		MaxHeaderBytes: hc.MaxHeaderBytes, Streaming: httpapi.IsStreaming, BaseContext: ctx})
	served := make(chan error, 1)
	g.Add(func() error {
		go func() { served <- srv.Serve(ln) }()
		select {
		case err := <-served:
			return err
		case <-ctx.Done():
		}
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := srv.Shutdown(shutdown)
		<-served // http.ErrServerClosed once Serve has returned
		return err
	}, func(error) { _ = srv.Close() })
}

// addLoop runs fn in g with a context the group cancels.
func addLoop(g *run.Group, fn func(ctx context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	g.Add(func() error { return fn(ctx) }, func(error) { cancel() })
}

// startConfigured registers the config's cameras in the store and starts
// them; a camera added through the API stays in the store and starts too.
func (s *Service) startConfigured(ctx context.Context) error {
	for _, c := range s.cfg.Cameras {
		if err := s.register(ctx, c); err != nil {
			return err
		}
	}
	cams, err := s.store.ListCameras(ctx)
	if err != nil {
		return fmt.Errorf("listing cameras: %w", err)
	}
	for _, c := range cams {
		if err := s.Apply(ctx, c); err != nil {
			s.log.Warn("camera not started", "camera", c.ID, "err", err)
		}
	}
	return nil
}

// register saves a configured camera and its scene file as a new scene
// version when the file changed, unless the stored scene was saved
// through the API since: the stored one wins (issue 16 item 10).
func (s *Service) register(ctx context.Context, c config.Camera) error {
	now := time.Now()
	cam := store.Camera{ID: c.ID, Name: c.Name, URL: c.URL, Kind: kindOf(c.URL), Enabled: !c.Disabled, FPS: c.FPS,
		Created: now, Updated: now}
	if old, err := s.store.GetCamera(ctx, c.ID); err == nil {
		cam.Created = old.Created
	}
	if err := s.store.PutCamera(ctx, cam); err != nil {
		return fmt.Errorf("camera %s: %w", c.ID, err)
	}
	if c.Scene == "" {
		return nil
	}
	data, err := os.ReadFile(c.Scene)
	if err != nil {
		return fmt.Errorf("camera %s: scene: %w", c.ID, err)
	}
	latest, err := s.store.LatestScene(ctx, c.ID)
	switch {
	case err == nil && latest.YAML == string(data):
		return nil
	case err == nil && !strings.HasPrefix(latest.Author, configAuthor):
		// Someone saved the scene through the API since the file was last
		// read: the stored scene wins, so a restart never reverts an edit.
		s.log.Warn("scene file differs from the scene saved through the API; the saved one is used",
			"camera", c.ID, "file", c.Scene, "version", latest.Version, "by", latest.Author)
		return nil
	}
	_, err = s.store.SaveScene(ctx, c.ID, string(data), configAuthor+s.cfg.File())
	return err
}

// checkSceneFiles loads every scene file the config names, so that a
// missing or invalid one stops vigil serve before it says it is serving
// (issue 16 item 10).
func checkSceneFiles(cfg *config.Config) error {
	for _, c := range cfg.Cameras {
		if c.Scene == "" {
			continue
		}
		if _, err := scene.Load(c.Scene); err != nil {
			return fmt.Errorf("camera %s: %w", c.ID, err) // err names the scene file
		}
	}
	return nil
}

// clipDir is where alert clips go; empty when media.no_clips is set.
func (s *Service) clipDir() string {
	if s.cfg.Media.NoClips {
		return ""
	}
	return s.media
}

// configAuthor prefixes the author of a scene version read from a scene
// file named by the config.
const configAuthor = "config:"

// kindOf is a camera's kind from its URL: a replay source (replay:…)
// is a file, looping or played once like one.
func kindOf(url string) string {
	switch {
	case strings.HasPrefix(url, "rtsp://"), strings.HasPrefix(url, "rtsps://"):
		return "rtsp"
	case strings.HasPrefix(url, "http://"), strings.HasPrefix(url, "https://"):
		return "onvif"
	}
	return "file"
}

func (s *Service) stopAll() {
	s.mu.Lock()
	runs := make([]*camRun, 0, len(s.cams))
	for _, r := range s.cams {
		runs = append(runs, r)
	}
	s.mu.Unlock()
	for _, r := range runs {
		s.hub.Remove(r.cam.ID)
		r.stop()
	}
	s.wg.Wait()
	s.hub.Close()
}

// Message is one item on the live event stream (SSE).
type Message = httpapi.Message
