package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/deliver"
	"github.com/vigil-cctv/vigil/internal/incident"
	"github.com/vigil-cctv/vigil/internal/store"
)

func incidentStore(t *testing.T, s store.Store) incident.Store {
	t.Helper()
	is, ok := s.(incident.Store)
	require.True(t, ok, "%T must implement incident.Store", s)
	return is
}

func outboxStore(t *testing.T, s store.Store) deliver.Store {
	t.Helper()
	os, ok := s.(deliver.Store)
	require.True(t, ok, "%T must implement deliver.Store", s)
	return os
}

func msgsTo(dest string, id string, camera string) []deliver.Message {
	return []deliver.Message{{ID: id, Destination: dest, Camera: camera, Kind: deliver.KindIncident, Subject: "wrong_way", Payload: []byte(`{"id":"` + id + `"}`)}}
}

// testIncidentEvents: an event, its incident and its messages commit
// together; joining grows the incident; a key makes recording idempotent.
func testIncidentEvents(t *testing.T, s store.Store) {
	ctx := context.Background()
	is, ob := incidentStore(t, s), outboxStore(t, s)
	e1 := sampleEvent("cam1", "wrong_way", "car", 10)
	e1.ID = ""
	opened := at(0)
	inc := &incident.Incident{Camera: "cam1", Rule: "wrong_way", Name: e1.Name, Place: "ramp", Class: "car",
		Protocol: "ramp", State: incident.New, Priority: "critical", Severity: e1.Severity, Summary: "first",
		Unit: "police", Tracks: []int{3, 7}, Notify: []string{"police"}, EscalateDue: at(60),
		EscalatePriority: "critical", EscalateNotify: []string{"duty"}, AutoClose: 30 * time.Minute}
	alert1, got, err := recordOne(ctx, is, incident.EventRecord{Event: e1, At: opened, Key: "k1", Incident: inc,
		Messages: func(alertID int64, in *incident.Incident) []deliver.Message {
			require.NotNil(t, in)
			require.Positive(t, in.ID)
			return msgsTo("police", fmt.Sprintf("incident-%d-opened", in.ID), "cam1")
		}})
	require.NoError(t, err)
	require.Positive(t, alert1)
	require.NotNil(t, got)
	require.Equal(t, incident.New, got.State)
	require.Equal(t, 1, got.Count)
	require.Equal(t, alert1, got.Best)
	require.Equal(t, []int{3, 7}, got.Tracks)
	require.Equal(t, []string{"duty"}, got.EscalateNotify)
	require.Equal(t, 30*time.Minute, got.AutoClose)
	require.True(t, got.EscalateDue.Equal(at(60)))
	require.True(t, got.Escalated.IsZero())
	a, err := s.GetAlert(ctx, alert1)
	require.NoError(t, err)
	require.Equal(t, "wrong_way", a.Event.Rule, "the event is an alert row: stored and searchable")

	// The same key again stores nothing new.
	again, gotAgain, err := recordOne(ctx, is, incident.EventRecord{Event: e1, At: opened, Key: "k1", Incident: inc})
	require.NoError(t, err)
	require.Equal(t, alert1, again)
	require.Equal(t, got.ID, gotAgain.ID)
	rs, err := is.RecordEvents(ctx, []incident.EventRecord{{Event: e1, At: opened, Key: "k1", Incident: inc}})
	require.NoError(t, err)
	require.True(t, rs[0].Existed, "a redelivery says so, so its caller does not announce it twice")

	// A second event joins; a lower severity keeps the best evidence.
	e2 := e1
	e2.Severity = "low"
	joined := *got
	joined.Count, joined.Summary, joined.Tracks = 2, "second", []int{3, 7, 9}
	alert2, got2, err := recordOne(ctx, is, incident.EventRecord{Event: e2, At: at(5), Incident: &joined})
	require.NoError(t, err)
	require.Equal(t, got.ID, got2.ID)
	require.Equal(t, 2, got2.Count)
	require.Equal(t, alert1, got2.Best)
	require.Equal(t, alert2, got2.Latest)
	require.Equal(t, "second", got2.Summary)
	require.True(t, got2.LastEvent.Equal(at(5)))
	require.Equal(t, incident.New, got2.State)

	// An event no protocol queues is an alert only.
	alert3, none, err := recordOne(ctx, is, incident.EventRecord{Event: sampleEvent("cam1", "line_crossing", "person", 3), At: at(6)})
	require.NoError(t, err)
	require.Nil(t, none)
	require.Greater(t, alert3, alert2)

	full, err := is.GetIncident(ctx, got.ID)
	require.NoError(t, err)
	require.Len(t, full.Events, 2)
	require.Equal(t, alert1, full.Events[0].Alert, "timeline oldest first")
	require.True(t, full.Events[0].Snapshot)

	due, err := ob.Claim(ctx, "t", time.Now().Add(time.Hour), time.Now().Add(time.Hour), 10)
	require.NoError(t, err)
	require.Len(t, due, 1, "the opening message committed with the event, once")
	require.Equal(t, fmt.Sprintf("incident-%d-opened", got.ID), due[0].ID)
	_, err = is.GetIncident(ctx, 999999)
	require.ErrorIs(t, err, store.ErrNotFound)
}

