package baseline

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/vigil-cctv/vigil/internal/event"
)

// occSlot is one (zone, class) pair followed for occupancy; zone −1 is the
// whole view.
type occSlot struct{ zone, class int16 }

// occEpisode follows one slot's surprise like kindTrack follows a track's.
type occEpisode struct {
	kindTrack
	lastAbove time.Duration
	alertID   uint64 // the open alert whose window samples are quarantined
	scored    bool   // scored in the current window
}

// sampleOccupancy counts this frame's tracks per class in every zone and
// the whole view, and scores the counts.
func (m *Model) sampleOccupancy(pts time.Duration, out *[]event.Event) {
	nc := len(m.classes)
	nz := m.zones()
	m.occCounts = slices.Grow(m.occCounts[:0], (nz+1)*nc)[:(nz+1)*nc]
	clear(m.occCounts)
	for _, t := range m.order {
		if t.last != pts {
			continue
		}
		ci, ok := slices.BinarySearch(m.classes, int16(t.class))
		if !ok {
			continue
		}
		m.occCounts[ci]++
		img := t.cur().Img
		for z := range nz {
			if m.sc.Zones[z].Contains(img) {
				m.occCounts[(z+1)*nc+ci]++
			}
		}
	}
	// Zones first, so that the whole view can defer to a zone's alert.
	for z := 1; z <= nz; z++ {
		for ci, cls := range m.classes {
			m.occSample(occSlot{int16(z - 1), cls}, m.occCounts[z*nc+ci], pts, out)
		}
	}
	for ci, cls := range m.classes {
		m.occSample(occSlot{-1, cls}, m.occCounts[ci], pts, out)
	}
}

func (m *Model) zones() int {
	if m.sc == nil {
		return 0
	}
	return min(len(m.sc.Zones), maxZones)
}

// maxZones bounds the zones followed for occupancy (zone indices are int16).
const maxZones = 1000

// occSample scores one slot's count, follows its episode and raises an
// alert when the count stays surprising.
func (m *Model) occSample(slot occSlot, n int, pts time.Duration, out *[]event.Event) {
	ep := m.episode(slot)
	b := occBin(n)
	if len(m.occBuf) < maxOccBuf {
		m.occBuf = append(m.occBuf, occRec{zone: slot.zone, class: slot.class, hour: m.hour, bin: int8(b)})
	}
	if m.mt < m.calibStart() || !m.on[kindBusy] {
		return
	}
	ep.scored = true
	s := 0.0
	if h := m.occPick(slot); h != nil && n > 0 {
		s = surprise(m.tab.occ.upperTail(h.bins[:], h.n, b, alpha*m.inf, uniformTail(b, occBins)))
	}
	sustained := ep.push(s)
	thr := m.threshold(kindBusy, int(slot.zone))
	switch {
	case s < thr:
		ep.above = false
	case !ep.above:
		ep.above, ep.since = true, pts
	}
	if s >= thr {
		ep.lastAbove = pts
	}
	if ep.done && pts-ep.lastAbove >= occHold {
		ep.done = false // alertID stays until the window's samples are held
	}
	if sustained < thr || ep.done || !m.warm() {
		return
	}
	ep.done = true
	if (slot.zone < 0 && m.zoneAlerting(slot.class)) || m.suppressedOcc(slot) {
		return
	}
	*out = append(*out, m.occAlert(slot, ep, n, sustained, thr, pts))
}

// maxOccBuf bounds one window's occupancy samples.
const maxOccBuf = 1 << 16

// episode finds or makes a slot's episode.
func (m *Model) episode(s occSlot) *occEpisode {
	if ep := m.occEp[s]; ep != nil {
		return ep
	}
	ep := &occEpisode{}
	m.occEp[s] = ep
	return ep
}

// zoneAlerting reports whether some zone has an open alert for cls; the
// whole view then stays quiet rather than repeat it.
func (m *Model) zoneAlerting(cls int16) bool {
	for s, ep := range m.occEp {
		if s.zone >= 0 && s.class == cls && ep.alertID != 0 {
			return true
		}
	}
	return false
}

