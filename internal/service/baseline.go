package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"time"

	"github.com/vigil-cctv/vigil/internal/analysis"
	"github.com/vigil-cctv/vigil/internal/baseline"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/httpapi"
	"github.com/vigil-cctv/vigil/internal/motion"
	"github.com/vigil-cctv/vigil/internal/render"
	"github.com/vigil-cctv/vigil/internal/store"
)

// baselineConfig turns on a camera's learned baseline and motion cue, with
// what they learned before as last saved.
func (s *Service) baselineConfig(ctx context.Context, camera string, cfg *analysis.Config) {
	a := s.cfg.Anomaly
	cfg.Baseline = &baseline.Config{Warmup: time.Duration(a.Warmup), HalfLife: time.Duration(a.HalfLife), BudgetPerHour: a.BudgetPerHour}
	cfg.SavedBaseline = s.savedModel(ctx, camera)
	if !a.MotionDisabled {
		cfg.Motion = &motion.ModelOptions{Warmup: time.Duration(a.Warmup)}
		cfg.SavedMotion = s.savedModel(ctx, motionKey(camera))
	}
}

// savedModel reads a saved model; a missing one is nil, a failed read is
// logged and the camera learns afresh.
func (s *Service) savedModel(ctx context.Context, key string) []byte {
	saved, _, err := s.store.GetBaseline(ctx, key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Warn("baseline not loaded", "camera", key, "err", err)
	}
	return saved
}

// motionKey is where a camera's motion model is kept in the baselines
// table, beside its track baseline: camera ids cannot contain '/'.
func motionKey(camera string) string { return camera + "/motion" }

// saveBaseline persists one camera's baseline if it changed (always with
// force), and its motion model.
func (s *Service) saveBaseline(ctx context.Context, p *processor, force bool) {
	var base, mot []byte
	var berr, merr error
	var st baseline.State
	var serr error
	p.withChain(func(c *analysis.Chain) {
		base, berr = c.SaveBaseline(force)
		mot, merr = c.SaveMotion()
		st, serr = c.BaselineState()
	})
	if serr == nil {
		s.metrics.BaselineTime.WithLabelValues(p.id).Set(st.ModelTime.Seconds())
		s.metrics.BaselineTracks.WithLabelValues(p.id).Set(float64(st.LearnedTracks))
	}
	if merr == nil && mot != nil {
		merr = s.store.PutBaseline(ctx, motionKey(p.id), mot)
	}
	if merr != nil {
		s.log.Warn("motion model not saved", "camera", p.id, "err", merr)
	}
	if berr == nil && base != nil {
		berr = s.store.PutBaseline(ctx, p.id, base)
	}
	if berr != nil {
		s.log.Warn("baseline not saved", "camera", p.id, "err", berr)
	}
}

// saveBaselines persists every running camera's baseline every interval
// until ctx ends, so a crash loses at most one interval of learning; it
// also prunes expired suppressions (and, on a cluster api node, brings the
// config bucket's copy of them up to date).
func (s *Service) saveBaselines(ctx context.Context, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		for _, r := range s.running() {
			s.saveBaseline(ctx, r.proc, false)
		}
		s.supp.Prune(time.Now())
		s.shareSuppressions(ctx)
	}
}

func (s *Service) running() []*camRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*camRun, 0, len(s.cams))
	for _, r := range s.cams {
		out = append(out, r)
	}
	return out
}

// processorOf is a running camera's processor (store.ErrNotFound if none).
func (s *Service) processorOf(camera string) (*processor, error) {
	s.mu.Lock()
	r := s.cams[camera]
	s.mu.Unlock()
	if r == nil {
		return nil, fmt.Errorf("camera %q is not running: %w", camera, store.ErrNotFound)
	}
	return r.proc, nil
}

// noBaseline turns the chain's "no baseline" into store.ErrNotFound.
func noBaseline(camera string, err error) error {
	if analysis.ErrNoBaseline(err) {
		return fmt.Errorf("camera %q learns no baseline (or has seen no frame yet): %w", camera, store.ErrNotFound)
	}
	return err
}

// baselineVerdict hands an operator's verdict on an anomaly alert to the
// baseline that raised it: here when the camera runs on this node, else
// (a cluster api node) relayed to the worker that runs it.
func (s *Service) baselineVerdict(ctx context.Context, a store.Alert, confirmed bool) error {
	var err error
	if _, notHere := s.processorOf(a.Event.Camera); notHere != nil && s.clusterNode() != nil {
		err = s.clusterNode().Verdict(ctx, a.Event, confirmed, verdictRelayTimeout)
	} else {
		err = s.feedBaseline(ctx, a.Event, confirmed)
	}
	if err != nil {
		return fmt.Errorf("verdict on alert %d: %w", a.ID, err)
	}
	return nil
}

// verdictRelayTimeout bounds the wait for the worker that runs a camera
// to apply a relayed verdict.
const verdictRelayTimeout = 10 * time.Second

// feedBaseline hands a verdict on ev to the running camera's baseline and
// saves the result at once, a verdict being rare and costly to lose (a
// relayed verdict arrives here on the worker).
func (s *Service) feedBaseline(ctx context.Context, ev event.Event, confirmed bool) error {
	p, err := s.processorOf(ev.Camera)
	if err != nil {
		return err
	}
	var ok bool
	p.withChain(func(c *analysis.Chain) { ok = c.Feedback(ev, confirmed) })
	if !ok {
		return fmt.Errorf("not an alert the current baseline of camera %q raised", ev.Camera)
	}
	s.saveBaseline(ctx, p, false)
	return nil
}

// BaselineState summarises a running camera's baseline (httpapi.Baselines).
func (s *Service) BaselineState(camera string) (any, error) {
	p, err := s.processorOf(camera)
	if err != nil {
		return nil, err
	}
	var st baseline.State
	p.withChain(func(c *analysis.Chain) { st, err = c.BaselineState() })
	if err != nil {
		return nil, noBaseline(camera, err)
	}
	return st, nil
}

// Heatmap draws a running camera's baseline over its latest frame
// (httpapi.Baselines).
func (s *Service) Heatmap(camera string, q httpapi.HeatmapQuery) ([]byte, error) {
	p, err := s.processorOf(camera)
	if err != nil {
		return nil, err
	}
	opt := baseline.HeatmapOptions{Kind: q.Kind, Class: q.Class, Hour: q.Hour, Legend: true}
	if lf := p.live.Load(); lf != nil {
		opt.Background = render.FromFrame(lf.frame).RGBA(image.Rect(0, 0, lf.frame.Width, lf.frame.Height))
	}
	var img *image.RGBA
	p.withChain(func(c *analysis.Chain) { img, err = c.Heatmap(opt) })
	if err != nil {
		return nil, noBaseline(camera, err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
