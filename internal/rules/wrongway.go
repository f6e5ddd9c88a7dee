package rules

import (
	"errors"
	"fmt"
	"time"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/scene"
)

// wrongWayCos is the largest cosine between the displacement and the lane
// direction that still counts as driving against the lane.
const wrongWayCos = -0.5

// wrongWayRule raises wrong_way; see the package doc for the criterion.
type wrongWayRule struct {
	noop
	e       *Engine
	r       *scene.Rule
	zone    int
	dir     geom.Point
	minDist float64
}

func (e *Engine) newWrongWay(r *scene.Rule) (checker, error) {
	if !r.Lane.HasGround {
		return nil, errors.New("lane has no ground direction")
	}
	d := r.MinDistanceM
	if d <= 0 {
		d = 8
	}
	return &wrongWayRule{e: e, r: r, zone: e.useZone(r.Lane.Zone), dir: r.Lane.GroundDir, minDist: d}, nil
}

func (c *wrongWayRule) track(pts time.Duration, t *trackState, st *ruleState) (event.Event, bool) {
	s := t.cur()
	in := t.in[c.zone] && s.GOK
	st.ep.observe(pts, in, exitHold)
	if !st.ep.on {
		st.wwOn = false // left the lane: measure afresh on return
	}
	if !in {
		return event.Event{}, false
	}
	// The turn point is where the track was furthest along the lane, so a
	// U-turn measures from where it turned, and jitter in place measures
	// only its own amplitude.
	a := s.G.Dot(c.dir)
	if !st.wwOn || a >= st.maxAlong {
		st.wwOn, st.maxAlong, st.turn, st.turnPTS = true, a, s.G, pts
	}
	if st.done {
		return event.Event{}, false
	}
	against := st.maxAlong - a
	v := s.G.Sub(st.turn)
	d := v.Norm()
	if against < c.minDist || d == 0 || v.Dot(c.dir)/d >= wrongWayCos || !st.cool.ok(pts, c.r.Cooldown) {
		return event.Event{}, false
	}
	st.done = true // one alert per vehicle
	fire(&st.ep, &st.cool, pts)
	return c.event(pts, t, st, against, v.Dot(c.dir)/d), true
}

func (c *wrongWayRule) event(pts time.Duration, t *trackState, st *ruleState, against, cos float64) event.Event {
	ev := c.e.trackEvent(c.r, t, st.turnPTS, pts)
	kmh := 0.0
	if dt := (pts - st.turnPTS).Seconds(); dt > 0 {
		kmh = against / dt * 3.6
	}
	ev.Direction = "against"
	ev.Values = map[string]float64{"distance_m": against, "speed_kmh": kmh, "heading_cos": cos, "min_distance_m": c.minDist}
	ev.Explanation = fmt.Sprintf("%s %d moved %.1f m against lane '%s' at %.0f km/h", t.class, t.id, against, c.r.Lane.Name, kmh)
	return ev
}