// occPick backs off from the hour bucket to all hours; nil without enough
// evidence.
func (m *Model) occPick(s occSlot) *occHist {
	need := minEvidence * m.inf
	if m.hour != allHours {
		if h := m.occ[occKey{s.zone, s.class, m.hour}]; h != nil && h.n >= need {
			return h
		}
	}
	if h := m.occ[occKey{s.zone, s.class, allHours}]; h != nil && h.n >= need {
		return h
	}
	return nil
}

// occAlert builds an occupancy alert and opens its quarantine.
func (m *Model) occAlert(s occSlot, ep *occEpisode, n int, score, thr float64, pts time.Duration) event.Event {
	ev := m.newAlert(kindBusy, int(s.zone), ep.since, pts)
	ep.alertID = m.alertSeq
	cls := classOf(s.class)
	ev.Class = cls.String()
	for _, t := range m.order {
		if t.last == pts && t.class == cls && (s.zone < 0 || m.sc.Zones[s.zone].Contains(t.cur().Img)) {
			ev.Tracks = append(ev.Tracks, t.id)
		}
	}
	h := m.occPick(s)
	q := occLower(quantileBin(h.bins[:], 0.99))
	p := m.tab.occ.upperTail(h.bins[:], h.n, occBin(n), alpha*m.inf, uniformTail(occBin(n), occBins))
	where, when := "in view", "usually"
	if s.zone >= 0 {
		where = fmt.Sprintf("in zone '%s'", m.sc.Zones[s.zone].Name)
	}
	if m.hour != allHours && h == m.occ[occKey{s.zone, s.class, m.hour}] {
		when = "at this hour"
	}
	ev.Values["count"], ev.Values["p99"] = float64(n), float64(q)
	ev.Values["score"], ev.Values["threshold"], ev.Values["p"] = score, thr, p
	ev.Explanation = fmt.Sprintf("%d %s %s where the 99th percentile %s is %d (p=%.2g, surprise %.1f ≥ threshold %.1f)",
		n, cls, where, when, q, p, score, thr)
	m.quarantine(&quarantined{ids: []uint64{m.alertSeq}, rec: learnable{class: s.class}})
	return ev
}

// flushOccupancy ends an occupancy window: each slot's held-out peak goes
// to calibration, and its samples are learned, or held with the open
// alert they belong to.
func (m *Model) flushOccupancy() {
	slots := make([]occSlot, 0, len(m.occEp))
	for s := range m.occEp {
		slots = append(slots, s)
	}
	slices.SortFunc(slots, func(a, b occSlot) int {
		return cmp.Or(cmp.Compare(a.zone, b.zone), cmp.Compare(a.class, b.class))
	})
	for _, s := range slots {
		ep := m.occEp[s]
		if ep.scored && m.on[kindBusy] {
			m.cal[kindBusy].record(m.mt, ep.peak)
		}
		ep.peak, ep.scored = 0, false
	}
	// While a zone alerts for a class, the whole view's counts of it are
	// held with that alert too: they contain the same crowd.
	viewHold := map[int16]uint64{}
	for _, s := range slots {
		if ep := m.occEp[s]; s.zone >= 0 && ep.alertID != 0 && viewHold[s.class] == 0 {
			viewHold[s.class] = ep.alertID
		}
	}
	var normal learnable
	for _, r := range m.occBuf {
		id := viewHold[r.class]
		if ep := m.occEp[occSlot{r.zone, r.class}]; ep != nil && ep.alertID != 0 {
			id = ep.alertID
		} else if r.zone >= 0 {
			id = 0
		}
		if id == 0 || !m.holdOcc(id, r) {
			normal.occ = append(normal.occ, r)
		}
	}
	for _, s := range slots {
		if ep := m.occEp[s]; !ep.done {
			ep.alertID = 0
		}
	}
	m.learn(&normal)
	m.occBuf = m.occBuf[:0]
	m.occFrom = m.mt
}

// noteClass adds a class to the sorted list of classes seen.
func (m *Model) noteClass(c int16) {
	if i, ok := slices.BinarySearch(m.classes, c); !ok && len(m.classes) < maxClasses {
		m.classes = slices.Insert(m.classes, i, c)
	}
}

// maxClasses bounds the classes followed.
const maxClasses = 64
