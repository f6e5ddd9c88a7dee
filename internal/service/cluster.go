package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/vigil-cctv/vigil/internal/cluster"
	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/httpapi"
	"github.com/vigil-cctv/vigil/internal/incident"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/store"
)

// clusterRole is the node's part in a cluster (the config's `cluster:`
// section); nil in the embedded single-node mode, where nothing here runs.
//
// A worker runs the cameras the assignment bucket leases to it through the
// same processor and analysis chain as a single node; only the sinks
// differ: alerts, track summaries and counts are published to JetStream
// (clusterSink) instead of written to the store, and what a camera learned
// is kept in the handover store so its next owner continues from it. An
// api node serves the API and writes the streams into its store; camera and
// scene changes made through it go to the config bucket, which every
// worker watches. A coordinator places the cameras (internal/cluster).
type clusterRole struct {
	cfg  *config.Cluster
	node *cluster.Node // set once started

	mu     sync.Mutex
	leases map[string]cluster.Lease  // last lease of every camera this worker ran
	specs  map[string]*config.Camera // the bucket's config of the leased cameras
	seq    map[string]uint64         // counts and baseline flushes per camera
	saved  map[string]string         // handover last saved per camera (to skip unchanged)

	// starting serialises the starts and stops of leased cameras, so a
	// start retried in the background cannot outlive the lease's revoke.
	starting sync.Mutex
	waiting  map[string]cluster.Lease // leased cameras not started yet (retried)

	// sharing guards shared: the suppressions this api node has put in
	// the config bucket (clustersupp.go).
	sharing sync.Mutex
	shared  map[int64]bool
	// inBucket is what the config watch has seen of the bucket's
	// suppressions, whoever put them (a node before its restart).
	bucketMu sync.Mutex
	inBucket map[int64]bool
}

func newClusterRole(c *config.Cluster) *clusterRole {
	if c == nil {
		return nil
	}
	return &clusterRole{cfg: c, leases: map[string]cluster.Lease{}, specs: map[string]*config.Camera{},
		seq: map[string]uint64{}, saved: map[string]string{}, waiting: map[string]cluster.Lease{},
		shared: map[int64]bool{}, inBucket: map[int64]bool{}}
}

func (r *clusterRole) has(role string) bool { return r != nil && r.cfg.HasRole(role) }

// worker reports whether this node publishes what its cameras raise.
func (r *clusterRole) worker() bool { return r.has(config.RoleWorker) }

// spec is the bucket's config of a camera this worker was leased (nil for
// any other): the cluster's answer to Service.configured.
func (r *clusterRole) spec(id string) *config.Camera {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.specs[id]
}

func (r *clusterRole) lease(camera string) (cluster.Lease, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	l, ok := r.leases[camera]
	return l, ok
}

func (r *clusterRole) nextSeq(camera string) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq[camera]++
	return r.seq[camera]
}

// CheckCluster connects to the configured NATS servers and closes the
// connection: `vigil serve` calls it first, so a wrong URL or wrong
// credentials fail at once with an error that says which, before anything
// else is opened.
func CheckCluster(ctx context.Context, c *config.Cluster) error {
	nc, err := cluster.Connect(ctx, cluster.FromConfig(c, nil).NATS)
	if err != nil {
		return err
	}
	nc.Close()
	return nil
}

// startCameras starts the configured cameras (single node) or joins the
// cluster under the node's roles.
func (s *Service) startCameras(ctx context.Context) error {
	if s.clu == nil {
		return s.startConfigured(ctx)
	}
	return s.startCluster(ctx)
}

// calibrationRuns is how many inferences of each kind a cluster worker
// times before it joins.
const calibrationRuns = 5

// calibrate measures the detector on a 1280×720 frame before the pool
// starts, when this node is a cluster worker whose capacity is neither
// configured nor injected: its first heartbeat then carries a measured
// capacity for placement, and the pool's running costs refine it. A node
// that replays recorded detections runs no inference and reports 0
// (placement then goes by camera count).
func (s *Service) calibrate() {
	if !s.clu.worker() || s.clu.cfg.CapacityFPS > 0 || s.fixedCost != nil || s.model == nil {
		return
	}
	if _, replay := s.model.(*RecordedModel); replay {
		return
	}
	if err := s.pool.Calibrate(calibrationRuns, 1280, 720); err != nil {
		s.log.Warn("cluster: capacity not measured; placement counts cameras until inference runs", "err", err)
		return
	}
	full, crop, _ := s.pool.Costs()
	s.log.Info("cluster: inference measured for placement", "full_ms", ms(full), "crop_ms", ms(crop))
}

