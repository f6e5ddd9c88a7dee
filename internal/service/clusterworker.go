package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-cctv/vigil/internal/cluster"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/store"
)

// clusterCallTimeout bounds one call a worker makes to the buckets while
// starting or stopping a camera.
const clusterCallTimeout = 30 * time.Second

// clusterAssign starts a camera leased to this worker: its config and
// scene come from the config bucket, what it learned from the handover
// store (into the local store, where the chain reads it), then it runs
// like any camera. A start that fails is retried in the background while
// the lease lasts: a bucket read may go to a replica that has not yet seen
// the camera's config (KV reads are served by any replica), and a leased
// camera that never starts would be lost without anyone noticing.
func (s *Service) clusterAssign(ctx context.Context, l cluster.Lease) {
	s.clu.starting.Lock()
	defer s.clu.starting.Unlock()
	if err := s.startLeasedNow(ctx, l); err != nil {
		s.log.Warn("cluster: camera not started; retrying while it is leased here", "camera", l.Camera, "err", err)
		s.clu.waiting[l.Camera] = l
		s.sinks().Metrics.Unstarted.WithLabelValues(l.Camera).Set(1)
		s.wg.Go(func() { s.retryLeased(ctx, l) })
	}
}

// Bounds of the delay between two tries to start a leased camera.
const (
	retryStartMin = 250 * time.Millisecond
	retryStartMax = 10 * time.Second
)

// retryLeased tries to start a leased camera again, with a growing
// delay, until it starts, its lease is revoked or ctx ends.
func (s *Service) retryLeased(ctx context.Context, l cluster.Lease) {
	last := ""
	for delay := retryStartMin; ; delay = min(2*delay, retryStartMax) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		if s.retryLeasedOnce(ctx, l, &last) {
			return
		}
	}
}

// retryLeasedOnce makes one try; it reports whether retrying is over.
func (s *Service) retryLeasedOnce(ctx context.Context, l cluster.Lease, last *string) bool {
	s.clu.starting.Lock()
	defer s.clu.starting.Unlock()
	if s.clu.waiting[l.Camera] != l {
		return true // revoked, or leased again at another fence
	}
	err := s.startLeasedNow(ctx, l)
	if err == nil {
		delete(s.clu.waiting, l.Camera)
		s.sinks().Metrics.Unstarted.DeleteLabelValues(l.Camera)
		s.log.Info("cluster: camera started after a retry", "camera", l.Camera)
		return true
	}
	if err.Error() != *last {
		s.log.Warn("cluster: camera still not started; retrying", "camera", l.Camera, "err", err)
		*last = err.Error()
	}
	return false
}

// startLeasedNow is startLeased bounded by clusterCallTimeout.
func (s *Service) startLeasedNow(ctx context.Context, l cluster.Lease) error {
	ctx, cancel := context.WithTimeout(ctx, clusterCallTimeout)
	defer cancel()
	return s.startLeased(ctx, l)
}

func (s *Service) startLeased(ctx context.Context, l cluster.Lease) error {
	node := s.clusterNode()
	raw, _, err := node.Config().Get(ctx, cluster.ConfigCamera, l.Camera)
	if err != nil {
		return err
	}
	spec, err := s.clusterSpec(l.Camera, raw)
	if err != nil {
		return err
	}
	s.clu.mu.Lock()
	s.clu.leases[l.Camera] = l
	s.clu.specs[l.Camera] = &spec
	s.clu.mu.Unlock()
	if err := s.loadScene(ctx, l.Camera, sceneRevOf(raw)); err != nil {
		return err
	}
	s.takeOver(ctx, l.Camera)
	now := time.Now()
	cam := store.Camera{ID: spec.ID, Name: spec.Name, URL: spec.URL, Kind: kindOf(spec.URL), Enabled: !spec.Disabled,
		FPS: spec.FPS, Created: now, Updated: now}
	if err := s.store.PutCamera(ctx, cam); err != nil {
		return err
	}
	return s.Apply(ctx, cam)
}

