package incident_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/deliver"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/incident"
	"github.com/vigil-cctv/vigil/internal/protocol"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

const protos = `version: 1
events: {notify: [bus]}
protocols:
  - name: counts
    match: {rules: [line_crossing]}
    queue: false
  - name: ramp
    match: {rules: [wrong_way]}
    priority: critical
    unit: police
    notify: [police, bus]
    group_window: 2m
    escalate: {after: 1m, notify: [duty]}
    auto_close: 30m
  - name: jay
    match: {rules: [jaywalking]}
    priority: low
    group_window: 5m
    cooldown: 15m
    auto_close: 20m
  - name: rest
    group_window: 10m
`

type env struct {
	st      *sqlite.Store
	eng     *incident.Engine
	changes []incident.Incident
	commits int
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := sqlite.Open(context.Background(), ":memory:")
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	set, err := protocol.Parse([]byte(protos), "p.yaml", protocol.Options{})
	require.NoError(t, err)
	e := &env{st: st}
	e.eng = incident.NewEngine(st, set, protos, incident.Options{
		OnChange:  func(in incident.Incident) { e.changes = append(e.changes, in) },
		Committed: func() { e.commits++ },
	})
	return e
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func sec(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func ev(camera, rule, place string, tracks ...int) event.Event {
	return event.Event{Camera: camera, Rule: rule, Name: rule + "-" + place, Zone: place, Class: "car", Tracks: tracks,
		Severity: event.Medium, Explanation: rule + " at " + place}
}

func (e *env) handle(t *testing.T, x event.Event, at time.Time) incident.Result {
	t.Helper()
	r, err := e.eng.Handle(context.Background(), x, at)
	require.NoError(t, err)
	require.Positive(t, r.Alert, "every event is stored")
	return r
}

func (e *env) outbox(t *testing.T) []deliver.Message {
	t.Helper()
	m, err := e.st.Due(context.Background(), time.Now().Add(time.Hour), 10000)
	require.NoError(t, err)
	return m
}

func TestGrouping(t *testing.T) {
	e := newEnv(t)
	first := e.handle(t, ev("c1", "wrong_way", "ramp", 1), sec(0))
	require.True(t, first.Opened)
	require.Equal(t, "ramp", first.Protocol)
	require.Equal(t, "critical", first.Incident.Priority)
	require.Equal(t, "police", first.Incident.Unit)

	// Same situation within the window joins; so does the same track on
	// another rule.
	r := e.handle(t, ev("c1", "wrong_way", "ramp", 2), sec(60))
	require.False(t, r.Opened)
	require.Equal(t, first.Incident.ID, r.Incident.ID)
	require.Equal(t, 2, r.Incident.Count)
	sp := ev("c1", "speeding", "lane2", 1)
	sp.Severity = event.High
	r = e.handle(t, sp, sec(70))
	require.Equal(t, first.Incident.ID, r.Incident.ID, "same track joins")
	require.Equal(t, event.High, r.Incident.Severity)
	require.Equal(t, r.Alert, r.Incident.Best, "the higher severity is the best evidence")

	// Another camera, or after the window: a new incident.
	other := e.handle(t, ev("c2", "wrong_way", "ramp", 1), sec(71))
	require.True(t, other.Opened)
	late := e.handle(t, ev("c1", "wrong_way", "ramp", 5), sec(70+121))
	require.True(t, late.Opened, "after the group window a new incident opens")

	// Line crossings are events only.
	lc := e.handle(t, ev("c1", "line_crossing", "gate", 1), sec(200))
	require.Nil(t, lc.Incident)
	a, err := e.st.GetAlert(context.Background(), lc.Alert)
	require.NoError(t, err)
	require.Equal(t, "line_crossing", a.Event.Rule)

	full, err := e.st.GetIncident(context.Background(), first.Incident.ID)
	require.NoError(t, err)
	require.Len(t, full.Events, 3)

	// Messages: every event to bus; each opening to police and bus.
	byDest := map[string]int{}
	for _, m := range e.outbox(t) {
		byDest[m.Destination+"/"+m.Kind]++
	}
	require.Equal(t, map[string]int{"bus/event": 6, "bus/incident": 3, "police/incident": 3}, byDest)
	require.Equal(t, 6, e.commits)
	require.Len(t, e.changes, 5, "opened and joined incidents are announced")
}

func TestCooldown(t *testing.T) {
	e := newEnv(t)
	first := e.handle(t, ev("c1", "jaywalking", "road", 1), sec(0))
	require.True(t, first.Opened)
	// Outside the 5 min window but inside the 15 min cooldown: joins the
	// open incident.
	r := e.handle(t, ev("c1", "jaywalking", "road", 2), sec(400))
	require.Equal(t, first.Incident.ID, r.Incident.ID)
	// Once that incident is closed, events inside the cooldown are events only.
	_, _, err := e.eng.Transition(context.Background(), first.Incident.ID, incident.Change{To: incident.Closed}, "ana", sec(401))
	require.NoError(t, err)
	r = e.handle(t, ev("c1", "jaywalking", "road", 3), sec(500))
	require.Nil(t, r.Incident, "cooling down: stored, not queued")
	r = e.handle(t, ev("c1", "jaywalking", "road", 4), sec(901))
	require.True(t, r.Opened, "after the cooldown a new incident opens")
}

// TestEscalationExactlyOnce is the acceptance test: an unacknowledged
// incident escalates once, driven by an injected clock, no sleeps.
func TestEscalationExactlyOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := e.handle(t, ev("c1", "wrong_way", "ramp", 1), sec(0))
	for _, s := range []float64{10, 59.9} {
		require.NoError(t, e.eng.Tick(ctx, sec(s)))
	}
	in, err := e.st.GetIncident(ctx, r.Incident.ID)
	require.NoError(t, err)
	require.True(t, in.Escalated.IsZero(), "not before the minute is up")
	for s := 60.0; s < 600; s += 7 {
		require.NoError(t, e.eng.Tick(ctx, sec(s)))
	}
	in, err = e.st.GetIncident(ctx, r.Incident.ID)
	require.NoError(t, err)
	require.True(t, in.Escalated.Equal(sec(60)))
	require.Equal(t, "critical", in.Priority, "critical stays critical")
	esc := 0
	dests := map[string]bool{}
	for _, m := range e.outbox(t) {
		var n deliver.Notice
		require.NoError(t, json.Unmarshal(m.Payload, &n))
		if n.Type == deliver.NoticeEscalated {
			esc++
			dests[m.Destination] = true
			require.True(t, n.Incident.Escalated)
		}
	}
	require.Equal(t, 3, esc, "one escalation message per destination")
	require.Equal(t, map[string]bool{"duty": true, "police": true, "bus": true}, dests)

	// Another engine on the store (a restart, another api node) does not
	// escalate again.
	e2 := incident.NewEngine(e.st, nil, "", incident.Options{})
	require.NoError(t, e2.Tick(ctx, sec(700)))
	n := 0
	for _, m := range e.outbox(t) {
		if strings.HasSuffix(m.ID, "-escalated") {
			n++
		}
	}
	require.Equal(t, 3, n)

	// Acknowledged in time: never escalated.
	r2 := e.handle(t, ev("c3", "wrong_way", "ramp", 1), sec(1000))
	_, _, err = e.eng.Transition(ctx, r2.Incident.ID, incident.Change{To: incident.Acknowledged}, "ana", sec(1030))
	require.NoError(t, err)
	require.NoError(t, e.eng.Tick(ctx, sec(1100)))
	in2, err := e.st.GetIncident(ctx, r2.Incident.ID)
	require.NoError(t, err)
	require.True(t, in2.Escalated.IsZero())
}

func TestEscalationRaisesPriority(t *testing.T) {
	e := newEnv(t)
	src := `version: 1
protocols:
  - name: p
    priority: medium
    escalate: {after: 1m}
`
	set, err := protocol.Parse([]byte(src), "p.yaml", protocol.Options{})
	require.NoError(t, err)
	e.eng.SetProtocols(set, src)
	r := e.handle(t, ev("c1", "loitering", "bench"), sec(0))
	require.NoError(t, e.eng.Tick(context.Background(), sec(61)))
	in, err := e.st.GetIncident(context.Background(), r.Incident.ID)
	require.NoError(t, err)
	require.Equal(t, "high", in.Priority, "one step up when the protocol names no priority")
}

func TestAutoClose(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := e.handle(t, ev("c1", "jaywalking", "road", 1), sec(0))
	e.handle(t, ev("c1", "jaywalking", "road", 2), sec(120))
	require.NoError(t, e.eng.Tick(ctx, sec(120+20*60-1)))
	in, err := e.st.GetIncident(ctx, r.Incident.ID)
	require.NoError(t, err)
	require.Equal(t, incident.New, in.State)
	require.NoError(t, e.eng.Tick(ctx, sec(120+20*60)))
	in, err = e.st.GetIncident(ctx, r.Incident.ID)
	require.NoError(t, err)
	require.Equal(t, incident.Closed, in.State)
	require.Equal(t, incident.System, in.History[0].By)
	require.True(t, in.Closed.Equal(sec(120+20*60)))

	// A dispatched incident is never auto-closed.
	w := e.handle(t, ev("c1", "wrong_way", "ramp", 9), sec(0))
	_, _, err = e.eng.Transition(ctx, w.Incident.ID, incident.Change{To: incident.Dispatched, UnitID: "PC-1"}, "ben", sec(5))
	require.NoError(t, err)
	require.NoError(t, e.eng.Tick(ctx, sec(5*3600)))
	in, err = e.st.GetIncident(ctx, w.Incident.ID)
	require.NoError(t, err)
	require.Equal(t, incident.Dispatched, in.State)
	require.Equal(t, "police", in.UnitType, "the suggested unit type is the default")
}

func TestTransitionValidation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := e.handle(t, ev("c1", "wrong_way", "ramp", 1), sec(0))
	id := r.Incident.ID
	for _, ch := range []incident.Change{
		{To: "teleported"},
		{To: incident.Dispatched, UnitType: "army"},
		{To: incident.Acknowledged, UnitID: "PC-1"},
		{To: incident.Acknowledged, Note: strings.Repeat("x", 3000)},
		{To: incident.Dispatched, UnitID: "a\nb"},
	} {
		_, _, err := e.eng.Transition(ctx, id, ch, "ana", sec(1))
		require.ErrorIs(t, err, incident.ErrInvalid, "%+v", ch)
	}
	_, _, err := e.eng.Transition(ctx, id, incident.Change{To: incident.Resolved}, "ana", sec(1))
	require.ErrorIs(t, err, store.ErrConflict, "new cannot be resolved before anyone looked")
	_, _, err = e.eng.Transition(ctx, 999, incident.Change{To: incident.Acknowledged}, "ana", sec(1))
	require.ErrorIs(t, err, store.ErrNotFound)

	in, judged, err := e.eng.Transition(ctx, id, incident.Change{To: incident.FalseAlarm, Note: "shadow"}, "ana", sec(2))
	require.NoError(t, err)
	require.Equal(t, []int64{r.Alert}, judged)
	require.Equal(t, "ana", in.History[0].By)
	// A false alarm takes the incident out of the queue: the next event opens a new one.
	r2 := e.handle(t, ev("c1", "wrong_way", "ramp", 1), sec(3))
	require.True(t, r2.Opened)
}