// recordOne records one event through RecordEvents.
func recordOne(ctx context.Context, is incident.Store, r incident.EventRecord) (int64, *incident.Incident, error) {
	rs, err := is.RecordEvents(ctx, []incident.EventRecord{r})
	if err != nil {
		return 0, nil, err
	}
	if len(rs) != 1 {
		return 0, nil, fmt.Errorf("RecordEvents returned %d results for 1 record", len(rs))
	}
	return rs[0].Alert, rs[0].Incident, nil
}

// testIncidentEventsBatch: a batch commits in order (a record decides on
// the incident the one before it opened, on any camera of the batch) and
// all or nothing.
func testIncidentEventsBatch(t *testing.T, s store.Store) {
	ctx := context.Background()
	is := incidentStore(t, s)
	var seen []int // open incidents each decision saw
	rec := func(camera, key string, sec int) incident.EventRecord {
		e := sampleEvent(camera, "intrusion", "person", 1)
		return incident.EventRecord{Event: e, At: at(sec), Key: key, Decide: func(g incident.Grouping) (*incident.Incident, bool) {
			seen = append(seen, len(g.Open))
			if len(g.Open) > 0 {
				next := g.Open[0]
				next.Count++
				return &next, false
			}
			return &incident.Incident{Camera: camera, Rule: "intrusion", Protocol: "p", State: incident.New,
				Priority: "high", Severity: e.Severity, Count: 1}, false
		}}
	}
	rs, err := is.RecordEvents(ctx, []incident.EventRecord{rec("camB", "b1", 0), rec("camA", "a1", 1), rec("camB", "b2", 2)})
	require.NoError(t, err)
	require.Len(t, rs, 3)
	require.Equal(t, []int{0, 0, 1}, seen, "the third record sees the incident the first opened")
	require.Equal(t, rs[0].Incident.ID, rs[2].Incident.ID)
	require.NotEqual(t, rs[0].Incident.ID, rs[1].Incident.ID)
	require.Equal(t, 2, rs[2].Incident.Count)
	require.Less(t, rs[0].Alert, rs[1].Alert)
	require.Less(t, rs[1].Alert, rs[2].Alert, "alerts are numbered in the batch's order")

	bad := rec("camA", "a2", 3)
	bad.Decide = func(incident.Grouping) (*incident.Incident, bool) {
		return &incident.Incident{ID: 999999, Camera: "camA"}, false // joins an incident that is not there
	}
	_, err = is.RecordEvents(ctx, []incident.EventRecord{rec("camC", "c1", 3), bad})
	require.Error(t, err)
	again, err := is.RecordEvents(ctx, []incident.EventRecord{rec("camC", "c1", 3)})
	require.NoError(t, err)
	require.False(t, again[0].Existed, "a failed batch stored nothing, not even its first record")
}

