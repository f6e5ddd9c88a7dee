package baseline

// sampleRec is one ~0.5 s sample of a track, binned, waiting to be learned.
type sampleRec struct {
	c     cellXY
	hour  int16
	dir   int8 // −1: not moving fast enough to have a heading
	speed int8 // −1: no speed yet (track younger than the speed window)
	size  int8
}

// visitRec is a track's total time in one cell.
type visitRec struct {
	c     cellXY
	hour  int16 // at the first sample in the cell
	dwell float32
}

// occRec is one occupancy sample of one class in one zone.
type occRec struct {
	zone, class, hour int16
	bin               int8
}

// learnable is everything one held-out unit (a track, or an alerting
// occupancy episode) would add to the counts.
type learnable struct {
	class   int16
	samples []sampleRec
	visits  []visitRec
	occ     []occRec
}

// classTotal finds or makes a class's whole-view statistics, the base
// measure of its ordinal histograms; nil past the class bound.
func (m *Model) classTotal(c int16) *classStats {
	if g := m.gstats[c]; g != nil {
		return g
	}
	if len(m.gstats) >= maxClasses {
		return nil
	}
	g := &classStats{}
	m.gstats[c] = g
	return g
}

// maxOccEntries bounds the occupancy histograms.
const maxOccEntries = 20000

// learn adds rec to the counts at the current model time.
func (m *Model) learn(rec *learnable) {
	w := m.inf
	g := m.classTotal(rec.class)
	for _, s := range rec.samples {
		if g != nil {
			learnSample(g, s, w)
		}
		hs, nh := buckets(s.hour)
		for _, h := range hs[:nh] {
			if e := m.entry(statKey{s.c, h, rec.class}); e != nil {
				learnSample(e, s, w)
			}
		}
	}
	for _, v := range rec.visits {
		b := logBin(float64(v.dwell), dwellLo, dwellRat, dwellBins)
		if g != nil {
			g.tracks += w
			g.dwell[b] += w
		}
		hs, nh := buckets(v.hour)
		for _, h := range hs[:nh] {
			if e := m.entry(statKey{v.c, h, rec.class}); e != nil {
				e.tracks += w
				e.dwell[b] += w
				m.addTotal(cellKey{v.c, h}, w)
			}
		}
	}
	if len(rec.visits) > 0 {
		hs, nh := buckets(rec.visits[0].hour)
		for _, h := range hs[:nh] {
			m.global[globalKey{h, rec.class}] += w
			m.global[globalKey{h, -1}] += w
		}
		m.learned++
	}
	for _, o := range rec.occ {
		hs, nh := buckets(o.hour)
		for _, h := range hs[:nh] {
			if e := m.occEntry(occKey{o.zone, o.class, h}); e != nil {
				e.n += w
				e.bins[o.bin] += w
			}
		}
	}
}

func learnSample(e *classStats, s sampleRec, w float64) {
	e.n += w
	e.size[s.size] += w
	if s.speed >= 0 {
		e.speedN += w
		e.speed[s.speed] += w
	}
	if s.dir >= 0 {
		e.dirN += w
		e.dir[s.dir] += w
	}
}

// buckets lists the hour buckets a value observed at hour h goes into: its
// own (when hours are on) and the all-hours aggregate. An array keeps the
// per-sample path free of allocation.
func buckets(h int16) ([2]int16, int) {
	if h == allHours {
		return [2]int16{allHours}, 1
	}
	return [2]int16{h, allHours}, 2
}

// occEntry finds or makes an occupancy histogram; nil past the bound.
func (m *Model) occEntry(k occKey) *occHist {
	if h := m.occ[k]; h != nil {
		return h
	}
	if len(m.occ) >= maxOccEntries {
		return nil
	}
	h := &occHist{}
	m.occ[k] = h
	return h
}

// rebase rescales every stored count so that the inflation restarts at 1;
// it runs once per rebaseAt half-lives.
func (m *Model) rebase() {
	f := 1 / m.dec.inflation(m.mt)
	for _, s := range m.stats {
		s.scale(f)
	}
	for _, s := range m.gstats {
		s.scale(f)
	}
	for k := range m.totals {
		m.totals[k] *= f
	}
	for k := range m.global {
		m.global[k] *= f
	}
	for _, h := range m.occ {
		h.n *= f
		mulArr(h.bins[:], f)
	}
	m.dec.t0 = m.mt
	m.inf = 1
}
