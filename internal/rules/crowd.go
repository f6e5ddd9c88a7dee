package rules

import (
	"errors"
	"fmt"
	"time"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/scene"
)

// crowdMinDwell is the shortest crowd episode that alerts, so that a
// detector burst of duplicate boxes does not.
const crowdMinDwell = time.Second

// crowdRule raises crowd: too many allowed tracks in the zone, sustained.
type crowdRule struct {
	noop
	e    *Engine
	r    *scene.Rule
	zone int
	ep   episode
	cool cooldown
}

func (e *Engine) newCrowd(r *scene.Rule) (checker, error) {
	if r.MaxDensityPerM2 > 0 && r.Zone.AreaM2 <= 0 {
		return nil, errors.New("zone has no ground area for a density limit")
	}
	return &crowdRule{e: e, r: r, zone: e.useZone(r.Zone)}, nil
}

// inZone lists this frame's allowed tracks in the zone, appending to buf.
func inZone(e *Engine, r *scene.Rule, zone int, buf []*trackState) []*trackState {
	for _, t := range e.order {
		if t.in[zone] && r.ClassSet.Allows(t.class) {
			buf = append(buf, t)
		}
	}
	return buf
}

func (c *crowdRule) frame(pts time.Duration) []event.Event {
	n := 0
	for _, t := range c.e.order {
		if t.in[c.zone] && c.r.ClassSet.Allows(t.class) {
			n++
		}
	}
	density := 0.0
	if c.r.Zone.AreaM2 > 0 {
		density = float64(n) / c.r.Zone.AreaM2
	}
	over := (c.r.MaxCount > 0 && n > c.r.MaxCount) || (c.r.MaxDensityPerM2 > 0 && density > c.r.MaxDensityPerM2)
	c.ep.observe(pts, over, zoneHold)
	if !c.ep.ready(pts, max(c.r.MinDwell, crowdMinDwell)) || !c.cool.ok(pts, c.r.Cooldown) {
		return nil
	}
	fire(&c.ep, &c.cool, pts)
	ev := c.e.groupEvent(c.r, inZone(c.e, c.r, c.zone, nil), c.ep.since, pts)
	ev.Values = map[string]float64{"count": float64(n), "duration_s": secs(pts - c.ep.since)}
	limit := fmt.Sprintf("limit %d", c.r.MaxCount)
	if c.r.MaxDensityPerM2 > 0 {
		ev.Values["density_per_m2"] = density
		ev.Values["max_density_per_m2"] = c.r.MaxDensityPerM2
		limit = fmt.Sprintf("%.2f per m², limit %.2f", density, c.r.MaxDensityPerM2)
	} else {
		ev.Values["max_count"] = float64(c.r.MaxCount)
	}
	ev.Explanation = fmt.Sprintf("%d tracks in zone '%s' for %.1f s (%s)", n, c.r.Zone.Name, (pts - c.ep.since).Seconds(), limit)
	return []event.Event{ev}
}

// groupEvent is an alert about several tracks; its class is theirs when
// they share one.
func (e *Engine) groupEvent(r *scene.Rule, ts []*trackState, start, end time.Duration) event.Event {
	ev := e.baseEvent(r, start, end)
	for i, t := range ts {
		ev.Tracks = append(ev.Tracks, t.id)
		switch {
		case i == 0:
			ev.Class = t.class.String()
		case ev.Class != t.class.String():
			ev.Class = ""
		}
	}
	return ev
}

// dispersalRule raises dispersal; see the package doc for the criterion.
type dispersalRule struct {
	noop
	e    *Engine
	r    *scene.Rule
	idx  int // rule index, for the per-track state
	zone int
	ep   episode
	cool cooldown
	buf  []mover // scratch
}

// mover is one track's position and velocity this frame.
type mover struct {
	t    *trackState
	g, v geom.Point
}

func (c *dispersalRule) frame(pts time.Duration) []event.Event {
	c.buf = c.movers(pts, c.buf[:0])
	out := c.dispersing(pts, c.buf)
	c.ep.observe(pts, len(out) >= c.r.MinTracks, zoneHold)
	if !c.ep.ready(pts, 0) || !c.cool.ok(pts, c.r.Cooldown) {
		return nil
	}
	fire(&c.ep, &c.cool, pts)
	ts := make([]*trackState, len(out))
	start, speed := pts, 0.0
	for i, m := range out {
		ts[i] = m.t
		start = min(start, m.t.rules[c.idx].lastSlow)
		speed += m.v.Norm() / float64(len(out))
	}
	ev := c.e.groupEvent(c.r, ts, start, pts)
	ev.Values = map[string]float64{"tracks": float64(len(out)), "mean_speed_ms": speed, "min_speed_ms": c.r.MinSpeedMS, "window_s": secs(c.r.Window)}
	ev.Explanation = fmt.Sprintf("%d tracks in zone '%s' sped up to %.1f m/s on average, away from each other, within %.1f s",
		len(out), c.r.Zone.Name, speed, c.r.Window.Seconds())
	return []event.Event{ev}
}

// movers measures this frame's allowed tracks in the zone and notes when
// each was last slow.
func (c *dispersalRule) movers(pts time.Duration, buf []mover) []mover {
	for _, t := range c.e.order {
		if !t.in[c.zone] || !c.r.ClassSet.Allows(t.class) || !t.cur().GOK {
			continue
		}
		v, ok := t.velocity(pts, dispersalWindow, true)
		if !ok {
			continue
		}
		st := &t.rules[c.idx]
		if v.Norm() < c.r.MinSpeedMS {
			st.lastSlow, st.slowSeen = pts, true
		}
		buf = append(buf, mover{t: t, g: t.cur().G, v: v})
	}
	return buf
}

// dispersing keeps the movers that sped up within the window and move
// away from the group's centroid relative to the group's mean velocity
// (it filters ms in place).
func (c *dispersalRule) dispersing(pts time.Duration, ms []mover) []mover {
	if len(ms) < c.r.MinTracks {
		return nil
	}
	var centroid, mean geom.Point
	for _, m := range ms {
		centroid, mean = centroid.Add(m.g), mean.Add(m.v)
	}
	k := 1 / float64(len(ms))
	centroid, mean = centroid.Scale(k), mean.Scale(k)
	out := ms[:0]
	for _, m := range ms {
		st := &m.t.rules[c.idx]
		rel, r := m.v.Sub(mean), m.g.Sub(centroid)
		rn, vn := rel.Norm(), r.Norm()
		if m.v.Norm() < c.r.MinSpeedMS || !st.slowSeen || pts-st.lastSlow > c.r.Window ||
			rn < c.r.MinSpeedMS/2 || vn == 0 || rel.Dot(r)/(rn*vn) <= 0.5 {
			continue
		}
		out = append(out, m)
	}
	return out
}