func openIncident(t *testing.T, is incident.Store, camera string, tAt time.Time) (int64, incident.Incident) {
	t.Helper()
	e := sampleEvent(camera, "intrusion", "person", 1)
	in := &incident.Incident{Camera: camera, Rule: "intrusion", Protocol: "p", State: incident.New, Priority: "high",
		Severity: e.Severity, Unit: "police", EscalateDue: tAt.Add(time.Minute), EscalatePriority: "critical"}
	alert, got, err := recordOne(context.Background(), is, incident.EventRecord{Event: e, At: tAt, Incident: in})
	require.NoError(t, err)
	return alert, *got
}

// testIncidentLifecycle: each transition records who and when and its
// step's time; a verdict judges the grouped alerts; illegal or stale
// moves conflict; escalation happens once.
func testIncidentLifecycle(t *testing.T, s store.Store) {
	ctx := context.Background()
	is := incidentStore(t, s)
	alert, in := openIncident(t, is, "cam1", at(0))

	move := func(from, to incident.State, by string, sec int, unitType, unitID string) incident.Incident {
		t.Helper()
		out, err := is.TransitionIncident(ctx, incident.TransitionRecord{ID: in.ID, From: from, To: to, By: by, At: at(sec),
			UnitType: unitType, UnitID: unitID, Note: "n"})
		require.NoError(t, err)
		require.Equal(t, to, out.State)
		return out
	}
	_, err := is.TransitionIncident(ctx, incident.TransitionRecord{ID: in.ID, From: incident.New, To: incident.OnScene, By: "ana", At: at(1)})
	require.ErrorIs(t, err, store.ErrConflict, "new cannot jump to on scene")
	_, err = is.TransitionIncident(ctx, incident.TransitionRecord{ID: in.ID, From: incident.Acknowledged, To: incident.Dispatched, By: "ana", At: at(1)})
	require.ErrorIs(t, err, store.ErrConflict, "a stale from state conflicts")
	_, err = is.TransitionIncident(ctx, incident.TransitionRecord{ID: 424242, From: incident.New, To: incident.Acknowledged, By: "ana", At: at(1)})
	require.ErrorIs(t, err, store.ErrNotFound)

	move(incident.New, incident.Acknowledged, "ana", 10, "", "")
	_, ok, err := is.EscalateIncident(ctx, in.ID, at(61), "critical", nil)
	require.NoError(t, err)
	require.False(t, ok, "an acknowledged incident does not escalate")
	move(incident.Acknowledged, incident.Dispatched, "ben", 20, "police", "PC-12")
	move(incident.Dispatched, incident.OnScene, "ben", 80, "", "")
	out := move(incident.OnScene, incident.Resolved, "ana", 200, "", "")
	require.Equal(t, []int64{alert}, out.Judged)
	require.Equal(t, "police", out.UnitType)
	require.Equal(t, "PC-12", out.UnitID)
	require.True(t, out.Acked.Equal(at(10)))
	require.True(t, out.Dispatched.Equal(at(20)))
	require.True(t, out.OnScene.Equal(at(80)))
	require.True(t, out.Resolved.Equal(at(200)))
	require.Len(t, out.History, 4)
	require.Equal(t, incident.Transition{From: incident.Dispatched, To: incident.OnScene, By: "ben", At: at(80), Note: "n"}, out.History[2])
	require.Equal(t, "PC-12", out.History[1].UnitID)
	a, err := s.GetAlert(ctx, alert)
	require.NoError(t, err)
	require.Equal(t, store.StateConfirmed, a.State, "resolving confirms the grouped alerts")
	require.Equal(t, "ana", a.History[len(a.History)-1].By)
	closed := move(incident.Resolved, incident.Closed, "ana", 300, "", "")
	require.Empty(t, closed.Judged)
	require.True(t, closed.Closed.Equal(at(300)))

	// A false alarm dismisses; dispatch without acknowledgement acks too.
	alert2, in2 := openIncident(t, is, "cam2", at(0))
	in = in2
	d := move(incident.New, incident.Dispatched, "ben", 30, "fire", "E-1")
	require.True(t, d.Acked.Equal(at(30)))
	fa := move(incident.Dispatched, incident.FalseAlarm, "ben", 40, "", "")
	require.Equal(t, []int64{alert2}, fa.Judged)
	a2, err := s.GetAlert(ctx, alert2)
	require.NoError(t, err)
	require.Equal(t, store.StateFalseAlarm, a2.State)
	v, err := s.Verdicts(ctx, store.VerdictFilter{})
	require.NoError(t, err)
	require.Len(t, v, 2, "incident verdicts count in per-rule precision")

	active, err := is.ActiveIncidents(ctx)
	require.NoError(t, err)
	require.Len(t, active, 1)
	require.Equal(t, in2.ID, active[0].ID)
}

