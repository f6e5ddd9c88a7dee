package baseline

import (
	"math"
	"time"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/geom"
)

// feat is one sample's binned features and the measured values that the
// explanations quote.
type feat struct {
	c                  cellXY
	hour               int16
	img, g             geom.Point
	gOK                bool
	dir, speed, size   int // bins; −1 when not measured
	heading, v, height float64
	dwell              float64 // s in this cell so far
	zone               int     // first scene zone containing img, −1 none; −2 not yet looked up
}

// view is the statistics one sample is scored against, fetched once.
type view struct {
	hour, all *classStats // nil when never learned
	pooled    bool        // m.pool holds the 3×3 all-hours sum
	poolTotal float64     // all-class tracks in the 3×3 neighbourhood
}

// sampleTrack takes one feature sample of t: it bins the features, keeps
// them for learning and, once calibration has started, scores them.
func (m *Model) sampleTrack(t *trackState, pts time.Duration, out *[]event.Event) {
	var dt time.Duration
	if t.sampled {
		dt = min(pts-t.lastSample, maxDwellStep)
	}
	t.lastSample, t.sampled = pts, true
	s := t.cur()
	c, ok := m.cellOf(s.Img, s.G, s.GOK)
	if !ok || t.class < 0 || t.class > maxClass {
		return
	}
	f := m.features(t, c)
	if v := t.visit(c, m.hour); v != nil {
		v.dwell += float32(dt.Seconds())
		f.dwell = float64(v.dwell)
	}
	if len(t.samples) < maxSamples {
		t.samples = append(t.samples, sampleRec{c: c, hour: m.hour, dir: int8(f.dir), speed: int8(f.speed), size: int8(f.size)})
	}
	if m.mt < m.calibStart() {
		return
	}
	m.scoreTrack(t, &f, pts, out)
}

// features measures and bins what a sample says.
func (m *Model) features(t *trackState, c cellXY) feat {
	s := t.cur()
	f := feat{c: c, hour: m.hour, img: s.Img, g: s.G, gOK: s.GOK, dir: -1, speed: -1, zone: -2}
	f.height = t.box.H
	f.size = logBin(t.box.H, sizeLo, sizeRat, sizeBins)
	v, ok := t.velocity(m.calibrated)
	if !ok {
		return f
	}
	sp, moving := v.Norm(), minMovingM
	if !m.calibrated {
		if !(t.box.H > 0) {
			return f
		}
		sp, moving = sp/t.box.H, minMovingH
	}
	if math.IsNaN(sp) || math.IsInf(sp, 0) {
		return f
	}
	f.v, f.speed = sp, logBin(sp, speedLo, speedRat, speedBins)
	if sp >= moving {
		f.heading = bearing(v, m.calibrated)
		f.dir = dirBin(f.heading)
	}
	return f
}

// scoreTrack scores one sample for every enabled track kind, follows each
// kind's persistence and raises the alerts that are due.
func (m *Model) scoreTrack(t *trackState, f *feat, pts time.Duration, out *[]event.Event) {
	t.scored = true
	cls := int16(t.class)
	var v view
	m.fetch(&v, f.c, f.hour, cls)
	for k := range kindBusy {
		if !m.on[k] {
			continue
		}
		p, _ := m.prob(k, &v, f, cls)
		s := surprise(p)
		kt := &t.kinds[k]
		sustained := kt.push(s)
		thr := m.threshold(k, m.multZone(f))
		switch {
		case s < thr:
			kt.above = false
		case !kt.above:
			kt.above, kt.since = true, pts
		}
		if sustained < thr || kt.done || !m.warm() {
			continue
		}
		kt.done = true
		if m.suppressed(k, cls, m.sampleZone(f), f.img, f.g, f.gOK) {
			continue
		}
		*out = append(*out, m.trackAlert(t, k, f, &v, sustained, thr, pts))
	}
}

// multZone is the zone whose multiplier applies to the sample; the
// polygon tests are skipped while no verdict has set any multiplier.
func (m *Model) multZone(f *feat) int {
	if len(m.mult) == 0 {
		return -1
	}
	return m.sampleZone(f)
}

// sampleZone looks the sample's zone up, once.
func (m *Model) sampleZone(f *feat) int {
	if f.zone == -2 {
		f.zone = m.zoneAt(f.img)
	}
	return f.zone
}

// zoneAt is the index of the first scene zone containing p, −1 if none.
func (m *Model) zoneAt(p geom.Point) int {
	if m.sc == nil {
		return -1
	}
	for i, z := range m.sc.Zones {
		if z.Contains(p) {
			return i
		}
	}
	return -1
}

// fetch looks up the sample's cell statistics at its hour and overall.
func (m *Model) fetch(v *view, c cellXY, hour, cls int16) {
	if hour != allHours {
		v.hour = m.stats[statKey{c, hour, cls}]
	}
	v.all = m.stats[statKey{c, allHours, cls}]
}

