package service

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/vigil-cctv/vigil/internal/analysis"
	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/deliver"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/detplan"
	"github.com/vigil-cctv/vigil/internal/httpapi"
	"github.com/vigil-cctv/vigil/internal/ingest"
	"github.com/vigil-cctv/vigil/internal/onvif"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/track"
)

// camRun is one running camera: its supervisor, its processor and the
// goroutines joining them.
type camRun struct {
	cam    store.Camera
	sup    *ingest.Supervisor
	proc   *processor
	cancel context.CancelFunc
	done   chan struct{}
}

// finished reports whether the camera's run has ended and stored all it
// analysed.
func (r *camRun) finished() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

func (r *camRun) stop() {
	r.cancel()
	<-r.done
}

var cameraStates = []string{string(ingest.StateConnecting), string(ingest.StateStreaming),
	string(ingest.StateStalled), string(ingest.StateFailed), string(ingest.StateStopped)}

// Apply starts or restarts a camera (httpapi.CameraManager).
func (s *Service) Apply(_ context.Context, c store.Camera) error {
	if err := s.Remove(context.Background(), c.ID); err != nil {
		return err
	}
	if !c.Enabled {
		return nil
	}
	if s.runCtx == nil {
		return errors.New("service not running")
	}
	fps := fpsOr(c.FPS, 10)
	chain, err := s.newChain(s.runCtx, c, fps)
	if err != nil {
		return err
	}
	model, replay, err := s.cameraModel(c)
	if err != nil {
		return err
	}
	proc := newProcessor(c.ID, chain, model, s.pool, fps, s.lossless(c), s.sinks())
	proc.replay = replay
	if proc.clips != nil && (c.Kind == "rtsp" || c.Kind == "onvif") {
		proc.useSegRing() // clips by stream copy, not re-encoding
	}
	if proc.seg != nil && s.recs != nil {
		if proc.rec, err = s.recs.start(c.ID, proc.seg); err != nil {
			s.log.Warn("camera not recorded", "camera", c.ID, "err", err)
		}
	}
	if s.planned(c) {
		cfg := s.planConfig()
		cfg.Phase = detplan.PhaseOf(c.ID)
		proc.usePlan(detplan.New(cfg), s.pool.Region(), cfg.MaxRegions)
	}
	ctx, cancel := context.WithCancel(s.runCtx)
	r := &camRun{cam: c, proc: proc, cancel: cancel, done: make(chan struct{})}
	s.mu.Lock()
	s.cams[c.ID] = r
	s.mu.Unlock()
	s.hub.Add(c.ID, s.liveSource(proc))
	s.wg.Add(1)
	go s.runCamera(ctx, r)
	return nil
}

// lossless reports whether a camera analyses every frame: a recorded file
// played once (`loop: false` in the config) is analysed in full, as fast
// as the detector allows, like `vigil analyze` would.
func (s *Service) lossless(c store.Camera) bool {
	cc := s.configured(c.ID)
	return c.Kind == "file" && cc != nil && !cc.Loop
}

// planned reports whether a camera's frames follow a detection plan
// (package detplan): every live camera unless detector.every_frame is set.
// A file analysed in full is detected whole on every frame, like `vigil
// analyze`.
func (s *Service) planned(c store.Camera) bool {
	cc := s.configured(c.ID)
	return !s.cfg.Detector.EveryFrame && !s.lossless(c) && (cc == nil || cc.Recorded == "")
}

// cameraModel is what detects a camera's frames: the node's model, or a
// replay camera's recorded detections (returned as replay too), read once
// per file.
func (s *Service) cameraModel(c store.Camera) (model, replay Model, err error) {
	cc := s.configured(c.ID)
	if cc == nil || cc.Recorded == "" {
		return s.model, nil, nil
	}
	s.replays.mu.Lock()
	defer s.replays.mu.Unlock()
	if m := s.replays.byPath[cc.Recorded]; m != nil {
		return m, m, nil
	}
	m, err := NewRecordedModel(cc.Recorded)
	if err != nil {
		return nil, nil, fmt.Errorf("camera %s: recorded detections: %w", c.ID, err)
	}
	if s.replays.byPath == nil {
		s.replays.byPath = map[string]*RecordedModel{}
	}
	s.replays.byPath[cc.Recorded] = m
	return m, m, nil
}

// planConfig is the detection plan's configuration: crops of the region
// model's size when there is one, sized to what they hold when the model
// runs any size, a whole-frame pass priced at the node model's input.
func (s *Service) planConfig() detplan.Config {
	r := s.pool.Region()
	a, ok := r.(interface{ AnySize() bool })
	cfg := detplan.Config{RegionSize: regionSide(r), AnySize: ok && a.AnySize()}
	if m, ok := s.model.(interface{ InputSize() (int, int) }); ok {
		cfg.FullW, cfg.FullH = m.InputSize()
	}
	return cfg
}

