package rules

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/scene"
)

// Count is the number of line crossings of one rule, class and direction
// in one time bucket.
type Count struct {
	Rule      string        // rule name
	Line      string        // line name
	Class     string        // track class, e.g. "person"
	Direction string        // "in" or "out"
	Start     time.Duration // bucket start, frame PTS
	Bucket    time.Duration // bucket length
	N         int
}

type countKey struct {
	rule      *scene.Rule
	class     string
	direction string
	start     time.Duration
}

// Counts returns the line-crossing counters, sorted by bucket start, rule,
// class and direction.
func (e *Engine) Counts() []Count {
	out := make([]Count, 0, len(e.counts))
	for k, n := range e.counts {
		out = append(out, Count{Rule: k.rule.Name, Line: k.rule.Line.Name, Class: k.class, Direction: k.direction, Start: k.start, Bucket: k.rule.Bucket, N: n})
	}
	slices.SortFunc(out, func(a, b Count) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Class, b.Class), cmp.Compare(a.Direction, b.Direction))
	})
	return out
}

// NewCounts returns the crossings counted since its last call, one Count
// with N = 1 per crossing, in the order they were counted: what a sink
// adds to stored totals without diffing Counts.
func (e *Engine) NewCounts() []Count {
	out := e.fresh
	e.fresh = nil
	return out
}

// lineRule counts and reports line crossings; see the package doc.
type lineRule struct {
	noop
	e *Engine
	r *scene.Rule
}

func (c *lineRule) track(pts time.Duration, t *trackState, st *ruleState) (event.Event, bool) {
	p := t.cur().Img
	s := c.side(p, t.box.H)
	if s == 0 {
		return event.Event{}, false // on the line: no evidence of a side
	}
	prev, had := st.lastOff, st.haveOff
	st.lastOff, st.haveOff = p, true
	switch {
	case st.side == 0:
		st.side = s // first sighting
	case st.pend != 0 && s != st.pend:
		st.pend = 0 // back before the hold: jitter on the line
	case st.pend != 0:
		if pts-st.pendPTS >= lineHold {
			return c.confirm(pts, t, st)
		}
	case s != st.side:
		if had && c.throughSegment(prev, p) {
			st.pend, st.pendPTS = s, pts
		} else {
			st.side = s // went round an end of the line
		}
	}
	return event.Event{}, false
}

// lineBand is the half-width, as a fraction of the box height, of the
// band around the line where a foot point counts as on it: box jitter of a
// track standing on the line then never reads as a side.
const lineBand = 0.1

// side is the line side of p, 0 within the band around the line.
func (c *lineRule) side(p geom.Point, boxH float64) int {
	l := c.r.Line
	if geom.Side(l.A, l.B, p) == 0 || math.Abs(geom.Side(l.A, l.B, p))/l.A.Dist(l.B) < lineBand*boxH {
		return 0
	}
	return l.Side(p)
}

// throughSegment reports whether the move a→b passes through the line
// segment itself rather than its extension.
func (c *lineRule) throughSegment(a, b geom.Point) bool {
	_, ok := geom.SegmentsIntersect(c.r.Line.A, c.r.Line.B, a, b)
	return ok
}

// expire confirms a crossing still pending when its track disappears: the
// track was last seen on the new side, and if it lives on under a new id
// that id starts there, so the crossing is counted once, not lost.
func (c *lineRule) expire(pts time.Duration, t *trackState, st *ruleState) (event.Event, bool) {
	if st.pend == 0 {
		return event.Event{}, false
	}
	return c.confirm(pts, t, st)
}

// confirm counts the pending crossing and raises its event.
func (c *lineRule) confirm(pts time.Duration, t *trackState, st *ruleState) (event.Event, bool) {
	dir := "out"
	if st.pend > 0 {
		dir = "in"
	}
	st.side, st.pend = st.pend, 0
	k := countKey{rule: c.r, class: t.class.String(), direction: dir, start: bucketStart(st.pendPTS, c.r.Bucket)}
	c.e.counts[k]++
	c.e.fresh = append(c.e.fresh, Count{Rule: c.r.Name, Line: c.r.Line.Name, Class: k.class, Direction: dir, Start: k.start, Bucket: c.r.Bucket, N: 1})
	if !st.cool.ok(pts, c.r.Cooldown) {
		return event.Event{}, false
	}
	st.cool.mark(pts)
	ev := c.e.trackEvent(c.r, t, st.pendPTS, pts)
	ev.Direction = dir
	ev.Explanation = fmt.Sprintf("%s %d crossed line '%s' %s", t.class, t.id, c.r.Line.Name, dir)
	return ev, true
}

// bucketStart floors pts to a multiple of bucket.
func bucketStart(pts, bucket time.Duration) time.Duration {
	if bucket <= 0 {
		return 0
	}
	b := pts / bucket * bucket
	if b > pts {
		b -= bucket
	}
	return b
}
