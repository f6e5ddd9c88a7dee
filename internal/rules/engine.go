package rules

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/track"
)

// Hysteresis constants shared by the rules (see the package doc).
const (
	defaultSmoothing = 500 * time.Millisecond
	minConfirm       = 200 * time.Millisecond // shortest confirmed episode
	exitHold         = time.Second            // observed absence that ends presence
	zoneHold         = 2 * time.Second        // below-limit time that ends a crowd/dispersal episode
	lineHold         = 300 * time.Millisecond // stay on the new side to count a crossing
	stopWindow       = time.Second            // speed window of stopped_vehicle
	dispersalWindow  = 500 * time.Millisecond // speed window of dispersal
)

// Options tune the engine; the zero value is usable.
type Options struct {
	// Epoch is the wall-clock instant of PTS 0. Schedules are evaluated at
	// Epoch+PTS; with a zero Epoch every rule is always active.
	Epoch time.Time
	// Smoothing is the moving-average window of foot points (default 0.5 s).
	Smoothing time.Duration
}

// Engine evaluates one scene's rules over a stream of tracker output. It is
// not safe for concurrent use.
type Engine struct {
	sc     *scene.Scene
	opt    Options
	checks []checker
	// zoneIdx maps a zone to its index in sc.Zones; used lists the zones
	// whose membership is computed for every track each frame.
	zoneIdx    map[*scene.Zone]int
	used       []int
	crosswalks []int
	keep       time.Duration // history kept per track
	tracks     map[int]*trackState
	order      []*trackState // this frame's tracks, by ID
	counts     map[countKey]int
	fresh      []Count // crossings counted since the last NewCounts
	last       time.Duration
	started    bool
}

// New builds an engine for sc.
func New(sc *scene.Scene, opt Options) (*Engine, error) {
	if sc == nil {
		return nil, errors.New("rules: nil scene")
	}
	if opt.Smoothing < 0 {
		return nil, errors.New("rules: negative smoothing")
	}
	if opt.Smoothing == 0 {
		opt.Smoothing = defaultSmoothing
	}
	e := &Engine{sc: sc, opt: opt, zoneIdx: map[*scene.Zone]int{}, tracks: map[int]*trackState{}, counts: map[countKey]int{}}
	for i, z := range sc.Zones {
		e.zoneIdx[z] = i
		if z.Type == scene.Crosswalk {
			e.crosswalks = append(e.crosswalks, i)
		}
	}
	e.keep = 2 * time.Second
	for i, r := range sc.Rules {
		c, err := e.newChecker(i, r)
		if err != nil {
			return nil, fmt.Errorf("rules: rule %q: %w", r.Name, err)
		}
		e.checks = append(e.checks, c)
		e.keep = max(e.keep, r.Smoothing+time.Second, r.Window+time.Second)
	}
	return e, nil
}

// useZone marks z for per-frame membership and returns its index.
func (e *Engine) useZone(z *scene.Zone) int {
	i := e.zoneIdx[z]
	if !slices.Contains(e.used, i) {
		e.used = append(e.used, i)
	}
	return i
}

// calibrated reports whether the scene has a ground plane.
func (e *Engine) calibrated() bool { return e.sc.Homography != nil }

// active reports whether rule r applies at pts (see Options.Epoch).
func (e *Engine) active(r *scene.Rule, pts time.Duration) bool {
	return e.opt.Epoch.IsZero() || r.Active(e.opt.Epoch.Add(pts))
}

// Update feeds one frame's tracks at frame time pts and returns the alerts
// raised at this frame. Frames must come in increasing PTS; a frame whose
// PTS is not after the previous one is ignored. A track's state is kept
// until End reports it ended: the engine keeps no timer of its own.
func (e *Engine) Update(pts time.Duration, tracks []track.Track) []event.Event {
	if e.started && pts <= e.last {
		return nil
	}
	e.started, e.last = true, pts
	e.observe(pts, tracks)
	var out []event.Event
	for i, c := range e.checks {
		r := e.sc.Rules[i]
		if !e.active(r, pts) {
			continue
		}
		for _, t := range e.order {
			if r.ClassSet.Allows(t.class) {
				if ev, ok := c.track(pts, t, &t.rules[i]); ok {
					out = append(out, ev)
				}
			}
		}
		out = append(out, c.frame(pts)...)
	}
	return out
}

