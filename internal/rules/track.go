package rules

import (
	"sort"
	"time"

	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/track"
)

// Path bookkeeping: one point per pathStep, at most maxPath kept (30 s).
const (
	pathStep = 200 * time.Millisecond
	maxPath  = 150
)

// sample is one observation of a track's foot point, raw and smoothed.
type sample struct {
	pts       time.Duration
	raw, rawG geom.Point // raw foot point in the image, and on the ground
	rawOK     bool       // rawG exists
	img, g    geom.Point // smoothed foot point in the image and on the ground
	gOK       bool       // g exists
}

// pathPt is one point of a track's recorded path.
type pathPt struct {
	pts    time.Duration
	img, g geom.Point
	gOK    bool
}

// trackState is everything the engine remembers about one track id.
type trackState struct {
	id          int
	class       detect.Class
	box         geom.Box
	first, last time.Duration // first and last frame seen
	hist        []sample      // by PTS; at least the engine's keep window
	path        []pathPt
	in          []bool // smoothed foot point in sc.Zones[i] (used zones only)
	rules       []ruleState
}

// cur is the latest sample.
func (t *trackState) cur() *sample { return &t.hist[len(t.hist)-1] }

// observeTrack records tr at pts: history, smoothing, zones, path.
func (e *Engine) observeTrack(pts time.Duration, t *trackState, tr track.Track) {
	t.class, t.box, t.last = tr.Class, tr.Box, pts
	foot := tr.Box.Foot()
	g, ok := e.sc.ToGround(foot)
	t.hist = append(t.hist, sample{pts: pts, raw: foot, rawG: g, rawOK: ok})
	t.smooth(e.opt.Smoothing)
	t.trim(pts - e.keep)
	s := t.cur()
	for _, z := range e.used {
		t.in[z] = e.sc.Zones[z].Contains(s.img)
	}
	if n := len(t.path); n == 0 || pts-t.path[n-1].pts >= pathStep {
		if n == maxPath {
			// Drop the oldest third at once so the copy is amortised.
			t.path = t.path[:copy(t.path, t.path[maxPath/3:])]
		}
		t.path = append(t.path, pathPt{pts: pts, img: s.img, g: s.g, gOK: s.gOK})
	}
}

// smooth sets the latest sample's smoothed points to the mean of the raw
// points within the last window of frame time: a moving average is cheap
// and removes the frame-to-frame box jitter that would otherwise read as
// speed or as zone-edge flicker.
func (t *trackState) smooth(window time.Duration) {
	n := len(t.hist)
	now := t.hist[n-1].pts
	var si, sg geom.Point
	ni, ng := 0, 0
	for i := n - 1; i >= 0 && now-t.hist[i].pts < window; i-- {
		s := &t.hist[i]
		si, ni = si.Add(s.raw), ni+1
		if s.rawOK {
			sg, ng = sg.Add(s.rawG), ng+1
		}
	}
	s := &t.hist[n-1]
	s.img = si.Scale(1 / float64(ni))
	s.gOK = ng > 0
	if s.gOK {
		s.g = sg.Scale(1 / float64(ng))
	}
}

// trim drops samples older than the one just before from, in batches so
// that the copy is amortised over many frames.
func (t *trackState) trim(from time.Duration) {
	i := 0
	for i+1 < len(t.hist) && t.hist[i+1].pts <= from {
		i++
	}
	if i > 0 && i >= len(t.hist)/2 {
		t.hist = t.hist[:copy(t.hist, t.hist[i:])]
	}
}

// velocity is the mean velocity over the last window of frame time: the
// smoothed displacement from the latest sample at least window old to the
// current one, per second. It is ground m/s when ground is set (false if
// either end has no ground point) and image px/s otherwise; false while
// the track is younger than window.
func (t *trackState) velocity(now, window time.Duration, ground bool) (geom.Point, bool) {
	n := len(t.hist)
	j := sort.Search(n, func(i int) bool { return t.hist[i].pts > now-window }) - 1
	if j < 0 {
		return geom.Point{}, false
	}
	a, b := &t.hist[j], &t.hist[n-1]
	dt := (b.pts - a.pts).Seconds()
	if dt <= 0 {
		return geom.Point{}, false
	}
	if !ground {
		return b.img.Sub(a.img).Scale(1 / dt), true
	}
	if !a.gOK || !b.gOK {
		return geom.Point{}, false
	}
	return b.g.Sub(a.g).Scale(1 / dt), true
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
