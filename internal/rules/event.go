package rules

import (
	"time"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/footpath"
	"github.com/vigil-cctv/vigil/internal/scene"
)

// maxEventPath is the most path points an alert carries.
const maxEventPath = 50

// baseEvent fills what every alert of rule r shares.
func (e *Engine) baseEvent(r *scene.Rule, start, end time.Duration) event.Event {
	ev := event.Event{
		Rule:     string(r.Type),
		Name:     r.Name,
		Camera:   e.sc.Camera,
		Start:    event.Seconds(start),
		End:      event.Seconds(end),
		Severity: r.Severity,
	}
	switch {
	case r.Zone != nil:
		ev.Zone = r.Zone.Name
	case r.Line != nil:
		ev.Line = r.Line.Name
	case r.Lane != nil:
		ev.Lane = r.Lane.Name
		ev.Zone = r.Lane.Zone.Name
	}
	return ev
}

// trackEvent is an alert about one track, with its path since shortly
// before start.
func (e *Engine) trackEvent(r *scene.Rule, t *trackState, start, end time.Duration) event.Event {
	ev := e.baseEvent(r, start, end)
	ev.Tracks = []int{t.id}
	ev.Class = t.class.String()
	ev.Path = t.eventPath(start - time.Second)
	return ev
}

// eventPath is the recorded path from `from` on, ending at the current
// position, thinned to maxEventPath points.
func (t *trackState) eventPath(from time.Duration) []event.PathPoint {
	return footpath.EventPath(t.path, t.cur(), from, maxEventPath)
}

// fire marks an alert in an episode and its cooldown.
func fire(ep *episode, c *cooldown, pts time.Duration) {
	ep.fired = true
	c.mark(pts)
}

// secs is a duration in seconds for Values.
func secs(d time.Duration) float64 { return d.Seconds() }
