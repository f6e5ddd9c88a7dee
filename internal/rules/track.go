package rules

import (
	"time"

	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/footpath"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/track"
)

// Path bookkeeping: one point per pathStep, at most maxPath kept (30 s).
const (
	pathStep = 200 * time.Millisecond
	maxPath  = 150
)

// trackState is everything the engine remembers about one track id.
type trackState struct {
	id          int
	class       detect.Class
	box         geom.Box
	first, last time.Duration    // first and last frame seen
	hist        footpath.History // by PTS; at least the engine's keep window
	path        []footpath.Point
	in          []bool // smoothed foot point in sc.Zones[i] (used zones only)
	rules       []ruleState
}

// cur is the latest sample.
func (t *trackState) cur() *footpath.Sample { return t.hist.Cur() }

// observeTrack records tr at pts: history, smoothing, zones, path.
func (e *Engine) observeTrack(pts time.Duration, t *trackState, tr track.Track) {
	t.class, t.box, t.last = tr.Class, tr.Box, pts
	foot := tr.Box.Foot()
	g, ok := e.sc.ToGround(foot)
	t.hist.Add(pts, foot, g, ok, e.opt.Smoothing)
	t.hist.Trim(pts - e.keep)
	s := t.cur()
	for _, z := range e.used {
		t.in[z] = e.sc.Zones[z].Contains(s.Img)
	}
	if n := len(t.path); n == 0 || pts-t.path[n-1].PTS >= pathStep {
		if n == maxPath {
			// Drop the oldest third at once so the copy is amortised.
			t.path = t.path[:copy(t.path, t.path[maxPath/3:])]
		}
		t.path = append(t.path, footpath.PointOf(s))
	}
}

// velocity is the mean velocity over the last window of frame time (see
// footpath.History.Velocity).
func (t *trackState) velocity(now, window time.Duration, ground bool) (geom.Point, bool) {
	return t.hist.Velocity(now, window, ground)
}

// ruleState is one rule's memory of one track. It is a union of what the
// rule types need, so that it lives inline in trackState and is forgotten
// with it.
type ruleState struct {
	ep   episode
	cool cooldown
	peak float64 // speeding: highest speed in the episode; stopped: last speed

	// wrong_way
	wwOn     bool
	maxAlong float64
	turn     geom.Point
	turnPTS  time.Duration
	done     bool

	// jaywalking: entry point in the measuring frame (ground or image).
	entry    geom.Point
	entryG   bool
	maxDepth float64

	// line_crossing
	side, pend int
	pendPTS    time.Duration
	lastOff    geom.Point // last foot point off the line
	haveOff    bool

	// dispersal
	lastSlow time.Duration
	slowSeen bool
}

// episode follows a condition with hysteresis on its end: it starts the
// first time the condition holds and ends once it has been observed false
// for hold. Frames without an observation count neither way.
type episode struct {
	on         bool
	since      time.Duration // start of the episode
	falseOn    bool          // condition currently false
	falseSince time.Duration
	n          int  // observations with the condition true
	fired      bool // alert raised in this episode
}

// observe feeds one observation and reports whether a new episode started.
func (e *episode) observe(pts time.Duration, cond bool, hold time.Duration) bool {
	if cond {
		e.falseOn = false
		if e.on {
			e.n++
			return false
		}
		*e = episode{on: true, since: pts, n: 1}
		return true
	}
	if !e.on {
		return false
	}
	if !e.falseOn {
		e.falseOn, e.falseSince = true, pts
	}
	if pts-e.falseSince >= hold {
		e.on = false
	}
	return false
}

// ready reports whether an alert may be raised now: the condition holds,
// the episode has not alerted, has ≥ 2 observations and has lasted need
// (at least minConfirm).
func (e *episode) ready(pts, need time.Duration) bool {
	return e.on && !e.falseOn && !e.fired && e.n >= 2 && pts-e.since >= max(need, minConfirm)
}

// cooldown remembers the last alert.
type cooldown struct {
	last    time.Duration
	alerted bool
}

// ok reports whether d has passed since the last alert.
func (c *cooldown) ok(pts, d time.Duration) bool { return !c.alerted || pts-c.last >= d }

// mark records an alert at pts.
func (c *cooldown) mark(pts time.Duration) { c.last, c.alerted = pts, true }
