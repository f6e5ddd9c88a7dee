package baseline

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/event"
)

// trackAlert builds the alert for kind k on track t and registers it.
func (m *Model) trackAlert(t *trackState, k int, f *feat, v *view, score, thr float64, pts time.Duration) event.Event {
	since := t.kinds[k].since
	ev := m.newAlert(k, m.sampleZone(f), since, pts)
	ev.Tracks = []int{t.id}
	ev.Class = t.class.String()
	ev.Path = t.eventPath(since - time.Second)
	ev.Values["score"], ev.Values["threshold"] = score, thr
	_, st := m.prob(k, v, f, int16(t.class))
	// p is the probability at the persistent surprise level, so that the
	// numbers quoted agree with each other.
	p := math.Pow(10, -score)
	ev.Values["p"] = p
	ev.Explanation = m.explainTrack(k, f, v, st, t.class, ev.Values) +
		fmt.Sprintf(" (p=%.2g, surprise %.1f ≥ threshold %.1f)", p, score, thr)
	t.alerts = append(t.alerts, m.alertSeq)
	return ev
}

// newAlert starts an alert of kind k with a fresh id.
func (m *Model) newAlert(k, zone int, start, end time.Duration) event.Event {
	m.alertSeq++
	m.alerts++
	ev := event.Event{
		Rule:     Rule,
		Name:     kindNames()[k],
		Start:    event.Seconds(start),
		End:      event.Seconds(end),
		Severity: m.cfg.Severity,
		Values:   map[string]float64{"alert_id": float64(m.alertSeq)},
	}
	if zone >= 0 {
		ev.Zone = m.sc.Zones[zone].Name
	}
	return ev
}

// explainTrack words a track alert and records the measured quantity.
func (m *Model) explainTrack(k int, f *feat, v *view, st *classStats, c detect.Class, vals map[string]float64) string {
	name := c.String()
	switch k {
	case kindClass:
		return m.explainClass(f, v, c, vals)
	case kindDirection:
		vals["heading_deg"] = f.heading
		dom, share := dominantHeading(st)
		return fmt.Sprintf("%s heading %s (%.0f°) where %.0f%% of %s here head %s",
			name, compass(f.heading), f.heading, 100*share, plural(name), compass(float64(dom)*360/dirBins))
	case kindSpeed:
		q := binUpper(quantileBin(st.speed[:], 0.99), speedLo, speedRat, speedBins)
		unit := "m/s"
		if m.calibrated {
			vals["speed_mps"] = f.v
		} else {
			vals["speed_hps"] = f.v
			unit = "box heights/s"
		}
		return fmt.Sprintf("%s at %.1f %s where %s speeds here are under %.1f %s 99%% of the time",
			name, f.v, unit, name, q, unit)
	case kindSize:
		vals["height_px"] = f.height
		lo := binLower(quantileBin(st.size[:], 0.01), sizeLo, sizeRat)
		hi := binUpper(quantileBin(st.size[:], 0.99), sizeLo, sizeRat, sizeBins)
		return fmt.Sprintf("%s box %.0f px tall where %s boxes here are %.0f–%.0f px tall 98%% of the time",
			name, f.height, name, lo, hi)
	}
	vals["dwell_s"] = f.dwell
	q := binUpper(quantileBin(st.dwell[:], 0.99), dwellLo, dwellRat, dwellBins)
	return fmt.Sprintf("%s has stayed %.0f s here where 99%% of %s leave within %.0f s",
		name, f.dwell, plural(name), q)
}

// explainClass compares the class with the place's most common one.
func (m *Model) explainClass(f *feat, v *view, c detect.Class, vals map[string]float64) string {
	r := m.classMix(v, f, int16(c))
	share := 0.0
	if r.total > 0 {
		share = r.count / r.total
	}
	vals["share"] = share
	vals["tracks"] = r.total / m.inf
	dom, domN := m.dominantClass(f, r.level)
	domShare := 0.0
	if r.total > 0 {
		domShare = domN / r.total
	}
	return fmt.Sprintf("%s where %.1f%% of the %.0f tracks seen here are %s and %.1f%% are %s",
		c, 100*domShare, r.total/m.inf, dom, 100*share, c)
}

// dominantClass is the most common class at the sample's place at the
// given evidence level, with its track count.
func (m *Model) dominantClass(f *feat, level int) (detect.Class, float64) {
	best, bestN := detect.Class(-1), -1.0
	for _, cls := range m.classes {
		n := 0.0
		switch level {
		case 0:
			if s := m.stats[statKey{f.c, f.hour, cls}]; s != nil {
				n = s.tracks
			}
		case 1:
			if s := m.stats[statKey{f.c, allHours, cls}]; s != nil {
				n = s.tracks
			}
		default:
			n = m.neighbourTracks(f.c, cls)
		}
		if n > bestN {
			best, bestN = detect.Class(cls), n
		}
	}
	return best, max(bestN, 0)
}

// neighbourTracks counts a class's tracks over the 3×3 neighbourhood
// without touching the scoring scratch.
func (m *Model) neighbourTracks(c cellXY, cls int16) float64 {
	n := 0.0
	for dy := int32(-1); dy <= 1; dy++ {
		for dx := int32(-1); dx <= 1; dx++ {
			if s := m.stats[statKey{cellXY{c.x + dx, c.y + dy}, allHours, cls}]; s != nil {
				n += s.tracks
			}
		}
	}
	return n
}

// dominantHeading is the most common heading bin, with the share of
// headings within one bin of it.
func dominantHeading(st *classStats) (int, float64) {
	best := 0
	for i, v := range st.dir {
		if v > st.dir[best] {
			best = i
		}
	}
	near := st.dir[best] + st.dir[(best+1)%dirBins] + st.dir[(best+dirBins-1)%dirBins]
	if st.dirN <= 0 {
		return best, 0
	}
	return best, near / st.dirN
}

// compass names a bearing with the 8-point rose.
func compass(deg float64) string {
	names := [8]string{"north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west"}
	i := int(math.Floor(math.Mod(deg+22.5+360, 360) / 45))
	return names[i%8]
}

// plural is good enough for the class names Vigil keeps.
func plural(name string) string {
	switch {
	case name == "person":
		return "people"
	case strings.HasSuffix(name, "s"):
		return name + "es"
	}
	return name + "s"
}