// testIncidentEscalateOnce: many racing escalations, one succeeds and
// enqueues its messages once.
func testIncidentEscalateOnce(t *testing.T, s store.Store) {
	ctx := context.Background()
	is, ob := incidentStore(t, s), outboxStore(t, s)
	_, in := openIncident(t, is, "cam1", at(0))
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			up, ok, err := is.EscalateIncident(ctx, in.ID, at(61), "critical", func(up incident.Incident) []deliver.Message {
				return msgsTo("duty", fmt.Sprintf("incident-%d-escalated", up.ID), "cam1")
			})
			require.NoError(t, err)
			if ok {
				require.Equal(t, "critical", up.Priority)
				require.True(t, up.Escalated.Equal(at(61)))
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	require.Equal(t, 1, wins, "escalation happens exactly once")
	due, err := ob.Claim(ctx, "t", time.Now().Add(time.Hour), time.Now().Add(time.Hour), 10)
	require.NoError(t, err)
	require.Len(t, due, 1)
}

func testIncidentList(t *testing.T, s store.Store) {
	ctx := context.Background()
	is := incidentStore(t, s)
	var ids []int64
	for i := range 5 {
		_, in := openIncident(t, is, fmt.Sprintf("cam%d", i%2), at(i))
		ids = append(ids, in.ID)
	}
	_, err := is.TransitionIncident(ctx, incident.TransitionRecord{ID: ids[0], From: incident.New, To: incident.Acknowledged, By: "a", At: at(9)})
	require.NoError(t, err)
	all, err := is.ListIncidents(ctx, incident.Filter{})
	require.NoError(t, err)
	require.Len(t, all, 5)
	require.Equal(t, ids[4], all[0].ID, "newest first")
	cam0, err := is.ListIncidents(ctx, incident.Filter{Camera: "cam0"})
	require.NoError(t, err)
	require.Len(t, cam0, 3)
	st, err := is.ListIncidents(ctx, incident.Filter{States: []incident.State{incident.Acknowledged}})
	require.NoError(t, err)
	require.Len(t, st, 1)
	page, err := is.ListIncidents(ctx, incident.Filter{After: ids[2], Limit: 1})
	require.NoError(t, err)
	require.Equal(t, []int64{ids[1]}, []int64{page[0].ID})
	win, err := is.ListIncidents(ctx, incident.Filter{Since: at(1), Until: at(3)})
	require.NoError(t, err)
	require.Len(t, win, 2)
	none, err := is.ListIncidents(ctx, incident.Filter{Priority: "low"})
	require.NoError(t, err)
	require.Empty(t, none)
}

// testOutbox: lanes are delivered in order, a failed head blocks its lane
// only, dead letters leave the lane and can be retried.
func testOutbox(t *testing.T, s store.Store) {
	ctx := context.Background()
	ob := outboxStore(t, s)
	var msgs []deliver.Message
	for i := range 3 {
		for _, cam := range []string{"a", "b"} {
			msgs = append(msgs, deliver.Message{ID: fmt.Sprintf("m-%s-%d", cam, i), Destination: "hook", Camera: cam,
				Kind: deliver.KindEvent, Subject: "r", Payload: []byte{byte(i), 0, 0xff}, Created: at(i)})
		}
	}
	require.NoError(t, ob.Enqueue(ctx, msgs))
	require.NoError(t, ob.Enqueue(ctx, msgs[:2]), "enqueue is idempotent")
	b, err := ob.Backlog(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(6), b.Pending)
	require.True(t, b.Oldest.Equal(at(0)))

	due, err := ob.Claim(ctx, "t", at(10), at(10), 100) // a claim ending at once
	require.NoError(t, err)
	require.Len(t, due, 6)
	for i := 1; i < len(due); i++ {
		require.Less(t, due[i-1].Seq, due[i].Seq)
	}
	require.Equal(t, []byte{0, 0, 0xff}, due[0].Payload, "payload bytes round-trip")
	var headA, headB deliver.Message
	for _, m := range due {
		if m.Camera == "a" && headA.Seq == 0 {
			headA = m
		}
		if m.Camera == "b" && headB.Seq == 0 {
			headB = m
		}
	}
	// Lane a's head fails until at(100): lane a waits, lane b does not.
	require.NoError(t, ob.MarkFailed(ctx, headA.Seq, 1, at(100), "receiver answered 503", false, at(10)))
	require.NoError(t, ob.MarkDelivered(ctx, []int64{headB.Seq}, at(10)))
	due, err = ob.Claim(ctx, "t", at(20), at(20), 100) // a claim ending at once
	require.NoError(t, err)
	require.Len(t, due, 2)
	for _, m := range due {
		require.Equal(t, "b", m.Camera)
	}
	require.NoError(t, ob.Release(ctx, "t"))
	b, err = ob.Backlog(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(5), b.Pending)
	require.True(t, b.NextAt.Equal(at(0)) || b.NextAt.Equal(at(1)), "lane b's head is due: %v", b.NextAt)

	// Dead-lettering a's head unblocks lane a.
	require.NoError(t, ob.MarkFailed(ctx, headA.Seq, 2, at(100), "receiver rejected the message with 400", true, at(21)))
	due, err = ob.Claim(ctx, "t", at(21), at(21), 100) // a claim ending at once
	require.NoError(t, err)
	require.Len(t, due, 4)
	dead, err := ob.DeadLetters(ctx, deliver.DeadFilter{})
	require.NoError(t, err)
	require.Len(t, dead, 1)
	require.Equal(t, headA.ID, dead[0].ID)
	require.Equal(t, 2, dead[0].Attempts)
	require.Contains(t, dead[0].LastError, "400")
	require.True(t, dead[0].Done.Equal(at(21)))
	none, err := ob.DeadLetters(ctx, deliver.DeadFilter{Destination: "other"})
	require.NoError(t, err)
	require.Empty(t, none)

	m, err := ob.RetryDead(ctx, headA.Seq, at(30))
	require.NoError(t, err)
	require.Equal(t, deliver.Pending, m.State)
	require.Equal(t, 0, m.Attempts)
	_, err = ob.RetryDead(ctx, headA.Seq, at(30))
	require.ErrorIs(t, err, store.ErrNotFound, "only a dead message can be retried")

	var seqs []int64
	for _, m := range due {
		seqs = append(seqs, m.Seq)
	}
	require.NoError(t, ob.MarkDelivered(ctx, seqs, at(31)))
	require.NoError(t, ob.MarkDelivered(ctx, nil, at(31)))
	n, err := ob.PurgeDelivered(ctx, at(31))
	require.NoError(t, err)
	require.Equal(t, int64(1), n, "only messages delivered before the cut are purged")
	n, err = ob.PurgeDelivered(ctx, at(32))
	require.NoError(t, err)
	require.Equal(t, int64(4), n)
}

func testProtocolVersions(t *testing.T, s store.Store) {
	ctx := context.Background()
	is := incidentStore(t, s)
	_, err := is.LatestProtocols(ctx)
	require.ErrorIs(t, err, store.ErrNotFound)
	v1, err := is.SaveProtocols(ctx, "version: 1\n", "ana")
	require.NoError(t, err)
	v2, err := is.SaveProtocols(ctx, "version: 1\nprotocols: []\n", "ben")
	require.NoError(t, err)
	require.Equal(t, []int{1, 2}, []int{v1, v2})
	p, err := is.LatestProtocols(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, p.Version)
	require.Equal(t, "ben", p.Author)
	require.Equal(t, "version: 1\nprotocols: []\n", p.YAML)
	require.False(t, p.Created.IsZero())
}
