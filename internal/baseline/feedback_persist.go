package baseline

import (
	"cmp"
	"slices"
	"time"

	"github.com/vigil-cctv/vigil/internal/geom"
)

func (m *Model) writeCalib(w *wbuf) {
	for k := range numKinds {
		c := &m.cal[k]
		w.i64(int64(c.from))
		w.f64(c.thr)
		w.n(len(c.score))
		for i, s := range c.score {
			w.i64(int64(c.at[i]))
			w.f64(s)
		}
	}
}

func (m *Model) readCalib(r *rbuf) {
	for k := range numKinds {
		c := &m.cal[k]
		c.from = time.Duration(r.i64())
		c.thr = r.count()
		n := r.n(16, maxScores, "scores")
		c.at, c.score = make([]time.Duration, n), make([]float64, n)
		for i := range n {
			c.at[i] = time.Duration(r.i64())
			c.score[i] = r.count()
		}
		if r.err == nil && (c.thr == 0 || c.thr > maxSurprise+1 || !slices.IsSorted(c.at)) {
			r.fail("calibration of %s", kindNames()[k])
		}
	}
}

func (m *Model) writeFeedback(w *wbuf) {
	keys := sortedKeys(m.mult, func(a, b multKey) int { return cmp.Or(cmp.Compare(a.zone, b.zone), cmp.Compare(a.kind, b.kind)) })
	w.n(len(keys))
	for _, k := range keys {
		w.i16(k.zone)
		w.i8(k.kind)
		w.f64(m.mult[k])
	}
	w.n(len(m.supp))
	for _, s := range m.supp {
		w.i8(s.kind)
		w.i16(s.class)
		w.i16(s.zone)
		w.f64s([]float64{s.img.X, s.img.Y, s.g.X, s.g.Y})
		w.bool(s.gOK)
		w.i64(s.until)
	}
	w.n(len(m.verdicts))
	for _, v := range m.verdicts {
		w.u64(v.id)
		w.bool(v.confirmed)
	}
	w.n(len(m.quar))
	for _, q := range m.quar {
		writeQuarantined(w, q)
	}
}

func (m *Model) readFeedback(r *rbuf) {
	for range r.n(11, int(numKinds)*(maxZones+1), "multipliers") {
		k := multKey{r.ranged(-1, m.zones(), "zone"), r.ranged8(0, numKinds, "kind")}
		f := r.f64()
		if r.err == nil && !(f >= multMin && f <= multMax) {
			r.fail("multiplier %v", f)
		}
		m.mult[k] = f
	}
	m.supp = make([]suppression, r.n(46, maxSuppressions, "suppressions"))
	for i := range m.supp {
		s := &m.supp[i]
		s.kind, s.class, s.zone = r.ranged8(0, numKinds, "kind"), r.ranged(-1, maxClass+1, "class"), r.ranged(-1, m.zones(), "zone")
		s.img, s.g = geom.Point{X: r.f64(), Y: r.f64()}, geom.Point{X: r.f64(), Y: r.f64()}
		s.gOK, s.until = r.bool(), r.i64()
	}
	m.verdicts = make([]verdict, r.n(9, maxVerdicts, "verdicts"))
	for i := range m.verdicts {
		m.verdicts[i] = verdict{r.u64(), r.bool()}
	}
	m.quar = make([]*quarantined, r.n(14, maxQuarantine, "quarantined units"))
	for i := range m.quar {
		m.quar[i] = m.readQuarantined(r)
	}
}

func writeQuarantined(w *wbuf, q *quarantined) {
	w.n(len(q.ids))
	for _, id := range q.ids {
		w.u64(id)
	}
	w.i16(q.rec.class)
	w.n(len(q.rec.samples))
	for _, s := range q.rec.samples {
		writeCell(w, s.c)
		w.i16(s.hour)
		w.i8(s.dir)
		w.i8(s.speed)
		w.i8(s.size)
	}
	w.n(len(q.rec.visits))
	for _, v := range q.rec.visits {
		writeCell(w, v.c)
		w.i16(v.hour)
		w.f32(v.dwell)
	}
	w.n(len(q.rec.occ))
	for _, o := range q.rec.occ {
		w.i16(o.zone)
		w.i16(o.class)
		w.i16(o.hour)
		w.i8(o.bin)
	}
}

func (m *Model) readQuarantined(r *rbuf) *quarantined {
	q := &quarantined{ids: make([]uint64, r.n(8, numKinds, "alert ids"))}
	for i := range q.ids {
		q.ids[i] = r.u64()
	}
	q.rec.class = r.ranged(0, maxClass+1, "class")
	q.rec.samples = make([]sampleRec, r.n(13, maxSamples, "samples"))
	for i := range q.rec.samples {
		q.rec.samples[i] = sampleRec{c: readCell(r), hour: r.hour(), dir: r.ranged8(-1, dirBins, "heading bin"),
			speed: r.ranged8(-1, speedBins, "speed bin"), size: r.ranged8(0, sizeBins, "size bin")}
	}
	q.rec.visits = make([]visitRec, r.n(14, maxVisits, "visits"))
	for i := range q.rec.visits {
		q.rec.visits[i] = visitRec{c: readCell(r), hour: r.hour(), dwell: r.f32()}
		if d := q.rec.visits[i].dwell; r.err == nil && !(d >= 0 && d < 1e9) {
			r.fail("dwell %v", d)
		}
	}
	q.rec.occ = make([]occRec, r.n(7, maxQuarOcc, "occupancy samples"))
	for i := range q.rec.occ {
		q.rec.occ[i] = occRec{zone: r.ranged(-1, m.zones(), "zone"), class: r.ranged(0, maxClass+1, "class"),
			hour: r.hour(), bin: r.ranged8(0, occBins, "count bin")}
	}
	return q
}