// startCluster starts the node. An api node first publishes the config
// file's cameras and scenes to the config bucket (the file seeds the
// cluster; the API changes it afterwards).
func (s *Service) startCluster(ctx context.Context) error {
	nc := cluster.FromConfig(s.clu.cfg, s.log)
	nc.Addr = s.cfg.Listen
	if nc.Capacity == nil { // capacity_fps not configured: the measured figure
		nc.Capacity = func() float64 { return s.Capacity(ctx).CapacityFPS }
	}
	if s.clu.worker() {
		nc.Worker = cluster.WorkerCallbacks{OnAssign: func(l cluster.Lease) { s.clusterAssign(ctx, l) }, OnRevoke: s.clusterRevoke}
		nc.Frame = s.liveJPEG
		nc.Verdict = func(ev event.Event, confirmed bool) error { return s.feedBaseline(ctx, ev, confirmed) }
	}
	if s.clu.has(config.RoleAPI) {
		rs, ok := s.store.(cluster.RecordStore)
		if !ok {
			return fmt.Errorf("cluster: the store %T cannot take keyed records", s.store)
		}
		nc.Consumer = cluster.ConsumerOptions{Writer: apiWriter{s: s, rest: cluster.StoreWriter{Store: rs}}}
	}
	node, err := cluster.Start(ctx, nc)
	if err != nil {
		return err
	}
	s.clu.mu.Lock()
	s.clu.node = node
	s.clu.mu.Unlock()
	if s.clu.has(config.RoleAPI) {
		if err := s.seedCluster(ctx); err != nil {
			return err
		}
	} else if len(s.cfg.Cameras) > 0 {
		s.log.Warn("cluster: the config file's cameras are ignored on a node without the api role; an api node's config or the API configures them",
			"cameras", len(s.cfg.Cameras))
	}
	// Every node watches the config: workers for their cameras' changes,
	// every node for the suppressions in force.
	s.wg.Go(func() { s.watchClusterConfig(ctx) })
	s.shareSuppressions(ctx)
	if s.clu.worker() {
		s.wg.Go(func() { s.saveHandovers(ctx, time.Duration(s.cfg.Anomaly.SaveEvery)) })
	}
	return nil
}

// stopCluster leaves the cluster: the worker's cameras stop (their state
// handed over), the heartbeat is deleted so they move at once.
func (s *Service) stopCluster() {
	if s.clu == nil {
		return
	}
	s.clu.mu.Lock()
	node := s.clu.node
	s.clu.mu.Unlock()
	if node != nil {
		if s.clu.worker() {
			s.handOverAll()
		}
		if err := node.Close(); err != nil {
			s.log.Warn("cluster: leaving", "err", err)
		}
	}
}

// clusterStatus is what the console's cluster page reads (nil on a
// single node).
func (s *Service) clusterStatus() httpapi.ClusterStatus {
	if s.clu == nil {
		return nil
	}
	return clusterStatusReader{s}
}

type clusterStatusReader struct{ s *Service }

func (c clusterStatusReader) Status(ctx context.Context) (cluster.Status, error) {
	node := c.s.clusterNode()
	if node == nil {
		return cluster.Status{}, errors.New("this node has not joined the cluster yet")
	}
	return node.Status(ctx)
}

func (s *Service) clusterNode() *cluster.Node {
	s.clu.mu.Lock()
	defer s.clu.mu.Unlock()
	return s.clu.node
}

// seedCluster stores the config file's cameras (and their scenes) in the
// store and the config bucket.
func (s *Service) seedCluster(ctx context.Context) error {
	for _, c := range s.cfg.Cameras {
		if err := s.register(ctx, c); err != nil {
			return err
		}
		cam, err := s.store.GetCamera(ctx, c.ID)
		if err != nil {
			return fmt.Errorf("camera %s: %w", c.ID, err)
		}
		// The scene first: the camera entry is what gets it placed, and a
		// worker that starts it must find its scene (a short file could
		// otherwise play through without rules before the scene arrives).
		var sceneRev uint64
		if c.Scene != "" {
			data, err := os.ReadFile(c.Scene)
			if err != nil {
				return fmt.Errorf("camera %s: scene: %w", c.ID, err)
			}
			if sceneRev, err = s.putClusterScene(ctx, c.ID, string(data)); err != nil {
				return err
			}
		}
		if err := s.writeClusterCamera(ctx, cam, sceneRev); err != nil {
			return err
		}
	}
	return nil
}

// putClusterCamera writes a camera's config to the bucket with the
// revision of its scene entry there, if any.
func (s *Service) putClusterCamera(ctx context.Context, c store.Camera) error {
	cfg := s.clusterNode().Config()
	_, rev, err := cfg.Get(ctx, cluster.ConfigScene, c.ID)
	if err != nil && !errors.Is(err, cluster.ErrNotFound) {
		return err
	}
	// This read too may reach a replica behind: the revision the entry
	// already names is kept when it is the later.
	if raw, _, err := cfg.Get(ctx, cluster.ConfigCamera, c.ID); err == nil {
		var cur cluster.CameraConfig
		if json.Unmarshal(raw, &cur) == nil {
			rev = max(rev, cur.SceneRev)
		}
	}
	return s.writeClusterCamera(ctx, c, rev)
}

