package baseline

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/event"
)

// (a) An hour of the same normal traffic after warm-up raises no more
// alerts than the budget.
func TestNormalTrafficWithinBudget(t *testing.T) {
	m, _, b := trained(t)
	require.LessOrEqual(t, float64(len(b.normal)), m.cfg.BudgetPerHour, "alerts: %v", explanations(b.normal))
	s := m.State()
	require.True(t, s.Warm)
	require.Greater(t, s.LearnedTracks, int64(2000))
	for k, thr := range s.Thresholds {
		require.GreaterOrEqual(t, thr, m.cfg.MinThreshold, k)
	}
}

// (b) A walker at four times the usual speed raises a speed alert that
// states the speed.
func TestSpeedAnomaly(t *testing.T) {
	m, w, _ := trained(t)
	w.run(m, 10*time.Second)
	fast := w.walker(290, imgW+10, -4*walkMPS, 20*time.Second)
	evs := w.run(m, 30*time.Second)
	got := alertsFor(evs, KindSpeed, fast.id)
	require.Len(t, got, 1, "alerts: %v", explanations(evs))
	e := got[0]
	require.InDelta(t, 4*walkMPS, e.Values["speed_mps"], 0.5)
	require.Contains(t, e.Explanation, "person at 5.")
	require.Contains(t, e.Explanation, "m/s where person speeds here are under")
	require.Greater(t, e.Values["score"], e.Values["threshold"]-1e-9)
	checkAlert(t, m, e, fast.id, "person")
}

// (c) A car where only people were ever seen raises a class alert.
func TestClassAnomaly(t *testing.T) {
	m, w, _ := trained(t)
	w.run(m, 10*time.Second)
	car := w.add(&mover{class: detect.Car, x: -10, y: 370, vx: 5 * pxPerM, w: 90, h: 40, end: w.pts + 20*time.Second})
	evs := w.run(m, 30*time.Second)
	got := alertsFor(evs, KindClass, car.id)
	require.Len(t, got, 1, "alerts: %v", explanations(evs))
	require.Contains(t, got[0].Explanation, "% of the ")
	require.Contains(t, got[0].Explanation, "tracks seen here are person")
	require.Equal(t, 0.0, got[0].Values["share"])
	checkAlert(t, m, got[0], car.id, "car")
}

// (d) Walking against the lane's flow raises a direction alert.
func TestDirectionAnomaly(t *testing.T) {
	m, w, _ := trained(t)
	w.run(m, 10*time.Second)
	wrong := w.walker(290, -10, walkMPS, 30*time.Second)
	evs := w.run(m, 35*time.Second)
	got := alertsFor(evs, KindDirection, wrong.id)
	require.Len(t, got, 1, "alerts: %v", explanations(evs))
	require.InDelta(t, 90, got[0].Values["heading_deg"], 10)
	require.Contains(t, got[0].Explanation, "person heading east (")
	require.Contains(t, got[0].Explanation, "of people here head west")
	checkAlert(t, m, got[0], wrong.id, "person")
}

// (e) Forty extra people in the plaza raise an occupancy alert there.
func TestBusyAnomaly(t *testing.T) {
	m, w, _ := trained(t)
	w.run(m, 10*time.Second)
	burst(w)
	evs := w.run(m, 45*time.Second)
	got := alertsFor(evs, KindBusy, 0)
	require.NotEmpty(t, got, "alerts: %v", explanations(evs))
	e := got[0]
	require.Equal(t, "plaza", e.Zone)
	require.Equal(t, "person", e.Class)
	require.GreaterOrEqual(t, e.Values["count"], 35.0)
	require.Contains(t, e.Explanation, "person in zone 'plaza' where the 99th percentile usually is")
	require.Len(t, e.Tracks, int(e.Values["count"]))
	for _, o := range got[1:] {
		require.NotEqual(t, "", o.Zone, "the whole view repeats the zone's alert")
	}
}

// (f) Nothing alerts before warm-up, however odd the traffic.
func TestNoAlertsDuringWarmup(t *testing.T) {
	m, err := New(Config{}, testScene())
	require.NoError(t, err)
	w := newWorld(2)
	var evs []event.Event
	evs = append(evs, w.run(m, 16*time.Minute)...)
	for range 12 {
		w.walker(290, imgW+10, -5*walkMPS, 15*time.Second)
		w.walker(370, imgW+10, -walkMPS, 40*time.Second)
		w.add(&mover{class: detect.Car, x: -10, y: 370, vx: 5 * pxPerM, w: 90, h: 40, end: w.pts + 20*time.Second})
		w.parked(detect.Truck, 600, 300, 50*time.Second)
		evs = append(evs, w.run(m, time.Minute)...)
	}
	require.Empty(t, evs)
	s := m.State()
	require.False(t, s.Warm)
	require.Less(t, s.ModelTime, m.cfg.Warmup)
	// The silence was the warm-up, not blindness: late in warm-up the
	// odd tracks were scored, and scored as surprising.
	for _, k := range []int{kindClass, kindSpeed, kindDirection} {
		require.Greater(t, slices.Max(m.cal[k].score), m.cfg.MinThreshold, kindNames()[k])
	}
}