// configured is the camera's entry in the config file, nil for a camera
// created through the API.
func (s *Service) configured(id string) *config.Camera {
	if cc := s.clu.spec(id); cc != nil {
		return cc // a camera the cluster leased to this worker
	}
	for i := range s.cfg.Cameras {
		if s.cfg.Cameras[i].ID == id {
			return &s.cfg.Cameras[i]
		}
	}
	return nil
}

// newChain assembles a camera's analysis chain: its scene, its clock, and
// its learned baseline and motion model as last saved.
func (s *Service) newChain(ctx context.Context, c store.Camera, fps float64) (*analysis.Chain, error) {
	cfg := analysis.Config{Camera: c.ID, Classes: s.classesFor(c.ID), Track: track.DefaultConfig(fps),
		LiveClock: true, Suppress: s.supp, Attributes: s.attributes()}
	if cc := s.configured(c.ID); cc != nil {
		cfg.Epoch = cc.Epoch()
	}
	if !s.cfg.Anomaly.Disabled {
		s.baselineConfig(ctx, c.ID, &cfg)
	}
	sc, err := s.storedScene(ctx, c.ID)
	if err != nil {
		s.log.Warn("scene not applied", "camera", c.ID, "err", err)
	}
	cfg.Scene = sc
	chain, err := analysis.New(cfg)
	if err != nil && sc != nil {
		s.log.Warn("scene not applied", "camera", c.ID, "err", err)
		cfg.Scene = nil
		chain, err = analysis.New(cfg)
	}
	return chain, err
}

func fpsOr(v, def float64) float64 {
	if v > 0 {
		return v
	}
	return def
}

func (s *Service) ingestCamera(c store.Camera) ingest.Camera {
	// A configured file loops only when its config says so; a file added
	// through the API is a demo source and loops.
	loop := c.Kind == "file"
	if cc := s.configured(c.ID); cc != nil {
		loop = cc.Loop
	}
	cam := ingest.Camera{ID: c.ID, Name: c.Name, URL: c.URL, Loop: loop, FPS: c.FPS, Transport: "tcp"}
	if c.Kind == "onvif" {
		// The device is asked for its stream address before every
		// connect, with the stream's backoff. A device added through the
		// API is reached, and may point its stream, only where the
		// source policy allows; the config file's are trusted.
		// With no profile configured, the smallest H.264 stream covering
		// the model input is analysed (usually the substream), and the
		// choice is logged.
		report := s.streamChoice(c.ID)
		switch cc := s.configured(c.ID); {
		case cc != nil && cc.Profile != "":
			cam.Resolve = onvif.Resolver(c.URL, cc.Profile, nil, nil)
		case cc != nil:
			cam.Resolve = onvif.ModelResolver(c.URL, modelLong, nil, nil, report)
		default:
			cam.Resolve = onvif.ModelResolver(c.URL, modelLong, s.policy.HTTPClient(20*time.Second), s.policy.Check, report)
		}
	}
	return cam
}

// modelLong is the model input's longer side an ONVIF stream should
// cover: Vigil's detector input is 640 pixels wide.
const modelLong = 640

// streamChoice logs which ONVIF profile a camera analyses, once per
// change of choice.
func (s *Service) streamChoice(camera string) func(onvif.Choice) {
	var mu sync.Mutex
	last := ""
	return func(ch onvif.Choice) {
		mu.Lock()
		defer mu.Unlock()
		if ch.Profile.Token == last {
			return
		}
		last = ch.Profile.Token
		s.log.Info("onvif stream chosen", "camera", camera, "profile", ch.Profile.Token, "reason", ch.Reason)
	}
}

func (s *Service) classesFor(id string) detect.ClassSet {
	if cc := s.clu.spec(id); cc != nil {
		set, _ := detect.ParseClassSet(cc.Classes)
		return set
	}
	for _, cc := range s.cfg.Cameras {
		if cc.ID == id {
			if set, err := detect.ParseClassSet(cc.Classes); err == nil {
				return set
			}
		}
	}
	return nil
}

