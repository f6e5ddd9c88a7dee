package baseline

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/geom"
)

// Feedback bounds.
const (
	maxQuarantine   = 256  // held-out units awaiting a verdict
	maxQuarOcc      = 7200 // occupancy samples held per alert (an hour of one slot)
	maxSuppressions = 1024
	maxVerdicts     = 1024
	suppressRadius  = 1.5 // cells
)

// quarantined is a unit that raised alerts, kept out of the counts until
// an operator says whether the alerts were right.
type quarantined struct {
	ids []uint64
	rec learnable
}

// suppression keeps one false-alarmed situation from alerting again.
type suppression struct {
	kind  int8
	class int16
	zone  int16 // occupancy: the zone (−1 whole view); track kinds: unused
	img   geom.Point
	g     geom.Point
	gOK   bool
	until int64 // model time, ns
}

// multKey addresses a (zone, kind) threshold multiplier.
type multKey struct {
	zone int16
	kind int8
}

// verdict remembers an operator's answer on one alert.
type verdict struct {
	id        uint64
	confirmed bool
}

// Feedback applies an operator verdict on an alert this model (or a
// previous incarnation loaded from persistence) raised. See the package
// documentation for what each verdict changes. It returns false if ev is
// not an anomaly alert of this model. A repeated verdict changes nothing.
func (m *Model) Feedback(ev event.Event, confirmed bool) bool {
	id, k, ok := m.alertOf(ev)
	if !ok {
		return false
	}
	prev, seen := m.verdictOf(id)
	if seen && prev == confirmed {
		return true
	}
	m.setVerdict(id, confirmed)
	zone := m.zoneIndex(ev.Zone)
	cls := classByName(ev.Class)
	key := multKey{int16(zone), int8(k)}
	f, ok := m.mult[key]
	if !ok {
		f = 1
	}
	s := m.suppressionFor(ev, k, cls, zone)
	if confirmed {
		m.mult[key] = max(multMin, f*multDown)
		m.unsuppress(s)
		m.resolve(id, false)
		return true
	}
	m.mult[key] = min(multMax, f*multUp)
	if s != nil {
		m.addSuppression(*s)
	}
	m.resolve(id, true)
	return true
}

// alertOf checks that ev is one of this model's alerts and returns its id
// and kind.
func (m *Model) alertOf(ev event.Event) (uint64, int, bool) {
	if ev.Rule != Rule {
		return 0, 0, false
	}
	k, ok := kindIndex(ev.Name)
	if !ok {
		return 0, 0, false
	}
	if m.sc != nil && m.sc.Camera != "" && ev.Camera != "" && ev.Camera != m.sc.Camera {
		return 0, 0, false
	}
	f, ok := ev.Values["alert_id"]
	if !ok || f < 1 || f != math.Trunc(f) || f > float64(m.alertSeq) {
		return 0, 0, false
	}
	return uint64(f), k, true
}

// resolve applies a verdict to the unit that raised alert id: a false
// alarm is learned, a confirmed one forgotten. A track still open carries
// the verdict to its end.
func (m *Model) resolve(id uint64, learn bool) {
	for i, q := range m.quar {
		if slices.Contains(q.ids, id) {
			m.quar = slices.Delete(m.quar, i, i+1)
			if learn {
				m.learn(&q.rec)
			}
			return
		}
	}
}

// quarantine holds a unit, forgetting the oldest beyond the bound.
func (m *Model) quarantine(q *quarantined) {
	if len(m.quar) >= maxQuarantine {
		m.quar = slices.Delete(m.quar, 0, len(m.quar)-maxQuarantine+1)
	}
	m.quar = append(m.quar, q)
}

// holdOcc routes an occupancy sample of a slot with an open alert: it is
// held with the alert (true), dropped after a confirmation (true), or left
// to be learned after a false alarm (false).
func (m *Model) holdOcc(id uint64, r occRec) bool {
	if confirmed, ok := m.verdictOf(id); ok {
		return confirmed
	}
	for _, q := range m.quar {
		if slices.Contains(q.ids, id) {
			if len(q.rec.occ) < maxQuarOcc {
				q.rec.occ = append(q.rec.occ, r)
			}
			return true
		}
	}
	return true
}

