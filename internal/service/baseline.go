package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"sync"
	"time"

	"github.com/vigil-cctv/vigil/internal/baseline"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/httpapi"
	"github.com/vigil-cctv/vigil/internal/render"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/track"
)

// camBaseline is one camera's learned baseline. The camera's goroutine
// updates it every frame while API requests read it and verdicts change
// it, hence the lock.
type camBaseline struct {
	mu    sync.Mutex
	m     *baseline.Model
	dirty bool // changed since it was last saved
}

func (b *camBaseline) update(pts time.Duration, w, h int, tracks []track.Track) []event.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.dirty = true
	return b.m.Update(pts, w, h, tracks)
}

// encode returns the model's bytes, or nil when nothing changed since the
// last call (force encodes anyway).
func (b *camBaseline) encode(force bool) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.dirty && !force {
		return nil, nil
	}
	data, err := b.m.MarshalBinary()
	if err == nil {
		b.dirty = false
	}
	return data, err
}

// newBaseline builds a camera's model for its scene (nil: image grid) and
// restores what it had learned, if the saved grid still fits the scene;
// otherwise the camera starts learning afresh and the log says why.
func (s *Service) newBaseline(camera string, sc *scene.Scene, saved []byte) (*camBaseline, error) {
	a := s.cfg.Anomaly
	cfg := baseline.Config{
		Warmup: time.Duration(a.Warmup), HalfLife: time.Duration(a.HalfLife), BudgetPerHour: a.BudgetPerHour,
		// PTS 0 is about when the stream started: hour-of-week buckets
		// then follow the wall clock without the pipeline reading it.
		Epoch: time.Now(),
	}
	m, err := baseline.New(cfg, sc)
	if err != nil {
		return nil, err
	}
	b := &camBaseline{m: m}
	if saved != nil {
		if err := m.UnmarshalBinary(saved); err != nil {
			s.log.Warn("baseline restarted from scratch", "camera", camera, "err", err)
			if m, err = baseline.New(cfg, sc); err != nil {
				return nil, err
			}
			b.m = m
		}
	}
	return b, nil
}

// attachBaseline gives a starting camera its stored baseline.
func (s *Service) attachBaseline(ctx context.Context, p *processor) {
	if s.cfg.Anomaly.Disabled {
		return
	}
	p.motionOn, p.motionWarmup = !s.cfg.Anomaly.MotionDisabled, time.Duration(s.cfg.Anomaly.Warmup)
	saved, _, err := s.store.GetBaseline(ctx, p.id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Warn("baseline not loaded", "camera", p.id, "err", err)
	}
	b, err := s.newBaseline(p.id, p.currentScene(), saved)
	if err != nil {
		s.log.Warn("baseline disabled", "camera", p.id, "err", err)
		return
	}
	p.base.Store(b)
}

// rescene moves a camera's baseline to a new scene: what was learned is
// kept when the ground grid is unchanged.
func (s *Service) rescene(p *processor, sc *scene.Scene) {
	old := p.base.Load()
	if old == nil {
		return
	}
	saved, err := old.encode(true)
	if err != nil {
		saved = nil
	}
	if b, err := s.newBaseline(p.id, sc, saved); err == nil {
		p.base.Store(b)
	}
}

// saveBaseline persists one camera's baseline if it changed, and its
// motion model.
func (s *Service) saveBaseline(ctx context.Context, p *processor, force bool) {
	if c := p.motion.Load(); c != nil {
		data, err := c.encode()
		if err == nil {
			err = s.store.PutBaseline(ctx, motionKey(p.id), data)
		}
		if err != nil {
			s.log.Warn("motion model not saved", "camera", p.id, "err", err)
		}
	}
	b := p.base.Load()
	if b == nil {
		return
	}
	data, err := b.encode(force)
	if err == nil && data != nil {
		err = s.store.PutBaseline(ctx, p.id, data)
	}
	if err != nil {
		s.log.Warn("baseline not saved", "camera", p.id, "err", err)
	}
}

// saveBaselines persists every running camera's baseline every interval
// until ctx ends: a crash loses at most one interval of learning.
func (s *Service) saveBaselines(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, r := range s.running() {
			s.saveBaseline(ctx, r.proc, false)
		}
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

// baselineOf is a running camera's baseline (store.ErrNotFound if none).
func (s *Service) baselineOf(camera string) (*processor, *camBaseline, error) {
	s.mu.Lock()
	r := s.cams[camera]
	s.mu.Unlock()
	if r == nil {
		return nil, nil, fmt.Errorf("camera %q is not running: %w", camera, store.ErrNotFound)
	}
	b := r.proc.base.Load()
	if b == nil {
		return nil, nil, fmt.Errorf("camera %q learns no baseline: %w", camera, store.ErrNotFound)
	}
	return r.proc, b, nil
}

// baselineVerdict hands a verdict on an anomaly alert to its camera's
// baseline and saves the result at once: a verdict is rare and costly to
// lose.
func (s *Service) baselineVerdict(ctx context.Context, a store.Alert, confirmed bool) error {
	p, b, err := s.baselineOf(a.Event.Camera)
	if err != nil {
		return err
	}
	b.mu.Lock()
	ok := b.m.Feedback(a.Event, confirmed)
	b.dirty = b.dirty || ok
	b.mu.Unlock()
	if !ok {
		return fmt.Errorf("alert %d is not one the current baseline of camera %q raised", a.ID, a.Event.Camera)
	}
	s.saveBaseline(ctx, p, false)
	return nil
}

// BaselineState summarises a running camera's baseline (httpapi.Baselines).
func (s *Service) BaselineState(camera string) (any, error) {
	_, b, err := s.baselineOf(camera)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m.State(), nil
}

// Heatmap draws a running camera's baseline over its latest frame
// (httpapi.Baselines).
func (s *Service) Heatmap(camera string, q httpapi.HeatmapQuery) ([]byte, error) {
	p, b, err := s.baselineOf(camera)
	if err != nil {
		return nil, err
	}
	opt := baseline.HeatmapOptions{Kind: q.Kind, Class: q.Class, Hour: q.Hour, Legend: true}
	if lf := p.live.Load(); lf != nil {
		opt.Background = render.FromFrame(lf.frame).RGBA(image.Rect(0, 0, lf.frame.Width, lf.frame.Height))
	}
	b.mu.Lock()
	img, err := b.m.Heatmap(opt)
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