// loadScene copies a camera's scene from the bucket into the local store,
// where its chain reads it, before the camera starts. The api node puts a
// camera's scene before the camera and names the scene's revision in the
// camera's entry (want), but this read may reach a replica behind the one
// that answered for the camera: the camera starts with its rules, never
// without them or with older ones (a short file would play through
// without raising its alerts); the caller retries.
func (s *Service) loadScene(ctx context.Context, camera string, want uint64) error {
	rev, err := s.syncScene(ctx, camera)
	switch {
	case errors.Is(err, cluster.ErrNotFound) && want == 0:
		return nil // the camera has no scene
	case errors.Is(err, cluster.ErrNotFound):
		return fmt.Errorf("camera %s: its scene is not readable yet: %w", camera, err)
	case err != nil:
		return fmt.Errorf("camera %s: scene not loaded: %w", camera, err)
	case rev < want:
		return fmt.Errorf("camera %s: its scene is not readable yet: revision %d read, %d written", camera, rev, want)
	}
	return nil
}

// sceneRevOf is the scene revision a camera entry names (0: none, or an
// entry written before entries named it).
func sceneRevOf(raw []byte) uint64 {
	var cc cluster.CameraConfig
	if json.Unmarshal(raw, &cc) != nil {
		return 0
	}
	return cc.SceneRev
}

// syncScene copies the bucket's scene of a camera into the local store
// (a new version only when it changed) and returns the entry's revision;
// errors.Is(err, cluster.ErrNotFound) when the bucket has none.
func (s *Service) syncScene(ctx context.Context, camera string) (uint64, error) {
	yaml, rev, err := s.clusterNode().Config().Get(ctx, cluster.ConfigScene, camera)
	if err != nil {
		return 0, err
	}
	return rev, s.storeScene(ctx, camera, yaml)
}

// storeScene saves a camera's scene from the bucket in the local store, a
// new version only when it changed.
func (s *Service) storeScene(ctx context.Context, camera string, yaml []byte) error {
	if v, err := s.store.LatestScene(ctx, camera); err == nil && v.YAML == string(yaml) {
		return nil
	}
	_, err := s.store.SaveScene(ctx, camera, string(yaml), "cluster")
	return err
}

// takeOver loads a camera's handed-over baseline and motion model into
// the local store, where the chain reads them when it starts.
func (s *Service) takeOver(ctx context.Context, camera string) {
	st, _, err := s.clusterNode().Handover().Load(ctx, camera)
	if errors.Is(err, cluster.ErrNotFound) {
		return
	}
	if err != nil {
		s.log.Warn("cluster: handover not loaded; the camera learns afresh", "camera", camera, "err", err)
		return
	}
	for key, data := range map[string][]byte{camera: st.Baseline, motionKey(camera): st.Motion} {
		if len(data) == 0 {
			continue
		}
		if err := s.store.PutBaseline(ctx, key, data); err != nil {
			s.log.Warn("cluster: handover not applied", "camera", key, "err", err)
		}
	}
	s.clu.mu.Lock()
	s.clu.saved[camera] = string(st.Baseline) + "\x00" + string(st.Motion)
	s.clu.mu.Unlock()
}

// clusterRevoke stops a camera (its last results published, its baseline
// saved locally), then hands what it learned over to its next owner in the
// background: a worker that fences itself because NATS is unreachable must
// stop every camera at once, not wait on a handover per camera. (A
// graceful stop hands over first, in handOverAll.)
func (s *Service) clusterRevoke(l cluster.Lease) {
	s.clu.starting.Lock()
	delete(s.clu.waiting, l.Camera)
	s.sinks().Metrics.Unstarted.DeleteLabelValues(l.Camera)
	_ = s.Remove(context.Background(), l.Camera)
	s.clu.starting.Unlock()
	s.clu.mu.Lock()
	delete(s.clu.specs, l.Camera)
	s.clu.mu.Unlock()
	s.wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), clusterCallTimeout)
		defer cancel()
		s.handOver(ctx, l)
	})
}