// pool sums the all-hours statistics of the 3×3 neighbourhood into m.pool,
// once per sample.
func (m *Model) pooledStats(v *view, c cellXY, cls int16) *classStats {
	if v.pooled {
		return &m.pool
	}
	m.pool = classStats{}
	v.poolTotal = 0
	for dy := int32(-1); dy <= 1; dy++ {
		for dx := int32(-1); dx <= 1; dx++ {
			n := cellXY{c.x + dx, c.y + dy}
			if s := m.stats[statKey{n, allHours, cls}]; s != nil {
				m.pool.add(s)
			}
			v.poolTotal += m.totals[cellKey{n, allHours}]
		}
	}
	v.pooled = true
	return &m.pool
}

// pick backs off from the hour bucket to the all-hours aggregate to the
// 3×3 neighbourhood until kind k has minEvidence; nil when nothing has.
func (m *Model) pick(k int, v *view, c cellXY, cls int16) *classStats {
	need := minEvidence * m.inf
	if v.hour != nil && evidence(k, v.hour) >= need {
		return v.hour
	}
	if v.all != nil && evidence(k, v.all) >= need {
		return v.all
	}
	if p := m.pooledStats(v, c, cls); evidence(k, p) >= need {
		return p
	}
	return nil
}

// evidence is the effective sample count behind kind k's histogram.
func evidence(k int, s *classStats) float64 {
	switch k {
	case kindDirection:
		return s.dirN
	case kindSpeed:
		return s.speedN
	case kindDwell:
		return s.tracks
	}
	return s.n
}

// prob is the smoothed probability of the sample under kind k, 1 when the
// feature is unmeasured or the evidence too thin, with the statistics used.
func (m *Model) prob(k int, v *view, f *feat, cls int16) (float64, *classStats) {
	if k == kindClass {
		return m.classMix(v, f, cls).p, nil
	}
	if (k == kindDirection && f.dir < 0) || (k == kindSpeed && f.speed < 0) || (k == kindDwell && f.dwell <= 0) {
		return 1, nil
	}
	st := m.pick(k, v, f.c, cls)
	if st == nil {
		return 1, nil
	}
	a := alpha * m.inf
	g := m.gstats[cls]
	switch k {
	case kindDirection:
		return m.tab.dirProb(&st.dir, st.dirN, f.dir, a), st
	case kindSpeed:
		return m.tab.ord.upperTail(st.speed[:], st.speedN, f.speed, a, m.prior(g, kindSpeed, f.speed)), st
	case kindSize:
		return m.tab.ord.twoSided(st.size[:], st.n, f.size, a, m.prior(g, kindSize, f.size), m.prior(g, kindSize, f.size+1)), st
	}
	b := logBin(f.dwell, dwellLo, dwellRat, dwellBins)
	return m.tab.ord.upperTail(st.dwell[:], st.tracks, b, a, m.prior(g, kindDwell, b)), st
}

// prior is the base measure of an ordinal kind at a place: the class's
// whole-view histogram, itself smoothed towards uniform, as P(bin ≥ b).
// A speed nobody of the class ever reached anywhere is then far rarer
// than the place's own thin evidence alone could say.
func (m *Model) prior(g *classStats, k, b int) float64 {
	if g == nil {
		return uniformTail(b, binsOf(k))
	}
	c, n := g.dwell[:], g.tracks
	switch k {
	case kindSpeed:
		c, n = g.speed[:], g.speedN
	case kindSize:
		c, n = g.size[:], g.n
	}
	return m.tab.ord.upperTail(c, n, b, alpha*m.inf, uniformTail(b, len(c)))
}

// binsOf is the bin count of an ordinal kind's histogram.
func binsOf(k int) int {
	switch k {
	case kindSpeed:
		return speedBins
	case kindSize:
		return sizeBins
	}
	return dwellBins
}

// mix is the class feature's evidence at the level scoring used.
type mix struct {
	p            float64 // smoothed P(class | place)
	count, total float64 // tracks of the class, of all classes (stored units)
	level        int     // 0 hour, 1 all hours, 2 neighbourhood, −1 none
}

// classMix is P(class | place): the class's share of the tracks through
// the place, smoothed towards the whole view's class mix so that a class
// never seen anywhere is rarer than one common elsewhere.
func (m *Model) classMix(v *view, f *feat, cls int16) mix {
	need := minEvidence * m.inf
	r := mix{p: 1, level: -1}
	switch {
	case f.hour != allHours && m.totals[cellKey{f.c, f.hour}] >= need:
		r.total, r.level = m.totals[cellKey{f.c, f.hour}], 0
		if v.hour != nil {
			r.count = v.hour.tracks
		}
	case m.totals[cellKey{f.c, allHours}] >= need:
		r.total, r.level = m.totals[cellKey{f.c, allHours}], 1
		if v.all != nil {
			r.count = v.all.tracks
		}
	default:
		p := m.pooledStats(v, f.c, cls)
		if v.poolTotal < need {
			return r
		}
		r.count, r.total, r.level = p.tracks, v.poolTotal, 2
	}
	gh := allHours
	if r.level == 0 {
		gh = f.hour
	}
	g := (m.global[globalKey{gh, cls}] + m.inf/m.nClasses) / (m.global[globalKey{gh, -1}] + m.inf)
	r.p = min(1, (r.count+m.inf*g)/(r.total+m.inf))
	return r
}