// runCamera joins supervisor → processor until the camera is stopped or,
// for a file played once, its input ends; then it saves what the camera
// learned. Every goroutine it starts has ended when it returns.
func (s *Service) runCamera(ctx context.Context, r *camRun) {
	defer s.wg.Done()
	defer close(r.done)
	cam := r.cam
	lossless := r.proc.lossless
	opt := ingest.Options{Logger: s.log, OnStateChange: s.stateChanged, Lossless: lossless, NoPacing: lossless}
	if cc := s.configured(cam.ID); cc != nil {
		opt.Decode.ImageFPS = cc.ImageFPS // an image folder's frame rate (0: 25)
	}
	if r.proc.seg != nil {
		opt.Recorder = r.proc.seg
	}
	if r.proc.rec != nil {
		go r.proc.rec.run() // ends in rec.stop below
	}
	if !lossless {
		// A full analysis sees every frame. With a detection plan the gate
		// holds nothing back: it tells the plan where things moved.
		opt.Gate = &ingest.GateOptions{Annotate: r.proc.plan != nil}
	}
	sup := ingest.NewSupervisor(s.ingestCamera(cam), opt)
	s.mu.Lock()
	r.sup = sup
	s.mu.Unlock()
	frames := make(chan ingest.Frame, 1)
	decoded := make(chan inFrame, 1)
	fed := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(frames)
		if err := sup.Run(ctx, frames); err != nil && !errors.Is(err, context.Canceled) {
			s.log.Warn("camera stopped", "camera", r.cam.ID, "err", err)
		}
	})
	wg.Go(func() {
		defer close(decoded)
		for f := range frames {
			decoded <- inFrame{frame: &decode.Frame{Index: int(f.Seq), PTS: f.PTS, Width: f.Width, Height: f.Height, Pix: f.Pix,
				Received: f.Received}, motion: f.Motion, global: f.MotionGlobal, thumb: f.Thumb}
		}
	})
	wg.Go(func() { defer close(fed); r.proc.feed(ctx, decoded) })
	wg.Go(func() { r.proc.consume(ctx, fed) })
	wg.Wait()
	s.pool.Forget(r.cam.ID)
	s.saveBaseline(context.WithoutCancel(ctx), r.proc, true)
	if r.proc.clips != nil {
		_ = r.proc.clips.Close() // finishes clips in progress
	}
	r.proc.stopCuts()
	r.proc.rec.stop(r.proc.seg)
}

func (s *Service) stateChanged(c ingest.StateChange) {
	s.metrics.SetState(c.Camera, string(c.State), cameraStates)
	if c.State == ingest.StateConnecting {
		s.metrics.Reconnects.WithLabelValues(c.Camera).Inc()
	}
	s.broker.Publish(Message{Type: httpapi.MessageCameraState, Camera: c.Camera, Data: map[string]any{
		"camera": c.Camera, "state": c.State, "reason": c.Reason, "at": c.At}})
	s.queue.announce(context.Background(), deliver.AvailabilityMessages(s.queue.mqtt, deliver.Availability{
		Camera: c.Camera, Online: c.State == ingest.StateStreaming, State: string(c.State), Reason: c.Reason, At: c.At}),
		func(err error) { s.log.Warn("camera availability not announced", "camera", c.Camera, "err", err) })
}

// Finished returns a channel closed once the camera's run has ended and
// everything it analysed is stored (for a file played once: the end of
// its input); nil when the camera is not running.
func (s *Service) Finished(id string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.cams[id]; r != nil {
		return r.done
	}
	return nil
}

// Remove stops a camera (httpapi.CameraManager).
func (s *Service) Remove(_ context.Context, id string) error {
	s.mu.Lock()
	r := s.cams[id]
	delete(s.cams, id)
	s.mu.Unlock()
	if r != nil {
		s.hub.Remove(id) // ends its viewers
		r.stop()
	}
	return nil
}

// Status reports a running camera (httpapi.CameraManager).
func (s *Service) Status(id string) (httpapi.CameraStatus, bool) {
	s.mu.Lock()
	r := s.cams[id]
	s.mu.Unlock()
	if r == nil {
		return httpapi.CameraStatus{}, false
	}
	s.mu.Lock()
	sup := r.sup
	s.mu.Unlock()
	if sup == nil {
		return httpapi.CameraStatus{ID: id, State: httpapi.CameraConnecting, Reason: "resolving the stream address"}, true
	}
	st := sup.Status()
	if st.State == ingest.StateStopped && !r.finished() {
		// The input ended but the last frames are still being analysed:
		// the camera is not done until its results are stored.
		st.State, st.Reason = ingest.StateStreaming, "end of input; analysing the frames already read"
	}
	detected := r.proc.detected.Load()
	fps := 0.0
	if secs := time.Since(s.started).Seconds(); secs > 0 {
		fps = float64(detected) / secs
	}
	return httpapi.CameraStatus{ID: id, State: string(st.State), Reason: st.Reason, Since: st.Since,
		FramesIn: st.FramesIn, FramesDecoded: st.FramesIn, FramesDetected: detected,
		FramesDropped: st.FramesDropped + r.proc.dropped.Load(), FPS: fps}, true
}

// storedScene is the camera's latest stored scene (nil if none).
func (s *Service) storedScene(ctx context.Context, id string) (*scene.Scene, error) {
	v, err := s.store.LatestScene(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return scene.Parse([]byte(v.YAML), fmt.Sprintf("%s scene v%d", id, v.Version))
}

// ApplyScene hot-reloads a camera's rules (httpapi.SceneApplier); the
// camera keeps streaming and tracking.
func (s *Service) ApplyScene(_ context.Context, camera string, sc *scene.Scene, _ string) error {
	s.mu.Lock()
	r := s.cams[camera]
	s.mu.Unlock()
	if r == nil {
		return nil // applied when the camera starts
	}
	return r.proc.setScene(sc)
}
