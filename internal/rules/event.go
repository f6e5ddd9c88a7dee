package rules

import (
	"time"

	"github.com/vigil-cctv/vigil/internal/event"
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

// eventPath is the recorded path from `from` on (all of it if it starts
// later), ending at the current position, evenly thinned to maxEventPath.
func (t *trackState) eventPath(from time.Duration) []event.PathPoint {
	pts := t.path
	for len(pts) > 1 && pts[0].pts < from {
		pts = pts[1:]
	}
	all := make([]pathPt, len(pts), len(pts)+1)
	copy(all, pts)
	if s := t.cur(); len(all) == 0 || all[len(all)-1].pts != s.pts {
		all = append(all, pathPt{pts: s.pts, img: s.img, g: s.g, gOK: s.gOK})
	}
	n := min(len(all), maxEventPath)
	out := make([]event.PathPoint, n)
	for i := range out {
		j := i
		if n > 1 {
			j = i * (len(all) - 1) / (n - 1)
		}
		p := all[j]
		out[i] = event.PathPoint{PTS: event.Seconds(p.pts), Image: [2]float64{p.img.X, p.img.Y}}
		if p.gOK {
			out[i].Ground = &[2]float64{p.g.X, p.g.Y}
		}
	}
	return out
}

// fire marks an alert in an episode and its cooldown.
func fire(ep *episode, c *cooldown, pts time.Duration) {
	ep.fired = true
	c.mark(pts)
}

// secs is a duration in seconds for Values.
func secs(d time.Duration) float64 { return d.Seconds() }