// handOverAll stops every leased camera and hands its state over while
// the node is still connected: the first step of a graceful stop.
func (s *Service) handOverAll() {
	s.clu.starting.Lock()
	clear(s.clu.waiting) // no background start after the node has left
	s.clu.starting.Unlock()
	for _, r := range s.running() {
		l, ok := s.clu.lease(r.cam.ID)
		if !ok {
			continue
		}
		_ = s.Remove(context.Background(), l.Camera)
		ctx, cancel := context.WithTimeout(context.Background(), clusterCallTimeout)
		s.handOver(ctx, l)
		cancel()
	}
}

// handOver saves a camera's locally saved baseline and motion model to
// the handover store (unless unchanged since the last save) and publishes
// the baseline as a snapshot for the system of record.
func (s *Service) handOver(ctx context.Context, l cluster.Lease) {
	base, _, berr := s.store.GetBaseline(ctx, l.Camera)
	mot, _, merr := s.store.GetBaseline(ctx, motionKey(l.Camera))
	if (berr != nil && !errors.Is(berr, store.ErrNotFound)) || (merr != nil && !errors.Is(merr, store.ErrNotFound)) {
		s.log.Warn("cluster: baseline not read for handover", "camera", l.Camera, "err", errors.Join(berr, merr))
		return
	}
	if base == nil && mot == nil {
		return
	}
	sum := string(base) + "\x00" + string(mot)
	s.clu.mu.Lock()
	same := s.clu.saved[l.Camera] == sum
	s.clu.mu.Unlock()
	if same {
		return
	}
	node := s.clusterNode()
	if err := node.Handover().Save(ctx, l, cluster.HandoverState{Baseline: base, Motion: mot}); err != nil {
		s.log.Warn("cluster: handover not saved", "camera", l.Camera, "err", err)
		return
	}
	s.clu.mu.Lock()
	s.clu.saved[l.Camera] = sum
	s.clu.mu.Unlock()
	if len(base) > 0 {
		if err := node.Publisher().Baseline(ctx, l, s.clu.nextSeq(l.Camera), base); err != nil {
			s.log.Warn("cluster: baseline snapshot not published", "camera", l.Camera, "err", err)
		}
	}
}

// saveHandovers hands over every running camera's learning every
// interval (the local saver writes it first), so a worker that dies
// loses at most about two intervals of it.
func (s *Service) saveHandovers(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, r := range s.running() {
			if l, ok := s.clu.lease(r.cam.ID); ok {
				s.handOver(ctx, l)
			}
		}
	}
}

// watchClusterConfig applies config bucket changes: the suppressions in
// force (every node), and the changes of the cameras this worker runs: a
// new scene is hot-reloaded, a changed camera restarts. (Added and removed
// cameras reach the worker as assignments.)
func (s *Service) watchClusterConfig(ctx context.Context) {
	err := s.clusterNode().Config().Watch(ctx, func(ch cluster.ConfigChange) {
		if ch.Kind == cluster.ConfigSuppression {
			s.applySharedSuppression(ch)
			return
		}
		l, ok := s.clu.lease(ch.ID)
		if !ok || s.clu.spec(ch.ID) == nil || ch.Deleted {
			return
		}
		cctx, cancel := context.WithTimeout(ctx, clusterCallTimeout)
		defer cancel()
		switch ch.Kind {
		case cluster.ConfigScene:
			s.applyClusterScene(cctx, ch.ID, ch.Value)
		case cluster.ConfigCamera:
			s.restartChanged(cctx, l, ch.Value)
		}
	}, nil)
	if err != nil {
		s.log.Warn("cluster: config watch ended", "err", err)
	}
}

// restartChanged restarts a running leased camera whose config changed,
// unless its lease was revoked meanwhile.
func (s *Service) restartChanged(ctx context.Context, l cluster.Lease, raw []byte) {
	s.clu.starting.Lock()
	defer s.clu.starting.Unlock()
	if cur, ok := s.clu.lease(l.Camera); !ok || cur != l || s.clu.spec(l.Camera) == nil || !s.specChanged(l.Camera, raw) {
		return
	}
	if err := s.startLeased(ctx, l); err != nil {
		s.log.Warn("cluster: camera not restarted", "camera", l.Camera, "err", err)
	}
}

