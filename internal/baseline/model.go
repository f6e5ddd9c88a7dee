package baseline

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/track"
)

// maxDelta bounds how much model time one frame may add, so that a stream
// gap or restart does not age the counts.
const maxDelta = 10 * time.Second

// Model learns one camera's normal traffic and flags what falls outside
// it. It is not safe for concurrent use.
type Model struct {
	cfg        Config
	sc         *scene.Scene
	calibrated bool
	on         [numKinds]bool
	nOn        int
	tab        *tables
	nClasses   float64 // kept classes: the class prior's support
	w, h       int

	mt      time.Duration // model time
	havePTS bool
	lastPTS time.Duration
	hour    int16 // this frame's hour-of-week bucket, or allHours
	dec     decay
	inf     float64 // dec.inflation(mt)

	stats   map[statKey]*classStats
	totals  map[cellKey]float64
	global  map[globalKey]float64
	gstats  map[int16]*classStats // per class, whole view, all hours
	occ     map[occKey]*occHist
	cells   int
	classes []int16 // classes seen, sorted
	learned int64   // tracks learned

	tracks map[int]*trackState
	order  []*trackState // open tracks by id

	occEp     map[occSlot]*occEpisode
	occBuf    []occRec
	occFrom   time.Duration // model time the occupancy window began
	lastOcc   time.Duration // PTS of the last occupancy sample
	occOn     bool          // an occupancy sample was taken in this stream
	occCounts []int

	cal      [numKinds]calib
	nextCal  time.Duration
	mult     map[multKey]float64
	supp     []suppression
	quar     []*quarantined
	verdicts []verdict
	alertSeq uint64
	alerts   int64

	pool classStats // scoring scratch
}

// New makes a model for one camera. sc may be nil: the grid is then the
// image grid and the frame size comes from the first Update.
func New(cfg Config, sc *scene.Scene) (*Model, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	on, _ := cfg.enabled()
	m := &Model{
		cfg: cfg, sc: sc, on: on, tab: newTables(),
		nClasses: float64(len(detect.KeptNames())),
		dec:      decay{halfLife: cfg.HalfLife},
		inf:      1,
		hour:     allHours,
	}
	for _, o := range on {
		if o {
			m.nOn++
		}
	}
	if sc != nil {
		m.calibrated = sc.Homography != nil
		m.w, m.h = sc.Image.Width, sc.Image.Height
	}
	m.reset()
	return m, nil
}

// reset empties everything learned, for New and UnmarshalBinary.
func (m *Model) reset() {
	m.stats = map[statKey]*classStats{}
	m.totals = map[cellKey]float64{}
	m.global = map[globalKey]float64{}
	m.gstats = map[int16]*classStats{}
	m.occ = map[occKey]*occHist{}
	m.tracks = map[int]*trackState{}
	m.occEp = map[occSlot]*occEpisode{}
	m.mult = map[multKey]float64{}
	m.cells, m.classes, m.learned, m.order = 0, nil, 0, nil
	m.mt, m.havePTS, m.occOn, m.occBuf, m.occFrom = 0, false, false, nil, 0
	m.dec.t0, m.inf = 0, 1
	for k := range m.cal {
		m.cal[k] = calib{from: m.calibStart(), thr: m.cfg.MinThreshold + 1}
	}
	m.nextCal = m.cfg.Warmup
	m.supp, m.quar, m.verdicts, m.alertSeq, m.alerts = nil, nil, nil, 0, 0
}

// Update feeds one frame's tracks. Frames come in increasing PTS;
// non-increasing ones are ignored. Tracks stay open until End. w, h is the frame size in pixels. It
// returns the anomaly alerts raised at this frame (Camera left empty: the
// caller sets it).
func (m *Model) Update(pts time.Duration, w, h int, tracks []track.Track) []event.Event {
	if m.havePTS && pts <= m.lastPTS {
		return nil
	}
	m.advance(pts)
	if w > 0 && h > 0 {
		m.w, m.h = w, h
	}
	var out []event.Event
	for i := range tracks {
		m.observe(pts, &tracks[i], &out)
	}
	if !m.occOn || pts-m.lastOcc >= occStep {
		m.occOn, m.lastOcc = true, pts
		m.sampleOccupancy(pts, &out)
	}
	if m.mt-m.occFrom >= occWindow {
		m.flushOccupancy()
	}
	if m.mt >= m.nextCal {
		m.recalibrate()
	}
	return out
}

// advance moves model time by the frame's PTS step, clamped to
// [0, maxDelta], and sets the frame's hour bucket.
func (m *Model) advance(pts time.Duration) {
	if m.havePTS {
		m.mt += min(max(pts-m.lastPTS, 0), maxDelta)
	}
	m.lastPTS, m.havePTS = pts, true
	if m.dec.due(m.mt) {
		m.rebase()
	}
	m.inf = m.dec.inflation(m.mt)
	m.hour = m.hourOf(pts)
}

// Hour is the hour-of-week bucket of the latest frame (Monday 00:00 is
// 0, in the epoch's location), or -1 without an epoch.
func (m *Model) Hour() int {
	if m.hour == allHours {
		return -1
	}
	return int(m.hour)
}

// hourOf is the hour-of-week bucket of a PTS (Monday 00:00 is 0, in the
// epoch's location), or allHours without an epoch.
func (m *Model) hourOf(pts time.Duration) int16 {
	if m.cfg.Epoch.IsZero() {
		return allHours
	}
	t := m.cfg.Epoch.Add(pts)
	return int16((int(t.Weekday())+6)%7*24 + t.Hour())
}

