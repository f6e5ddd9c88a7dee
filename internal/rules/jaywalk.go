package rules

import (
	"fmt"
	"math"
	"time"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/scene"
)

// Jaywalking thresholds (see the package doc).
const (
	jayMinDepthM  = 1.0 // deeper than this from the edge is off the kerb
	jayFraction   = 0.4 // of the zone's chord along the direction of travel
	jayMinDistM   = 1.0 // floor of the derived distance
	personHeightM = 1.7 // scale for uncalibrated scenes
)

// jaywalkRule raises jaywalking.
type jaywalkRule struct {
	noop
	e    *Engine
	r    *scene.Rule
	zone int
}

func (e *Engine) newJaywalk(r *scene.Rule) checker {
	for _, i := range e.crosswalks {
		e.useZone(e.sc.Zones[i])
	}
	return &jaywalkRule{e: e, r: r, zone: e.useZone(r.Zone)}
}

// onRoad: on the carriageway and on no crosswalk.
func (c *jaywalkRule) onRoad(t *trackState) bool {
	if !t.in[c.zone] {
		return false
	}
	for _, i := range c.e.crosswalks {
		if t.in[i] {
			return false
		}
	}
	return true
}

// frameOf picks where to measure: the ground plane when the zone and the
// point have ground coordinates, else the image with metres estimated
// from the person's height. It returns the position, the polygon and the
// metres per unit.
func (c *jaywalkRule) frameOf(t *trackState) (geom.Point, geom.Polygon, float64, bool) {
	s := t.cur()
	if s.GOK && c.r.Zone.Ground != nil {
		return s.G, c.r.Zone.Ground, 1, true
	}
	return s.Img, c.r.Zone.Polygon, personHeightM / math.Max(t.box.H, 1), false
}

func (c *jaywalkRule) track(pts time.Duration, t *trackState, st *ruleState) (event.Event, bool) {
	on := c.onRoad(t)
	started := st.ep.observe(pts, on, exitHold)
	if !on {
		return event.Event{}, false
	}
	pos, poly, scale, ground := c.frameOf(t)
	if started || st.entryG != ground {
		st.entry, st.entryG, st.maxDepth = pos, ground, 0
	}
	st.maxDepth = math.Max(st.maxDepth, distToBoundary(poly, pos)*scale)
	disp := pos.Sub(st.entry)
	dist := disp.Norm() * scale
	if dist < jayMinDistM || st.maxDepth < jayMinDepthM {
		return event.Event{}, false
	}
	need := c.r.MinDistanceM
	if need == 0 {
		need = math.Max(jayMinDistM, jayFraction*chord(poly, st.entry, disp.Scale(1/disp.Norm()))*scale)
	}
	if dist < need || !st.ep.ready(pts, c.r.MinDwell) || !st.cool.ok(pts, c.r.Cooldown) {
		return event.Event{}, false
	}
	fire(&st.ep, &st.cool, pts)
	ev := c.e.trackEvent(c.r, t, st.ep.since, pts)
	ev.Values = map[string]float64{"distance_m": dist, "depth_m": st.maxDepth, "min_distance_m": need, "duration_s": secs(pts - st.ep.since)}
	ev.Explanation = fmt.Sprintf("%s %d walked %.1f m across carriageway '%s' outside any crosswalk, up to %.1f m from the kerb",
		t.class, t.id, dist, c.r.Zone.Name, st.maxDepth)
	return ev, true
}

// distToBoundary is the distance from p to the nearest polygon edge.
func distToBoundary(pg geom.Polygon, p geom.Point) float64 {
	d := math.Inf(1)
	for i := range pg {
		a, b := pg[i], pg[(i+1)%len(pg)]
		d = math.Min(d, distToSegment(a, b, p))
	}
	return d
}

func distToSegment(a, b, p geom.Point) float64 {
	e := b.Sub(a)
	l2 := e.Dot(e)
	if l2 == 0 {
		return p.Dist(a)
	}
	t := math.Max(0, math.Min(1, p.Sub(a).Dot(e)/l2))
	return p.Dist(a.Add(e.Scale(t)))
}

// chord is how far the ray from p along unit dir travels to the polygon's
// far boundary (the last edge it hits): the zone's extent across the
// direction of travel, measured from the entry point.
func chord(pg geom.Polygon, p, dir geom.Point) float64 {
	best := 0.0
	for i := range pg {
		a, b := pg[i], pg[(i+1)%len(pg)]
		if t, ok := rayHit(p, dir, a, b); ok {
			best = math.Max(best, t)
		}
	}
	return best
}

// rayHit intersects the ray p + t·dir (t ≥ 0) with segment a–b.
func rayHit(p, dir, a, b geom.Point) (float64, bool) {
	e := b.Sub(a)
	den := dir.X*e.Y - dir.Y*e.X
	if den == 0 {
		return 0, false
	}
	w := a.Sub(p)
	t := (w.X*e.Y - w.Y*e.X) / den
	u := (w.X*dir.Y - w.Y*dir.X) / den
	return t, t >= 0 && u >= 0 && u <= 1
}
