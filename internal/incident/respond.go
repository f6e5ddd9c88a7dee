package incident

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/vigil-cctv/vigil/internal/deliver"
	"github.com/vigil-cctv/vigil/internal/protocol"
	"github.com/vigil-cctv/vigil/internal/store"
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
	in, err := e.move(ctx, cur, ch, by, at, time.Time{})
	if err != nil {
		return Incident{}, nil, err
	}
	return in, in.Judged, nil
}

// move records a transition and announces it. A non-zero quiet makes it
// conditional on no event having joined since (auto-close).
func (e *Engine) move(ctx context.Context, cur Incident, ch Change, by string, at, quiet time.Time) (Incident, error) {
	rec := TransitionRecord{ID: cur.ID, From: cur.State, To: ch.To, By: by, At: at, UnitType: ch.UnitType,
		UnitID: ch.UnitID, Note: ch.Note, Quiet: quiet}
	rec.Messages = func(in Incident) []deliver.Message {
		return incidentMessages(in.Notify, in, deliver.NoticeState, fmt.Sprintf("incident-%d-%s", in.ID, in.State), at, nil, in.Latest)
	}
	in, err := e.store.TransitionIncident(ctx, rec)
	if err != nil {
		return Incident{}, err
	}
	e.observe(in, ch.To)
	e.changed(in)
	if len(in.Notify) > 0 {
		e.committed()
	}
	return in, nil
}

// Tick escalates incidents whose acknowledgement is overdue (once each)
// and closes quiet ones whose protocol says so. now is the wall time; the
// service calls Tick every few seconds, a replay with frame time. It takes
// up protocols saved through another engine on the store, reads the
// incidents from the store, and every change it makes is conditional
// there (still new and never escalated; still in the state read, with no
// event since), so engines ticking on several nodes make each change once.
func (e *Engine) Tick(ctx context.Context, now time.Time) error {
	if err := e.LoadProtocols(ctx); err != nil {
		// A file saved elsewhere that does not validate here (this node
		// lacks a destination it names): the set in force stays.
		e.o.Logger.Warn("saved protocols not taken up", "err", err)
	}
	list, err := e.store.ActiveIncidents(ctx)
	if err != nil {
		e.m.storeErrors.Inc()
		return fmt.Errorf("incident tick: %w", err)
	}
	var errs []error
	for i := range list {
		if err := e.tick(ctx, &list[i], now); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		e.m.storeErrors.Inc()
		return fmt.Errorf("incident tick: %w", errs[0])
	}
	return nil
}

// tick applies what is due of one incident. A change another engine (or
// an operator) made meanwhile wins: the conflict is not an error.
func (e *Engine) tick(ctx context.Context, in *Incident, now time.Time) error {
	if in.State == New && in.Escalated.IsZero() && !in.EscalateDue.IsZero() && !now.Before(in.EscalateDue) {
		if err := e.escalate(ctx, *in, now); err != nil {
			return err
		}
	}
	if !quiet(in, now) {
		return nil
	}
	ch := Change{To: Closed, Note: fmt.Sprintf("auto-closed: no new event for %v", in.AutoClose)}
	_, err := e.move(ctx, *in, ch, System, now, in.LastEvent)
	if errors.Is(err, store.ErrConflict) {
		return nil
	}
	if err != nil {
		return err
	}
	e.m.autoClosed.WithLabelValues(in.Camera).Inc()
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
func (e *Engine) escalate(ctx context.Context, in Incident, now time.Time) error {
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
	if err != nil || !ok {
		return err // !ok: acknowledged or escalated elsewhere meanwhile
	}
	e.m.escalated.WithLabelValues(up.Camera).Inc()
	e.o.Logger.Warn("incident escalated", "incident", up.ID, "camera", up.Camera, "rule", up.Rule, "priority", up.Priority)
	e.changed(up)
	if len(dests) > 0 {
		e.committed()
	}
	return nil
}
