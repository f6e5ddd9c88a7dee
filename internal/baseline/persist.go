package baseline

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Persistence format.
const (
	magic         = "VGBL"
	formatVersion = 1
)

// MarshalBinary saves what the model learned (see the package doc for the
// format). Open tracks are not saved: call Close first to keep them.
func (m *Model) MarshalBinary() ([]byte, error) {
	w := &wbuf{b: make([]byte, 0, 1<<16)}
	w.b = append(w.b, magic...)
	w.u16(formatVersion)
	m.writeSignature(w)
	m.writeClock(w)
	m.writeStats(w)
	m.writeOcc(w)
	m.writeCalib(w)
	m.writeFeedback(w)
	return w.b, nil
}

// UnmarshalBinary replaces what the model learned with a saved model's.
// The model must have been made by New with the same grid (calibration,
// cell size, homography, zones); a mismatch is an error naming it. Open
// tracks are forgotten; on error the model is left as it was.
func (m *Model) UnmarshalBinary(b []byte) error {
	if len(b) < len(magic)+2 || string(b[:len(magic)]) != magic {
		return errors.New("baseline: not a saved baseline model")
	}
	r := &rbuf{b: b[len(magic):]}
	if v := r.u16(); v != formatVersion {
		return fmt.Errorf("baseline: saved model has format version %d, this build reads %d", v, formatVersion)
	}
	if err := m.checkSignature(r); err != nil {
		return err
	}
	n := *m
	n.reset()
	saved := n.readClock(r)
	n.readStats(r)
	n.readOcc(r)
	n.readCalib(r)
	n.readFeedback(r)
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d trailing bytes", len(r.b))
	}
	if r.err != nil {
		return r.err
	}
	if saved != m.cfg.HalfLife {
		n.dec.halfLife = saved
		n.rebase()
		n.dec.halfLife = m.cfg.HalfLife
	}
	n.inf = n.dec.inflation(n.mt)
	*m = n
	return nil
}

// writeSignature writes what must match for counts to mean the same
// places: the grid and the zones.
func (m *Model) writeSignature(w *wbuf) {
	w.bool(m.calibrated)
	if m.calibrated {
		w.f64(m.cfg.CellMetres)
		h := m.sc.Homography.Normalized()
		for _, row := range h {
			w.f64s(row[:])
		}
	} else {
		w.f64(float64(m.cfg.CellPixels))
	}
	names := m.zoneNames()
	w.n(len(names))
	for _, s := range names {
		w.str(s)
	}
}

func (m *Model) zoneNames() []string {
	out := make([]string, m.zones())
	for i := range out {
		out[i] = m.sc.Zones[i].Name
	}
	return out
}

// checkSignature compares the saved grid with this model's.
func (m *Model) checkSignature(r *rbuf) error {
	cal, cell := r.bool(), r.f64()
	unit := map[bool]string{true: "m", false: "px"}
	var h [9]float64
	if cal {
		for i := range h {
			h[i] = r.f64()
		}
	}
	names := make([]string, r.n(4, maxZones, "zones"))
	for i := range names {
		names[i] = r.str(1 << 12)
	}
	if r.err != nil {
		return r.err
	}
	switch {
	case cal != m.calibrated:
		return fmt.Errorf("baseline: grid mismatch: saved model calibrated=%v, this scene calibrated=%v", cal, m.calibrated)
	case cal && cell != m.cfg.CellMetres, !cal && cell != float64(m.cfg.CellPixels):
		mine := float64(m.cfg.CellPixels)
		if cal {
			mine = m.cfg.CellMetres
		}
		return fmt.Errorf("baseline: grid mismatch: saved cells are %g %s, this model's %g %s", cell, unit[cal], mine, unit[cal])
	case cal && !sameHomography(h, m.sc.Homography.Normalized()):
		return errors.New("baseline: grid mismatch: the scene's homography differs from the saved model's")
	case !slices.Equal(names, m.zoneNames()):
		return fmt.Errorf("baseline: zone mismatch: saved zones %q, this scene's %q", names, m.zoneNames())
	}
	return nil
}

// sameHomography allows for the rounding of a re-fitted calibration.
func sameHomography(a [9]float64, b [3][3]float64) bool {
	for i, v := range a {
		if math.Abs(v-b[i/3][i%3]) > 1e-9 {
			return false
		}
	}
	return true
}

func (m *Model) writeClock(w *wbuf) {
	w.i64(int64(m.cfg.HalfLife))
	w.i64(int64(m.mt))
	w.i64(int64(m.dec.t0))
	w.i64(int64(m.occFrom))
	w.i64(int64(m.nextCal))
	w.u64(m.alertSeq)
	w.i64(m.alerts)
	w.i64(m.learned)
	w.n(len(m.classes))
	for _, c := range m.classes {
		w.i16(c)
	}
}

