package service

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/vigil-cctv/vigil/internal/analysis"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/suppress"
)

// Verdict applies an operator's confirmation or dismissal
// (httpapi.Feedback). Anomaly alerts go to the camera's baseline; a
// dismissed scene-rule alert suppresses its situation; a confirmed one
// lifts whatever suppression covers it so the situation keeps alerting.
func (s *Service) Verdict(ctx context.Context, a store.Alert, by string) error {
	confirmed := a.State == store.StateConfirmed
	if !confirmed && a.State != store.StateFalseAlarm {
		return nil
	}
	if !analysis.Suppressible(a.Event) {
		return s.baselineVerdict(ctx, a, confirmed)
	}
	if confirmed {
		for _, id := range s.supp.Covering(a.Event) {
			if err := s.Lift(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return nil
	}
	sup := suppress.FromAlert(a, by, s.radiusFor(a.Event.Camera), time.Duration(s.cfg.Feedback.SuppressFor), time.Now())
	id, err := s.store.AddSuppression(ctx, sup)
	if err != nil {
		return fmt.Errorf("suppressing alert %d: %w", a.ID, err)
	}
	sup.ID = id
	s.supp.Add(sup)
	s.shareSuppressions(ctx) // in force on the workers too
	s.log.Info("situation suppressed", "alert", a.ID, "suppression", id, "camera", a.Event.Camera, "rule", a.Event.Name,
		"until", sup.Expires.Format(time.RFC3339))
	return nil
}

// Lift removes a suppression from the store and from the running cameras
// (httpapi.Feedback).
func (s *Service) Lift(ctx context.Context, id int64) error {
	if err := s.store.DeleteSuppression(ctx, id); err != nil {
		return err
	}
	s.supp.Remove(id)
	s.shareSuppressions(ctx)
	return nil
}

// radiusFor is the suppression radius for a camera: a share of its frame
// diagonal, from the latest frame (or 1280×720 before the first one).
func (s *Service) radiusFor(camera string) float64 {
	w, h := 1280.0, 720.0
	s.mu.Lock()
	r := s.cams[camera]
	s.mu.Unlock()
	if r != nil {
		if lf := r.proc.live.Load(); lf != nil {
			w, h = float64(lf.frame.Width), float64(lf.frame.Height)
		}
	}
	return suppress.DefaultRadiusFrac * math.Hypot(w, h)
}

// loadSuppressions puts the stored suppressions in force.
func (s *Service) loadSuppressions(ctx context.Context) error {
	list, err := s.store.ListSuppressions(ctx, "", time.Now())
	if err != nil {
		return fmt.Errorf("loading suppressions: %w", err)
	}
	s.supp.Replace(list)
	return nil
}
