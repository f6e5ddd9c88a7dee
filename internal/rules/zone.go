package rules

import (
	"fmt"
	"math"
	"time"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/scene"
)

// Stopped-vehicle speed limits: calibrated in m/s, otherwise in px/s with
// a floor relative to the box so that near (large) vehicles' jitter does
// not read as movement.
const (
	stopSpeedMS       = 0.5
	stopSpeedPx       = 3.0
	stopSpeedBoxRatio = 0.05
)

// dwellRule raises loitering, intrusion and vehicle_in_pedestrian_zone:
// presence in a zone for min_dwell.
type dwellRule struct {
	noop
	e    *Engine
	r    *scene.Rule
	zone int
}

func (c *dwellRule) track(pts time.Duration, t *trackState, st *ruleState) (event.Event, bool) {
	st.ep.observe(pts, t.in[c.zone], exitHold)
	if !st.ep.ready(pts, c.r.MinDwell) || !st.cool.ok(pts, c.r.Cooldown) {
		return event.Event{}, false
	}
	fire(&st.ep, &st.cool, pts)
	dwell := pts - st.ep.since
	ev := c.e.trackEvent(c.r, t, st.ep.since, pts)
	ev.Values = map[string]float64{"dwell_s": secs(dwell), "min_dwell_s": secs(c.r.MinDwell)}
	ev.Explanation = c.explain(t, dwell)
	return ev, true
}

func (c *dwellRule) explain(t *trackState, dwell time.Duration) string {
	z := c.r.Zone
	switch c.r.Type {
	case scene.Loitering:
		return fmt.Sprintf("%s %d stayed %.1f s in zone '%s' (limit %.1f s)", t.class, t.id, dwell.Seconds(), z.Name, c.r.MinDwell.Seconds())
	case scene.Intrusion:
		s := fmt.Sprintf("%s %d in %s zone '%s' for %.1f s", t.class, t.id, z.Type, z.Name, dwell.Seconds())
		if c.r.Schedule != nil {
			s += fmt.Sprintf(" during schedule '%s'", c.r.Schedule.Name)
		}
		return s
	}
	return fmt.Sprintf("%s %d on %s zone '%s' for %.1f s", t.class, t.id, z.Type, z.Name, dwell.Seconds())
}

// stoppedRule raises stopped_vehicle: near-zero speed on a carriageway for
// min_dwell.
type stoppedRule struct {
	noop
	e    *Engine
	r    *scene.Rule
	zone int
}

func (c *stoppedRule) track(pts time.Duration, t *trackState, st *ruleState) (event.Event, bool) {
	if !t.in[c.zone] {
		st.ep.observe(pts, false, exitHold)
		return event.Event{}, false
	}
	speed, limit, ground, ok := c.speed(pts, t)
	if !ok {
		return event.Event{}, false // too young to measure: no evidence either way
	}
	st.ep.observe(pts, speed < limit, exitHold)
	st.peak = speed
	if !st.ep.ready(pts, c.r.MinDwell) || !st.cool.ok(pts, c.r.Cooldown) {
		return event.Event{}, false
	}
	fire(&st.ep, &st.cool, pts)
	// The speed is measured over stopWindow, so the stop began that long
	// before the first slow reading.
	start := max(st.ep.since-stopWindow, t.first)
	ev := c.e.trackEvent(c.r, t, start, pts)
	dwell := pts - start
	unit, key := "px/s", "speed_px_s"
	if ground {
		unit, key = "m/s", "speed_ms"
	}
	ev.Values = map[string]float64{"dwell_s": secs(dwell), key: speed, "min_dwell_s": secs(c.r.MinDwell)}
	ev.Explanation = fmt.Sprintf("%s %d stopped %.1f s on carriageway '%s' (speed %.2f %s, limit %.0f s)",
		t.class, t.id, dwell.Seconds(), c.r.Zone.Name, speed, unit, c.r.MinDwell.Seconds())
	return ev, true
}

// speed is the track's speed over stopWindow and the stop limit, in m/s
// when the track has ground points, else in px/s.
func (c *stoppedRule) speed(pts time.Duration, t *trackState) (speed, limit float64, ground, ok bool) {
	if v, ok := t.velocity(pts, stopWindow, true); ok {
		return v.Norm(), stopSpeedMS, true, true
	}
	v, ok := t.velocity(pts, stopWindow, false)
	return v.Norm(), math.Max(stopSpeedPx, stopSpeedBoxRatio*t.box.H), false, ok
}

// speedRule raises speeding: ground speed above the limit for the whole
// smoothing window.
type speedRule struct {
	noop
	e      *Engine
	r      *scene.Rule
	zone   int
	window time.Duration
}

func (c *speedRule) track(pts time.Duration, t *trackState, st *ruleState) (event.Event, bool) {
	if !t.in[c.zone] {
		st.ep.observe(pts, false, 0)
		return event.Event{}, false
	}
	v, ok := t.velocity(pts, c.window, true)
	if !ok {
		return event.Event{}, false
	}
	kmh := v.Norm() * 3.6
	if st.ep.observe(pts, kmh > c.r.SpeedLimitKmh, 0) {
		st.peak = 0
	}
	st.peak = math.Max(st.peak, kmh)
	if !st.ep.ready(pts, c.window) || !st.cool.ok(pts, c.r.Cooldown) {
		return event.Event{}, false
	}
	fire(&st.ep, &st.cool, pts)
	// The first fast reading averaged the window before it.
	start := max(st.ep.since-c.window, t.first)
	ev := c.e.trackEvent(c.r, t, start, pts)
	ev.Values = map[string]float64{"speed_kmh": kmh, "max_speed_kmh": st.peak, "limit_kmh": c.r.SpeedLimitKmh, "duration_s": secs(pts - start)}
	ev.Explanation = fmt.Sprintf("%s %d at %.0f km/h (max %.0f) in zone '%s' for %.1f s, limit %.0f km/h",
		t.class, t.id, kmh, st.peak, c.r.Zone.Name, (pts - start).Seconds(), c.r.SpeedLimitKmh)
	return ev, true
}