// readClock reads the clocks and returns the saved half-life.
func (m *Model) readClock(r *rbuf) time.Duration {
	hl := time.Duration(r.i64())
	m.mt = time.Duration(r.i64())
	m.dec.t0 = time.Duration(r.i64())
	m.occFrom = time.Duration(r.i64())
	m.nextCal = time.Duration(r.i64())
	m.alertSeq, m.alerts, m.learned = r.u64(), r.i64(), r.i64()
	m.classes = make([]int16, r.n(2, maxClasses, "classes"))
	for i := range m.classes {
		m.classes[i] = r.ranged(0, maxClass+1, "class")
	}
	switch {
	case r.err != nil:
	case hl <= 0:
		r.fail("half-life %v", hl)
	case m.mt < 0 || m.mt > maxModelTime || m.dec.t0 > m.mt || m.occFrom > m.mt || m.alerts < 0 || m.learned < 0:
		r.fail("clocks (model time %v, decay origin %v)", m.mt, m.dec.t0)
	case float64(m.mt-m.dec.t0)/float64(hl) > 2*rebaseAt:
		r.fail("decay origin %v too old", m.dec.t0)
	case !slices.IsSorted(m.classes) || len(slices.Compact(slices.Clone(m.classes))) != len(m.classes):
		r.fail("class list not sorted")
	}
	return hl
}

// maxModelTime keeps model time far from overflowing time.Duration.
const maxModelTime = 100 * 365 * 24 * time.Hour

// statsSize is the encoded size of one statistics entry.
const statsSize = 4 + 4 + 2 + 2 + 8*(4+dirBins+speedBins+sizeBins+dwellBins)

func (m *Model) writeStats(w *wbuf) {
	keys := sortedKeys(m.stats, func(a, b statKey) int {
		return cmp.Or(cmpCell(a.c, b.c), cmp.Compare(a.hour, b.hour), cmp.Compare(a.class, b.class))
	})
	w.n(len(keys))
	for _, k := range keys {
		writeCell(w, k.c)
		w.i16(k.hour)
		w.i16(k.class)
		writeClassStats(w, m.stats[k])
	}
	ck := sortedKeys(m.gstats, cmp.Compare[int16])
	w.n(len(ck))
	for _, c := range ck {
		w.i16(c)
		writeClassStats(w, m.gstats[c])
	}
	tk := sortedKeys(m.totals, func(a, b cellKey) int { return cmp.Or(cmpCell(a.c, b.c), cmp.Compare(a.hour, b.hour)) })
	w.n(len(tk))
	for _, k := range tk {
		writeCell(w, k.c)
		w.i16(k.hour)
		w.f64(m.totals[k])
	}
	gk := sortedKeys(m.global, func(a, b globalKey) int { return cmp.Or(cmp.Compare(a.hour, b.hour), cmp.Compare(a.class, b.class)) })
	w.n(len(gk))
	for _, k := range gk {
		w.i16(k.hour)
		w.i16(k.class)
		w.f64(m.global[k])
	}
}

func (m *Model) readStats(r *rbuf) {
	for range r.n(statsSize, maxEntries, "statistics") {
		k := statKey{readCell(r), r.hour(), r.ranged(0, maxClass+1, "class")}
		m.stats[k] = readClassStats(r)
	}
	for range r.n(statsSize, maxClasses, "class statistics") {
		c := r.ranged(0, maxClass+1, "class")
		m.gstats[c] = readClassStats(r)
	}
	for range r.n(18, 2*maxEntries, "cell totals") {
		k := cellKey{readCell(r), r.hour()}
		m.totals[k] = r.count()
	}
	for k := range m.totals {
		if k.hour == allHours {
			m.cells++
		}
	}
	for range r.n(12, 169*(maxClass+2), "class totals") {
		k := globalKey{r.hour(), r.ranged(-1, maxClass+1, "class")}
		m.global[k] = r.count()
	}
}

func writeClassStats(w *wbuf, s *classStats) {
	w.f64s([]float64{s.tracks, s.n, s.dirN, s.speedN})
	w.f64s(s.dir[:])
	w.f64s(s.speed[:])
	w.f64s(s.size[:])
	w.f64s(s.dwell[:])
}

func readClassStats(r *rbuf) *classStats {
	s := &classStats{tracks: r.count(), n: r.count(), dirN: r.count(), speedN: r.count()}
	r.counts(s.dir[:])
	r.counts(s.speed[:])
	r.counts(s.size[:])
	r.counts(s.dwell[:])
	return s
}

func (m *Model) writeOcc(w *wbuf) {
	keys := sortedKeys(m.occ, func(a, b occKey) int {
		return cmp.Or(cmp.Compare(a.zone, b.zone), cmp.Compare(a.class, b.class), cmp.Compare(a.hour, b.hour))
	})
	w.n(len(keys))
	for _, k := range keys {
		h := m.occ[k]
		w.i16(k.zone)
		w.i16(k.class)
		w.i16(k.hour)
		w.f64(h.n)
		w.f64s(h.bins[:])
	}
}

func (m *Model) readOcc(r *rbuf) {
	for range r.n(6+8*(1+occBins), maxOccEntries, "occupancy histograms") {
		k := occKey{r.ranged(-1, m.zones(), "zone"), r.ranged(0, maxClass+1, "class"), r.hour()}
		h := &occHist{n: r.count()}
		r.counts(h.bins[:])
		m.occ[k] = h
	}
}

func writeCell(w *wbuf, c cellXY) {
	w.i32(c.x)
	w.i32(c.y)
}

func readCell(r *rbuf) cellXY { return cellXY{r.i32(), r.i32()} }

func cmpCell(a, b cellXY) int { return cmp.Or(cmp.Compare(a.x, b.x), cmp.Compare(a.y, b.y)) }

// sortedKeys lists a map's keys in a fixed order, so that saved bytes do
// not depend on map iteration.
func sortedKeys[K comparable, V any](mp map[K]V, f func(a, b K) int) []K {
	keys := make([]K, 0, len(mp))
	for k := range mp {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, f)
	return keys
}