// applyClusterScene stores and applies the scene the watch delivered; it
// is not read from the bucket again, where a replica behind could answer
// with the previous one and leave the store behind the chain.
func (s *Service) applyClusterScene(ctx context.Context, camera string, yaml []byte) {
	if err := s.storeScene(ctx, camera, yaml); err != nil {
		s.log.Warn("cluster: scene not stored", "camera", camera, "err", err)
	}
	sc, err := scene.Parse(yaml, camera+" scene (cluster)")
	if err == nil {
		err = s.ApplyScene(ctx, camera, sc, string(yaml))
	}
	if err != nil {
		s.log.Warn("cluster: scene not applied", "camera", camera, "err", err)
	}
}

// specChanged reports whether a camera entry differs from what runs.
func (s *Service) specChanged(camera string, raw []byte) bool {
	spec, err := s.clusterSpec(camera, raw)
	if err != nil {
		s.log.Warn("cluster: camera change not applied", "camera", camera, "err", err)
		return false
	}
	cur := s.clu.spec(camera)
	a, _ := json.Marshal(spec)
	b, _ := json.Marshal(cur)
	return !bytes.Equal(a, b)
}

// relayWidth bounds the frames a worker relays to the console.
const relayWidth = 1280

// liveJPEG answers the live relay with a camera's latest frame.
func (s *Service) liveJPEG(camera string) ([]byte, error) {
	jpg, _, err := s.Snapshot(context.Background(), camera, relayWidth)
	return jpg, err
}

// clusterSink is where a worker's cameras put their results: published to
// JetStream under the camera's lease instead of written to the store.
// Records keep their deterministic keys, so a camera that restarts on
// another node and raises an alert again adds nothing.
type clusterSink struct {
	store.Store
	s *Service
}

func (c clusterSink) pub(camera string) (*cluster.Publisher, cluster.Lease, error) {
	l, ok := c.s.clu.lease(camera)
	if !ok {
		return nil, l, fmt.Errorf("cluster: camera %s is not leased to this node", camera)
	}
	return c.s.clusterNode().Publisher(), l, nil
}

// AddAlertOnce publishes an alert (the spool's store on a worker; the
// spool keeps it on disk while JetStream refuses it). The alert's ID is
// the api node's: -1 here.
func (c clusterSink) AddAlertOnce(ctx context.Context, _ string, e event.Event) (int64, bool, error) {
	p, l, err := c.pub(e.Camera)
	if err != nil {
		// Spooled before this process restarted, so no lease is known:
		// an alert's key is its content, not its lease, and fence 0 is
		// older than any owner's, so it is stored once all the same
		// (and never blocks the spool behind it).
		p, l = c.s.clusterNode().Publisher(), cluster.Lease{Camera: e.Camera, Node: c.s.clusterNode().Node()}
	}
	if err := p.Event(ctx, l, e); err != nil {
		return 0, false, err
	}
	return publishedID, true, nil
}

// publishedID is the alert ID a worker reports: the api node's store
// numbers it.
const publishedID = -1

// AddTrack publishes a finished track.
func (c clusterSink) AddTrack(ctx context.Context, t store.TrackSummary) error {
	p, l, err := c.pub(t.Camera)
	if err != nil {
		return err
	}
	return p.Track(ctx, l, t)
}

// AddCounts publishes a flush of line counts.
func (c clusterSink) AddCounts(ctx context.Context, cs []store.Count) error {
	if len(cs) == 0 {
		return nil
	}
	p, l, err := c.pub(cs[0].Camera)
	if err != nil {
		return err
	}
	return p.Counts(ctx, l, c.s.clu.nextSeq(l.Camera), cs)
}

// resultStore is where the cameras' results go: the store, or the
// cluster on a worker.
func (s *Service) resultStore() store.Store {
	if s.clu.worker() {
		return clusterSink{Store: s.store, s: s}
	}
	return s.store
}

// published puts a stored alert on the event stream; a worker's alerts
// reach it on the api node.
func (s *Service) published(ctx context.Context, id int64, camera string) {
	if id == publishedID {
		return
	}
	s.publishAlert(ctx, id, camera)
}
