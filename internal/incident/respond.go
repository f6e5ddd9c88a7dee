package incident

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/vigil-cctv/vigil/internal/deliver"
	"github.com/vigil-cctv/vigil/internal/protocol"
)

// Limits on what an operator writes into a transition.
const (
	maxNote   = 2000
	maxUnitID = 100
)

// Change is an operator's transition request.
type Change struct {
	To       State
	UnitType string // dispatched: the unit type (default: the suggested one)
	UnitID   string // dispatched: which unit
	Note     string
}

func (c *Change) validate(in Incident) error {
	if !slices.Contains(States(), c.To) {
		return fmt.Errorf("%w: unknown state %q", ErrInvalid, c.To)
	}
	if len(c.Note) > maxNote {
		return fmt.Errorf("%w: note is longer than %d bytes", ErrInvalid, maxNote)
	}
	if len(c.UnitID) > maxUnitID || strings.IndexFunc(c.UnitID, unicode.IsControl) >= 0 {
		return fmt.Errorf("%w: unit_id must be at most %d characters without control characters", ErrInvalid, maxUnitID)
	}
	if c.To != Dispatched {
		if c.UnitType != "" || c.UnitID != "" {
			return fmt.Errorf("%w: unit_type and unit_id are given only when dispatching", ErrInvalid)
		}
		return nil
	}
	if c.UnitType == "" {
		c.UnitType = in.Unit
	}
	if !slices.Contains(protocol.Units(), protocol.Unit(c.UnitType)) {
		return fmt.Errorf("%w: unit_type must be one of police, fire, medical, road_crew", ErrInvalid)
	}
	return nil
}

// Transition moves incident id as an operator (by, from the session) asks,
// at the wall time at. A move the lifecycle does not allow from the
// current state is an error wrapping store.ErrConflict; a bad request
// wraps ErrInvalid. The returned incident has its history; on a verdict
// Judged lists the grouped alerts it confirmed or dismissed.
func (e *Engine) Transition(ctx context.Context, id int64, ch Change, by string, at time.Time) (Incident, []int64, error) {
	cur, err := e.store.GetIncident(ctx, id)
	if err != nil {
		return Incident{}, nil, err
	}
	if err := ch.validate(cur); err != nil {
		return Incident{}, nil, err
	}
	c := e.cam(cur.Camera)
	c.mu.Lock()
	defer c.mu.Unlock()
	in, err := e.move(ctx, c, cur, ch, by, at)
	if err != nil {
		return Incident{}, nil, err
	}
	return in, in.Judged, nil
}

// move records a transition and announces it; c is locked.
func (e *Engine) move(ctx context.Context, c *camState, cur Incident, ch Change, by string, at time.Time) (Incident, error) {
	rec := TransitionRecord{ID: cur.ID, From: cur.State, To: ch.To, By: by, At: at, UnitType: ch.UnitType,
		UnitID: ch.UnitID, Note: ch.Note}
	rec.Messages = func(in Incident) []deliver.Message {
		return incidentMessages(in.Notify, in, deliver.NoticeState, fmt.Sprintf("incident-%d-%s", in.ID, in.State), at, nil, in.Latest)
	}
	in, err := e.store.TransitionIncident(ctx, rec)
	if err != nil {
		return Incident{}, err
	}
	cp := in
	cp.Events, cp.History = nil, nil
	c.remember(&cp)
	e.observe(in, ch.To)
	e.changed(in)
	if len(in.Notify) > 0 {
		e.committed()
	}
	return in, nil
}

// Tick escalates incidents whose acknowledgement is overdue (once each)
// and closes quiet ones whose protocol says so. now is the wall time; the
// service calls Tick every few seconds, a replay with frame time.
func (e *Engine) Tick(ctx context.Context, now time.Time) error {
	e.mu.Lock()
	cams := make([]*camState, 0, len(e.cams))
	for _, c := range e.cams {
		cams = append(cams, c)
	}
	e.mu.Unlock()
	var errs []error
	for _, c := range cams {
		if err := e.tickCamera(ctx, c, now); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		e.m.storeErrors.Inc()
		return fmt.Errorf("incident tick: %w", errs[0])
	}
	return nil
}

func (e *Engine) tickCamera(ctx context.Context, c *camState, now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, in := range c.sortedActive() {
		if in.State == New && in.Escalated.IsZero() && !in.EscalateDue.IsZero() && !now.Before(in.EscalateDue) {
			if err := e.escalate(ctx, c, in, now); err != nil {
				return err
			}
		}
		if quiet(in, now) {
			ch := Change{To: Closed, Note: fmt.Sprintf("auto-closed: no new event for %v", in.AutoClose)}
			if _, err := e.move(ctx, c, *in, ch, System, now); err != nil {
				return err
			}
			e.m.autoClosed.WithLabelValues(in.Camera).Inc()
		}
	}
	return nil
}

// quiet reports whether in may auto-close at now: its protocol closes it
// after AutoClose without a new event (or since its verdict), and no unit
// is out.
func quiet(in *Incident, now time.Time) bool {
	if in.AutoClose <= 0 || in.State == Dispatched || in.State == OnScene || in.State == Closed {
		return false
	}
	since := in.LastEvent
	if in.Resolved.After(since) {
		since = in.Resolved
	}
	return now.Sub(since) >= in.AutoClose
}

// escalate raises in's priority and tells the escalation destinations
// (and the incident's own, so they see the new priority), exactly once:
// the store only escalates an incident still new and never escalated.
func (e *Engine) escalate(ctx context.Context, c *camState, in *Incident, now time.Time) error {
	dests := slices.Clone(in.EscalateNotify)
	for _, d := range in.Notify {
		if !slices.Contains(dests, d) {
			dests = append(dests, d)
		}
	}
	msgs := func(up Incident) []deliver.Message {
		return incidentMessages(dests, up, deliver.NoticeEscalated, fmt.Sprintf("incident-%d-escalated", up.ID), now, nil, up.Latest)
	}
	up, ok, err := e.store.EscalateIncident(ctx, in.ID, now, in.EscalatePriority, msgs)
	if err != nil {
		return err
	}
	if !ok {
		// Acknowledged or escalated elsewhere meanwhile: take the row as
		// it is now, and never try again.
		fresh, err := e.store.GetIncident(ctx, in.ID)
		if err != nil {
			return err
		}
		fresh.Events, fresh.History = nil, nil
		if fresh.Escalated.IsZero() {
			fresh.Escalated = now
		}
		c.remember(&fresh)
		return nil
	}
	c.remember(&up)
	e.m.escalated.WithLabelValues(up.Camera).Inc()
	e.o.Logger.Warn("incident escalated", "incident", up.ID, "camera", up.Camera, "rule", up.Rule, "priority", up.Priority)
	e.changed(up)
	if len(dests) > 0 {
		e.committed()
	}
	return nil
}