func TestResponseTimes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	require.NoError(t, e.eng.Register(reg))
	for i, ack := range []float64{10, 20, 30, 40, 100} {
		r := e.handle(t, ev("c1", "wrong_way", "ramp", i+100), sec(float64(i*1000)))
		base := float64(i * 1000)
		for _, step := range []struct {
			to incident.State
			at float64
		}{{incident.Acknowledged, ack}, {incident.Dispatched, ack + 5}, {incident.OnScene, ack + 65}, {incident.Resolved, ack + 300}} {
			_, _, err := e.eng.Transition(ctx, r.Incident.ID, incident.Change{To: step.to}, "ana", sec(base+step.at))
			require.NoError(t, err)
		}
	}
	stats, err := e.eng.ResponseTimes(ctx, incident.Filter{})
	require.NoError(t, err)
	require.Len(t, stats, 1)
	s := stats[0]
	require.Equal(t, "police", s.UnitType)
	require.Equal(t, incident.Quantiles{N: 5, Median: 30, P90: 76}, s.Stages[incident.StageAcknowledge])
	require.Equal(t, 35.0, s.Stages[incident.StageDispatch].Median)
	require.Equal(t, 60.0, s.Stages[incident.StageOnScene].Median)
	require.Equal(t, 330.0, s.Stages[incident.StageResolve].Median)

	mfs, err := reg.Gather()
	require.NoError(t, err)
	found := false
	for _, mf := range mfs {
		if mf.GetName() != "vigil_incident_response_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["stage"] != incident.StageAcknowledge {
				continue
			}
			found = true
			require.Equal(t, map[string]string{"camera": "c1", "rule": "wrong_way", "unit_type": "police", "stage": "acknowledge"}, labels)
			require.Equal(t, uint64(5), m.GetSummary().GetSampleCount())
			require.Equal(t, 30.0, m.GetSummary().GetQuantile()[0].GetValue(), "median time to acknowledge")
		}
	}
	require.True(t, found)
	n, err := testutil.GatherAndCount(reg, "vigil_incidents_opened_total")
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