func (m *Model) verdictOf(id uint64) (bool, bool) {
	for _, v := range m.verdicts {
		if v.id == id {
			return v.confirmed, true
		}
	}
	return false, false
}

func (m *Model) setVerdict(id uint64, confirmed bool) {
	for i := range m.verdicts {
		if m.verdicts[i].id == id {
			m.verdicts[i].confirmed = confirmed
			return
		}
	}
	if len(m.verdicts) >= maxVerdicts {
		m.verdicts = slices.Delete(m.verdicts, 0, 1)
	}
	m.verdicts = append(m.verdicts, verdict{id, confirmed})
}

// suppressionFor describes the situation of ev: its kind and class at its
// last path point, or in its zone for occupancy; nil when a track alert
// carries no path.
func (m *Model) suppressionFor(ev event.Event, k int, cls detect.Class, zone int) *suppression {
	s := &suppression{kind: int8(k), class: int16(cls), zone: int16(zone), until: int64(m.mt + m.cfg.SuppressFor)}
	if k == kindBusy {
		return s
	}
	if len(ev.Path) == 0 {
		return nil
	}
	p := ev.Path[len(ev.Path)-1]
	s.img = geom.Point{X: p.Image[0], Y: p.Image[1]}
	if p.Ground != nil {
		s.g, s.gOK = geom.Point{X: p.Ground[0], Y: p.Ground[1]}, true
	}
	return s
}

func (m *Model) addSuppression(s suppression) {
	if len(m.supp) >= maxSuppressions {
		m.supp = slices.Delete(m.supp, 0, 1)
	}
	m.supp = append(m.supp, s)
}

// unsuppress removes the suppressions matching s, so that a confirmed
// situation keeps alerting.
func (m *Model) unsuppress(s *suppression) {
	if s == nil {
		return
	}
	m.supp = slices.DeleteFunc(m.supp, func(o suppression) bool {
		return m.matches(&o, int(s.kind), s.class, s.zone, s.img, s.g, s.gOK)
	})
}

// suppressed reports whether a live suppression covers a track alert of
// kind k and class cls at this place.
func (m *Model) suppressed(k int, cls int16, zone int, img, g geom.Point, gOK bool) bool {
	for i := range m.supp {
		if int64(m.mt) < m.supp[i].until && m.matches(&m.supp[i], k, cls, int16(zone), img, g, gOK) {
			return true
		}
	}
	return false
}

// suppressedOcc is suppressed for an occupancy slot.
func (m *Model) suppressedOcc(s occSlot) bool {
	return m.suppressed(kindBusy, s.class, int(s.zone), geom.Point{}, geom.Point{}, false)
}

// matches is the "same situation" test: same kind and class, and the same
// zone (occupancy) or within suppressRadius cells of the place.
func (m *Model) matches(s *suppression, k int, cls, zone int16, img, g geom.Point, gOK bool) bool {
	if int(s.kind) != k || s.class != cls {
		return false
	}
	if k == kindBusy {
		return s.zone == zone
	}
	if m.calibrated && s.gOK && gOK {
		return s.g.Dist(g) <= suppressRadius*m.cfg.CellMetres
	}
	return s.img.Dist(img) <= suppressRadius*float64(m.cfg.CellPixels)
}

func (m *Model) pruneSuppressions() {
	m.supp = slices.DeleteFunc(m.supp, func(s suppression) bool { return int64(m.mt) >= s.until })
}

// zoneIndex finds a scene zone by name, −1 if none.
func (m *Model) zoneIndex(name string) int {
	if m.sc == nil || name == "" {
		return -1
	}
	for i, z := range m.sc.Zones[:m.zones()] {
		if z.Name == name {
			return i
		}
	}
	return -1
}

// classByName reads a class as detect.Class.String writes it.
func classByName(name string) detect.Class {
	if c, ok := detect.ClassByName(name); ok {
		return c
	}
	if n, err := strconv.Atoi(strings.TrimPrefix(name, "class")); err == nil && n >= 0 && n <= math.MaxInt16 {
		return detect.Class(n)
	}
	return -1
}

func classOf(c int16) detect.Class { return detect.Class(c) }