// writeClusterCamera writes a camera's config to the bucket: its store
// entry and, for a config-file camera, the file's settings, with the
// revision of its scene entry (0: none), which a worker waits to read.
func (s *Service) writeClusterCamera(ctx context.Context, c store.Camera, sceneRev uint64) error {
	spec := config.Camera{ID: c.ID, Name: c.Name, URL: c.URL, FPS: c.FPS, Disabled: !c.Enabled, Loop: c.Kind == "file"}
	if cc := s.configured(c.ID); cc != nil {
		spec = *cc
		spec.Name, spec.URL, spec.FPS, spec.Disabled = c.Name, c.URL, c.FPS, !c.Enabled
	}
	spec.Scene = "" // scenes travel as their own entries
	var err error
	if spec.URL, err = s.sealClusterURL(c.ID, spec.URL); err != nil {
		return err
	}
	raw, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	_, err = s.clusterNode().Config().PutCamera(ctx, cluster.CameraConfig{ID: c.ID, FPS: c.FPS, Disabled: !c.Enabled,
		Spec: raw, SceneRev: sceneRev})
	return err
}

// putClusterScene writes a camera's scene to the bucket and returns its
// revision.
func (s *Service) putClusterScene(ctx context.Context, camera, yaml string) (uint64, error) {
	return s.clusterNode().Config().Put(ctx, cluster.ConfigScene, camera, []byte(yaml))
}

// clusterCameras is the API's camera manager on an api node: a change is
// written to the config bucket, and whichever worker holds the camera
// applies it from there.
type clusterCameras struct{ s *Service }

// Apply publishes the camera's new config (httpapi.CameraManager).
func (c clusterCameras) Apply(ctx context.Context, cam store.Camera) error {
	if err := cluster.ValidID(cam.ID); err != nil {
		return err
	}
	return c.s.putClusterCamera(ctx, cam)
}

// Remove deletes the camera from the bucket: it stops everywhere.
func (c clusterCameras) Remove(ctx context.Context, id string) error {
	err := c.s.clusterNode().Config().Delete(ctx, cluster.ConfigCamera, id)
	if errors.Is(err, cluster.ErrNotFound) {
		return nil
	}
	return err
}

// Status is the camera's state when this node runs it.
func (c clusterCameras) Status(id string) (httpapi.CameraStatus, bool) { return c.s.Status(id) }

// ApplyScene publishes a scene (httpapi.SceneApplier).
// The camera's entry is written again with the scene's revision, so a
// worker that starts it later (a failover) waits for this scene rather
// than start with an older one read from a replica behind.
func (c clusterCameras) ApplyScene(ctx context.Context, camera string, _ *scene.Scene, yaml string) error {
	rev, err := c.s.putClusterScene(ctx, camera, yaml)
	if err != nil {
		return err
	}
	cam, err := c.s.store.GetCamera(ctx, camera)
	if errors.Is(err, store.ErrNotFound) {
		return nil // a scene kept for a camera not configured yet
	}
	if err != nil {
		return err
	}
	return c.s.writeClusterCamera(ctx, cam, rev)
}

// cameraManager is what the API changes cameras and scenes through.
func (s *Service) cameraManager() interface {
	httpapi.CameraManager
	httpapi.SceneApplier
} {
	if s.clu != nil {
		return clusterCameras{s}
	}
	return s
}

// apiWriter is the api node's store writer. Alerts go through the
// incident engine, as on a single node: stored once by their record key
// (alerts.event_key), opened or joined to an incident as the protocols
// say, their messages committed to the outbox in the same transaction,
// then put on the event stream. Tracks, counts and baselines go straight
// to the store by key. Several api nodes share the consumer, each getting
// part of a camera's alerts: the store serialises each camera's incident
// decisions across them (see package incident), and their delivery
// workers claim outbox lanes under the node's name (package deliver).
type apiWriter struct {
	s    *Service
	rest cluster.StoreWriter
}

// WriteBatch writes rs; an error makes the consumer deliver them again.
func (w apiWriter) WriteBatch(ctx context.Context, rs []cluster.Record) error {
	var events, rest []cluster.Record
	for _, r := range rs {
		if r.Kind == cluster.KindEvent && r.Event != nil {
			events = append(events, r)
		} else {
			rest = append(rest, r)
		}
	}
	if len(events) > 0 {
		res, err := engineStore{eng: w.s.queue.eng}.handleBatch(ctx, events)
		if err != nil {
			return err
		}
		for i, r := range res {
			if !r.Existed { // a redelivery was announced when it was stored
				w.s.publishAlert(ctx, r.Alert, events[i].Event.Camera)
			}
		}
	}
	if len(rest) == 0 {
		return nil
	}
	if err := w.rest.WriteBatch(ctx, rest); err != nil {
		return err
	}
	return w.s.indexTracks(ctx, rest)
}

// handleBatch stores a cluster's events through the incident engine in
// one transaction, each under its key.
func (e engineStore) handleBatch(ctx context.Context, rs []cluster.Record) ([]incident.Result, error) {
	in := make([]incident.Input, len(rs))
	for i, r := range rs {
		ev := *r.Event
		ev.ID = r.Key
		at := ev.At
		if at.IsZero() {
			at = time.Now() // a camera without a known clock
		}
		in[i] = incident.Input{Event: ev, At: at}
	}
	return e.eng.HandleBatch(ctx, in)
}