// With the MinThreshold floor out of the way, the calibrated thresholds
// alone keep normal traffic within the budget (the floor is what protects
// the first hours, when the model is still gaining confidence). The world is
// seeded, so the count is deterministic: 2 alerts in the 2 hours for seed 5
// against a budget of 4; seeds 1–12 gave 0–2. The assertion is the budget
// itself, with no multiplier.
func TestCalibrationMeetsBudget(t *testing.T) {
	m, err := New(Config{MinThreshold: 0.1}, testScene())
	require.NoError(t, err)
	w := newWorld(5)
	w.run(m, 30*time.Minute)
	evs := w.run(m, 2*time.Hour)
	require.LessOrEqual(t, float64(len(evs)), 2*m.cfg.BudgetPerHour, "alerts: %v", explanations(evs))
	above := 0
	for _, thr := range m.State().Thresholds {
		if thr > 1 {
			above++
		}
	}
	require.GreaterOrEqual(t, above, 2, "thresholds %v", m.State().Thresholds)
}

// Without calibration the image grid is used and speeds are in box
// heights per second.
func TestUncalibratedSpeedAnomaly(t *testing.T) {
	m, err := New(Config{Warmup: 10 * time.Minute}, nil)
	require.NoError(t, err)
	w := newWorld(4)
	w.run(m, 40*time.Minute)
	fast := w.walker(290, imgW+10, -4*walkMPS, 20*time.Second)
	evs := w.run(m, 25*time.Second)
	got := alertsFor(evs, KindSpeed, fast.id)
	require.Len(t, got, 1, "alerts: %v", explanations(evs))
	require.Contains(t, got[0].Explanation, "box heights/s")
	require.InDelta(t, 4*walkMPS*pxPerM/60, got[0].Values["speed_hps"], 0.2)
	require.Nil(t, got[0].Path[0].Ground)
}

// Hour-of-week buckets follow the epoch's calendar, Monday first.
func TestHourOfWeek(t *testing.T) {
	epoch := time.Date(2024, 3, 4, 0, 30, 0, 0, time.UTC) // a Monday
	m, err := New(Config{Epoch: epoch, Warmup: time.Minute}, testScene())
	require.NoError(t, err)
	require.Equal(t, int16(0), m.hourOf(0))
	require.Equal(t, int16(25), m.hourOf(25*time.Hour))
	require.Equal(t, int16(167), m.hourOf(7*24*time.Hour-31*time.Minute))
	w := newWorld(6)
	w.run(m, 3*time.Minute)
	m.Close(w.pts)
	hours := map[int16]bool{}
	for k := range m.stats {
		hours[k.hour] = true
	}
	require.Equal(t, map[int16]bool{0: true, allHours: true}, hours)
}

// checkAlert checks what every track alert carries.
func checkAlert(t *testing.T, m *Model, e event.Event, id int, class string) {
	t.Helper()
	require.Equal(t, Rule, e.Rule)
	require.Equal(t, []int{id}, e.Tracks)
	require.Equal(t, class, e.Class)
	require.Equal(t, "", e.Camera)
	require.Equal(t, event.Medium, e.Severity)
	require.Less(t, e.Start, e.End)
	require.GreaterOrEqual(t, e.End-e.Start, 0.99, "persistence of at least a second")
	require.NotEmpty(t, e.Path)
	require.NotNil(t, e.Path[len(e.Path)-1].Ground)
	for _, k := range []string{"score", "threshold", "p", "alert_id"} {
		require.Contains(t, e.Values, k)
	}
	require.InDelta(t, e.End, e.Path[len(e.Path)-1].PTS, 1e-9)
	if z := m.zoneAt(pointOf(e.Path[len(e.Path)-1])); z >= 0 {
		require.Equal(t, m.sc.Zones[z].Name, e.Zone)
	}
}

func explanations(evs []event.Event) string {
	var b strings.Builder
	for _, e := range evs {
		b.WriteString("\n" + e.Name + ": " + e.Explanation)
	}
	return b.String()
}

// burst adds forty slow walkers in the plaza for 40 s.
func burst(w *world) {
	for i := range 40 {
		lane, v := northLo+float64(i%4)*15, -0.5*walkMPS
		if i%2 == 1 {
			lane, v = southLo+float64(i%4)*15, 0.5*walkMPS
		}
		w.walker(lane, 560+float64(i)*4, v, 40*time.Second)
	}
}