// TestProtocolsReplacedElsewhere: a protocol file saved through one
// engine (one api node) is in force on another engine on the store after
// its next tick.
func TestProtocolsReplacedElsewhere(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	other := incident.NewEngine(e.st, nil, "", incident.Options{})
	src := "version: 1\nprotocols:\n  - name: only\n    priority: low\n"
	v, err := e.eng.ReplaceProtocols(ctx, []byte(src), "ana")
	require.NoError(t, err)
	require.Equal(t, 1, v)
	require.NoError(t, other.Tick(ctx, sec(0)))
	_, y := other.Protocols()
	require.Equal(t, src, y)
	r, err := other.Handle(ctx, ev("c1", "wrong_way", "ramp", 1), sec(1))
	require.NoError(t, err)
	require.Equal(t, "only", r.Protocol)
}

// TestHandleBatchDecidesLikeOneByOne: a batch makes the same incidents
// and messages as the same events handled one at a time, and a batch
// delivered again stores, counts and announces nothing.
func TestHandleBatchDecidesLikeOneByOne(t *testing.T) {
	events := []incident.Input{
		{Event: ev("c1", "wrong_way", "ramp", 1), At: sec(0)},
		{Event: ev("c2", "jaywalking", "x", 4), At: sec(5)},
		{Event: ev("c1", "wrong_way", "ramp", 2), At: sec(60)},
		{Event: ev("c1", "line_crossing", "gate", 1), At: sec(61)},
		{Event: ev("c2", "jaywalking", "x", 5), At: sec(400)},
	}
	for i := range events {
		events[i].Event.ID = "k" + strings.Repeat("x", i)
	}
	one := newEnv(t)
	var want []incident.Result
	for _, x := range events {
		want = append(want, one.handle(t, x.Event, x.At))
	}
	batch := newEnv(t)
	got, err := batch.eng.HandleBatch(context.Background(), events)
	require.NoError(t, err)
	require.Len(t, got, len(events))
	for i := range want {
		require.Equal(t, want[i].Opened, got[i].Opened, "event %d", i)
		require.Equal(t, want[i].Protocol, got[i].Protocol, "event %d", i)
		require.Equal(t, want[i].Incident == nil, got[i].Incident == nil, "event %d", i)
		require.False(t, got[i].Existed)
	}
	require.Equal(t, got[0].Incident.ID, got[2].Incident.ID, "the third event joins the incident the first opened in the same batch")
	require.Equal(t, len(one.outbox(t)), len(batch.outbox(t)))
	require.Len(t, batch.changes, len(one.changes))
	require.Equal(t, 1, batch.commits, "one commit announced for the batch")

	changes, msgs := len(batch.changes), len(batch.outbox(t))
	again, err := batch.eng.HandleBatch(context.Background(), events)
	require.NoError(t, err)
	for i := range again {
		require.True(t, again[i].Existed, "event %d", i)
		require.Equal(t, got[i].Alert, again[i].Alert)
	}
	require.Len(t, batch.changes, changes, "a redelivery announces nothing")
	require.Len(t, batch.outbox(t), msgs, "a redelivery sends nothing")
}
