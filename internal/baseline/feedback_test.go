package baseline

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/event"
)

// The parking spot used by the feedback tests: on the westbound lane,
// inside the plaza, where only people were ever seen.
const spotX, spotY = 640.0, 280.0

// parkCar parks a car at the spot for a minute and lets it leave; it
// returns the car and the alerts of that time.
func parkCar(m *Model, w *world, dx float64) (*mover, []event.Event) {
	car := w.parked(detect.Car, spotX+dx, spotY, time.Minute)
	return car, w.run(m, time.Minute+5*time.Second)
}

// A false alarm makes the situation normal: the parked car is learned,
// the (zone, kind) threshold rises a step, and a new car with a new id at
// the same spot does not alert again, while a car elsewhere still does.
func TestFeedbackFalseAlarmSuppressesSameSituation(t *testing.T) {
	m, w, _ := trained(t)
	car, evs := parkCar(m, w, 0)
	got := alertsFor(evs, KindClass, car.id)
	require.Len(t, got, 1, "alerts: %v", explanations(evs))
	require.Equal(t, "plaza", got[0].Zone)
	before := m.State()
	require.GreaterOrEqual(t, before.Quarantined, 1)

	require.True(t, m.Feedback(got[0], false))
	after := m.State()
	require.Equal(t, before.Quarantined-1, after.Quarantined)
	require.Equal(t, before.LearnedTracks+1, after.LearnedTracks, "the car is learned")
	require.InDelta(t, multUp, after.Multipliers[ZoneKind{"plaza", KindClass}], 1e-12)
	require.Equal(t, 1, after.Suppressions)
	js, err := json.Marshal(after)
	require.NoError(t, err)
	var back State
	require.NoError(t, json.Unmarshal(js, &back))
	require.Equal(t, after, back, "State round-trips through JSON: %s", js)
	// A repeated verdict changes nothing.
	require.True(t, m.Feedback(got[0], false))
	require.Equal(t, after, m.State())

	again, evs := parkCar(m, w, 15) // 0.75 m off, new id
	require.Empty(t, alertsFor(evs, "", again.id), "alerts: %v", explanations(evs))

	far := w.parked(detect.Car, 200, 380, 20*time.Second) // the eastbound lane, outside the plaza
	evs = w.run(m, 25*time.Second)
	require.Len(t, alertsFor(evs, KindClass, far.id), 1, "alerts: %v", explanations(evs))
}

// A confirmed alert keeps alerting: the car is not learned, the threshold
// falls a little and a repeat at the same spot alerts again, at the lower
// threshold.
func TestFeedbackConfirmedKeepsAlerting(t *testing.T) {
	m, w, _ := trained(t)
	car, evs := parkCar(m, w, 0)
	got := alertsFor(evs, KindClass, car.id)
	require.Len(t, got, 1, "alerts: %v", explanations(evs))
	before := m.State()

	require.True(t, m.Feedback(got[0], true))
	after := m.State()
	require.Equal(t, before.Quarantined-1, after.Quarantined)
	require.Equal(t, before.LearnedTracks, after.LearnedTracks, "the car is not learned")
	require.InDelta(t, multDown, after.Multipliers[ZoneKind{"plaza", KindClass}], 1e-12)
	require.Zero(t, after.Suppressions)

	again, evs := parkCar(m, w, 15)
	rep := alertsFor(evs, KindClass, again.id)
	require.Len(t, rep, 1, "alerts: %v", explanations(evs))
	require.InDelta(t, m.State().Thresholds[KindClass]*multDown, rep[0].Values["threshold"], 1e-9)

	// Confirming after a false alarm lifts the suppression again.
	require.True(t, m.Feedback(rep[0], false))
	require.Equal(t, 1, m.State().Suppressions)
	require.True(t, m.Feedback(rep[0], true))
	require.Zero(t, m.State().Suppressions)
}

// Multipliers are bounded however many verdicts come.
func TestFeedbackMultiplierBounds(t *testing.T) {
	m, w, _ := trained(t)
	car, evs := parkCar(m, w, 0)
	ev := alertsFor(evs, KindClass, car.id)[0]
	for i := range 40 {
		ev.Values["alert_id"] = float64(i%int(m.alertSeq) + 1)
		m.verdicts = nil // each verdict counts as new
		m.Feedback(ev, false)
	}
	require.InDelta(t, multMax, m.State().Multipliers[ZoneKind{"plaza", KindClass}], 1e-12)
	for range 80 {
		m.verdicts = nil
		m.Feedback(ev, true)
	}
	require.InDelta(t, multMin, m.State().Multipliers[ZoneKind{"plaza", KindClass}], 1e-12)
}

// A verdict on a track still in view applies when it ends.
func TestFeedbackOnOpenTrack(t *testing.T) {
	m, w, _ := trained(t)
	car := w.parked(detect.Car, spotX, spotY, time.Minute)
	evs := w.run(m, 10*time.Second)
	got := alertsFor(evs, KindClass, car.id)
	require.Len(t, got, 1)
	learned := m.State().LearnedTracks
	require.True(t, m.Feedback(got[0], false))
	w.run(m, time.Minute)
	s := m.State()
	require.Zero(t, s.Quarantined)
	require.Greater(t, s.LearnedTracks, learned)
	require.NotNil(t, m.stats[statKey{cellOfSpot(m), allHours, int16(detect.Car)}], "the car was learned at its spot")
}

// Feedback refuses events that are not this model's anomaly alerts.
func TestFeedbackRejectsForeignEvents(t *testing.T) {
	m, w, _ := trained(t)
	car, evs := parkCar(m, w, 0)
	ev := alertsFor(evs, KindClass, car.id)[0]
	cases := map[string]func(e *event.Event){
		"rule":       func(e *event.Event) { e.Rule = "wrong_way" },
		"kind":       func(e *event.Event) { e.Name = "loitering" },
		"no id":      func(e *event.Event) { e.Values = map[string]float64{} },
		"future id":  func(e *event.Event) { e.Values = map[string]float64{"alert_id": float64(m.alertSeq + 1)} },
		"odd id":     func(e *event.Event) { e.Values = map[string]float64{"alert_id": 1.5} },
		"other cam":  func(e *event.Event) { e.Camera = "cam-other" },
		"zero id":    func(e *event.Event) { e.Values = map[string]float64{"alert_id": 0} },
		"negative":   func(e *event.Event) { e.Values = map[string]float64{"alert_id": -3} },
		"empty rule": func(e *event.Event) { e.Rule = "" },
	}
	before := m.State()
	for name, edit := range cases {
		e := ev
		e.Values = map[string]float64{"alert_id": ev.Values["alert_id"]}
		edit(&e)
		require.False(t, m.Feedback(e, false), name)
	}
	require.Equal(t, before, m.State())
	ev.Camera = "cam-test" // as the caller sets it
	require.True(t, m.Feedback(ev, true))
}

func cellOfSpot(m *Model) cellXY {
	g, _ := m.sc.ToGround(pointOf(event.PathPoint{Image: [2]float64{spotX, spotY}}))
	c, _ := m.cellOf(pointOf(event.PathPoint{Image: [2]float64{spotX, spotY}}), g, true)
	return c
}