// observe records one track in this frame and samples it when due.
func (m *Model) observe(pts time.Duration, tr *track.Track, out *[]event.Event) {
	t := m.tracks[tr.ID]
	if t == nil {
		t = &trackState{id: tr.ID}
		m.tracks[tr.ID] = t
		i, _ := slices.BinarySearchFunc(m.order, tr.ID, func(s *trackState, id int) int { return s.id - id })
		m.order = slices.Insert(m.order, i, t)
	}
	if t.last == pts && len(t.hist) > 0 {
		return // the same id twice in one frame: keep the first
	}
	var g geom.Point
	gOK := false
	if m.calibrated {
		g, gOK = m.sc.Homography.Apply(tr.Box.Foot())
	}
	t.observe(pts, tr, g, gOK)
	if tr.Class >= 0 && tr.Class <= maxClass {
		m.noteClass(int16(tr.Class))
	}
	if !t.sampled || pts-t.lastSample >= sampleStep {
		m.sampleTrack(t, pts, out)
	}
}

// maxClass bounds the class ids followed (COCO has 80).
const maxClass = 1000

// End finishes the tracks ids, which the tracker reports ended (its one
// report, which every consumer follows): their held-out scores go to
// calibration and they are learned. Unknown ids are ignored.
func (m *Model) End(ids []int) {
	for _, id := range ids {
		t := m.tracks[id]
		if t == nil {
			continue
		}
		if i, ok := slices.BinarySearchFunc(m.order, id, func(s *trackState, id int) int { return s.id - id }); ok {
			m.order = slices.Delete(m.order, i, i+1)
		}
		m.finish(t)
	}
}

// finish ends a track: its held-out scores go to calibration, and it is
// learned, or quarantined if it raised alerts no verdict has settled.
func (m *Model) finish(t *trackState) {
	delete(m.tracks, t.id)
	m.recordTrack(t)
	rec := learnable{class: int16(t.class), samples: t.samples, visits: t.visits}
	if t.class < 0 || t.class > maxClass {
		return
	}
	if len(t.alerts) == 0 {
		m.learn(&rec)
		return
	}
	falseAlarm, confirmed := false, false
	for _, id := range t.alerts {
		if c, ok := m.verdictOf(id); ok {
			falseAlarm, confirmed = falseAlarm || !c, confirmed || c
		}
	}
	switch {
	case falseAlarm:
		m.learn(&rec)
	case !confirmed:
		m.quarantine(&quarantined{ids: slices.Clone(t.alerts), rec: rec})
	}
}

// Close ends the stream: it learns from the tracks still open (as if they
// ended), closes the occupancy window and forgets the stream's PTS, so the
// next Update may start a new stream at any PTS.
func (m *Model) Close(pts time.Duration) {
	if !m.havePTS || pts > m.lastPTS {
		m.advance(pts)
	}
	for _, t := range m.order {
		m.finish(t)
	}
	clear(m.order)
	m.order = m.order[:0]
	m.flushOccupancy()
	clear(m.occEp)
	m.havePTS, m.occOn = false, false
}

// State is a summary of what a model has learned and how it alerts.
type State struct {
	ModelTime     time.Duration `json:"model_time_ns"` // observed stream time, clamped across gaps
	Warm          bool          `json:"warm"`          // warm-up is over: alerts may be raised
	LearnedTracks int64         `json:"learned_tracks"`
	OpenTracks    int           `json:"open_tracks"`
	Quarantined   int           `json:"quarantined"` // units held out awaiting a verdict
	Cells         int           `json:"cells"`       // grid cells with statistics
	Alerts        int64         `json:"alerts"`
	// Thresholds are the calibrated thresholds of the enabled kinds, in
	// surprise units, before zone multipliers.
	Thresholds map[string]float64 `json:"thresholds"`
	// Multipliers are the (zone, kind) feedback multipliers that differ
	// from 1; Zone "" is outside every zone (or the whole view).
	Multipliers  map[ZoneKind]float64 `json:"multipliers"`
	Suppressions int                  `json:"suppressions"` // live suppressions
}

// ZoneKind names a (zone, kind) pair.
type ZoneKind struct{ Zone, Kind string }

// MarshalText writes "zone/kind", so that State encodes as JSON (a map
// with struct keys would not).
func (z ZoneKind) MarshalText() ([]byte, error) { return []byte(z.Zone + "/" + z.Kind), nil }

// UnmarshalText reads "zone/kind"; zone names may contain "/", kinds not.
func (z *ZoneKind) UnmarshalText(b []byte) error {
	i := bytes.LastIndexByte(b, '/')
	if i < 0 {
		return fmt.Errorf("baseline: %q is not zone/kind", b)
	}
	z.Zone, z.Kind = string(b[:i]), string(b[i+1:])
	return nil
}

// State summarises the model.
func (m *Model) State() State {
	s := State{
		ModelTime: m.mt, Warm: m.warm(), LearnedTracks: m.learned, OpenTracks: len(m.order),
		Quarantined: len(m.quar), Cells: m.cells, Alerts: m.alerts,
		Thresholds: map[string]float64{}, Multipliers: map[ZoneKind]float64{},
	}
	names := kindNames()
	for k := range numKinds {
		if m.on[k] {
			s.Thresholds[names[k]] = m.cal[k].thr
		}
	}
	for k, f := range m.mult {
		if f != 1 {
			s.Multipliers[ZoneKind{m.zoneName(int(k.zone)), names[k.kind]}] = f
		}
	}
	for _, x := range m.supp {
		if int64(m.mt) < x.until {
			s.Suppressions++
		}
	}
	return s
}

func (m *Model) zoneName(z int) string {
	if z < 0 || m.sc == nil || z >= len(m.sc.Zones) {
		return ""
	}
	return m.sc.Zones[z].Name
}