// End is told at pts that the tracks ids have ended (the tracker's one
// report of it); it returns what was pending on them (a line crossing
// whose track vanished on the new side) and forgets them.
func (e *Engine) End(pts time.Duration, ids []int) []event.Event {
	gone := make([]*trackState, 0, len(ids))
	for _, id := range ids {
		if t := e.tracks[id]; t != nil {
			gone = append(gone, t)
		}
	}
	return e.forget(pts, gone)
}

// Close ends the stream at pts: it returns what is pending and forgets
// every track. Counts are kept.
func (e *Engine) Close(pts time.Duration) []event.Event {
	gone := make([]*trackState, 0, len(e.tracks))
	for _, t := range e.tracks {
		gone = append(gone, t)
	}
	return e.forget(pts, gone)
}

// forget drops tracks in ID order, so that the events they flush are
// deterministic.
func (e *Engine) forget(pts time.Duration, gone []*trackState) []event.Event {
	var out []event.Event
	slices.SortFunc(gone, func(a, b *trackState) int { return cmp.Compare(a.id, b.id) })
	for _, t := range gone {
		for i, c := range e.checks {
			r := e.sc.Rules[i]
			if e.active(r, pts) && r.ClassSet.Allows(t.class) {
				if ev, ok := c.expire(pts, t, &t.rules[i]); ok {
					out = append(out, ev)
				}
			}
		}
		delete(e.tracks, t.id)
	}
	return out
}

// observe updates every track's history and this frame's ID-sorted order.
func (e *Engine) observe(pts time.Duration, tracks []track.Track) {
	e.order = e.order[:0]
	for _, tr := range tracks {
		t := e.tracks[tr.ID]
		if t == nil {
			t = &trackState{id: tr.ID, first: pts, last: -1, rules: make([]ruleState, len(e.checks)), in: make([]bool, len(e.sc.Zones))}
			e.tracks[tr.ID] = t
		}
		if t.last == pts {
			continue // duplicate ID in one frame: keep the first
		}
		e.observeTrack(pts, t, tr)
		e.order = append(e.order, t)
	}
	slices.SortFunc(e.order, func(a, b *trackState) int { return cmp.Compare(a.id, b.id) })
}

// Tracked is the number of tracks whose state the engine holds.
func (e *Engine) Tracked() int { return len(e.tracks) }

// checker evaluates one rule. track is called for each allowed track seen
// in the frame (in ID order), frame once per frame after them, and expire
// for a track about to be forgotten; each returns the alerts it raises.
type checker interface {
	track(pts time.Duration, t *trackState, st *ruleState) (event.Event, bool)
	frame(pts time.Duration) []event.Event
	expire(pts time.Duration, t *trackState, st *ruleState) (event.Event, bool)
}

// noop gives checkers the hooks they do not need.
type noop struct{}

func (noop) track(time.Duration, *trackState, *ruleState) (event.Event, bool) {
	return event.Event{}, false
}
func (noop) frame(time.Duration) []event.Event { return nil }
func (noop) expire(time.Duration, *trackState, *ruleState) (event.Event, bool) {
	return event.Event{}, false
}

// newChecker builds the checker for rule r, the i-th of the scene.
func (e *Engine) newChecker(i int, r *scene.Rule) (checker, error) {
	needGround := r.Type == scene.WrongWay || r.Type == scene.Speeding || r.Type == scene.Dispersal || r.MaxDensityPerM2 > 0
	if needGround && !e.calibrated() {
		return nil, errors.New("needs a ground-plane calibration")
	}
	switch r.Type {
	case scene.Loitering, scene.Intrusion, scene.VehicleInPedestrianZone:
		return &dwellRule{e: e, r: r, zone: e.useZone(r.Zone)}, nil
	case scene.StoppedVehicle:
		return &stoppedRule{e: e, r: r, zone: e.useZone(r.Zone)}, nil
	case scene.Speeding:
		return &speedRule{e: e, r: r, zone: e.useZone(r.Zone), window: max(r.Smoothing, time.Second)}, nil
	case scene.WrongWay:
		return e.newWrongWay(r)
	case scene.Jaywalking:
		return e.newJaywalk(r), nil
	case scene.Crowd:
		return e.newCrowd(r)
	case scene.Dispersal:
		return &dispersalRule{e: e, r: r, idx: i, zone: e.useZone(r.Zone)}, nil
	case scene.LineCrossing:
		return &lineRule{e: e, r: r}, nil
	}
	return nil, fmt.Errorf("unknown rule type %q", r.Type)
}
