// Package storetest is the conformance suite every store.Store must pass.
// Implementations call Run from their tests with a function that opens a
// fresh, empty store; KillDuringWrites and RunWriter check that committed
// alerts survive kill -9 of the writing process.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/store"
)

// Opener returns a fresh, empty store; it should register its own cleanup.
type Opener func(t *testing.T) store.Store

// Run runs every conformance test against stores made by open. The
// subtests run in parallel, each with its own store.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Cameras", testCameras},
		{"Scenes", testScenes},
		{"ScenesConcurrent", testScenesConcurrent},
		{"AlertRoundTrip", testAlertRoundTrip},
		{"AlertFilters", testAlertFilters},
		{"AlertTimeRange", testAlertTimeRange},
		{"AlertPagination", testAlertPagination},
		{"AlertLimits", testAlertLimits},
		{"Lifecycle", testLifecycle},
		{"TransitionTable", testTransitionTable},
		{"ConcurrentAddAlert", testConcurrentAddAlert},
		{"Tracks", testTracks},
		{"Counts", testCounts},
		{"Baselines", testBaselines},
		{"Suppressions", testSuppressions},
		{"Verdicts", testVerdicts},
		{"ClusterOnce", testClusterOnce},
		{"ClusterBaselineOrder", testClusterBaselineOrder},
		{"ClusterBatch", testClusterBatch},
		{"IncidentEvents", testIncidentEvents},
		{"IncidentEventsBatch", testIncidentEventsBatch},
		{"IncidentLifecycle", testIncidentLifecycle},
		{"IncidentEscalateOnce", testIncidentEscalateOnce},
		{"IncidentList", testIncidentList},
		{"Outbox", testOutbox},
		{"ProtocolVersions", testProtocolVersions},
		{"Users", testUsers},
		{"Sessions", testSessions},
		{"Tokens", testTokens},
		{"CameraGroups", testGroups},
		{"Audit", testAudit},
		{"AlertCameraSet", testAlertCameraSet},
		{"SearchTracks", testSearchTracks},
		{"Close", testClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// at is a fixed instant with microsecond precision, which both engines keep.
func at(sec int) time.Time {
	return time.Date(2026, 3, 1, 12, 0, sec, 123456000, time.UTC)
}

// sampleEvent fills every field so a round trip that drops one fails.
func sampleEvent(camera, rule, class string, start float64) event.Event {
	g := [2]float64{1.5, -2.25}
	return event.Event{
		ID: "ev-1", Rule: rule, Name: rule + " rule", Camera: camera,
		Zone: "z1", Line: "l1", Lane: "ramp", Tracks: []int{3, 7},
		Class: class, Start: start, End: start + 2.5, Severity: event.High,
		Explanation: "moved 14.2 m against lane 'ramp' at 38 km/h",
		Values:      map[string]float64{"speed_kmh": 38, "distance_m": 14.2},
		Direction:   "in",
		Path: []event.PathPoint{
			{PTS: start, Image: [2]float64{10, 20}, Ground: &g},
			{PTS: start + 0.04, Image: [2]float64{11, 21}},
		},
		Snapshot: "snap.jpg", Crop: "crop.jpg",
	}
}

func addAlert(t *testing.T, s store.Store, e event.Event) int64 {
	t.Helper()
	id, err := s.AddAlert(context.Background(), e)
	require.NoError(t, err)
	require.Positive(t, id)
	return id
}

func ids(as []store.Alert) []int64 {
	out := make([]int64, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

func testCameras(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, err := s.GetCamera(ctx, "cam1")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, s.DeleteCamera(ctx, "cam1"), store.ErrNotFound)
	require.Error(t, s.PutCamera(ctx, store.Camera{Name: "no id"}))

	c := store.Camera{ID: "cam1", Name: "Gate", URL: "rtsp://admin:secret@10.0.0.5/stream",
		Kind: "rtsp", Enabled: true, FPS: 12.5}
	require.NoError(t, s.PutCamera(ctx, c))
	got, err := s.GetCamera(ctx, "cam1")
	require.NoError(t, err)
	require.False(t, got.Created.IsZero())
	require.Equal(t, got.Created, got.Updated)
	want := c
	want.Created, want.Updated = got.Created, got.Updated
	require.Equal(t, want, got)

	time.Sleep(2 * time.Millisecond) // so Updated visibly moves
	c.Name, c.Enabled, c.FPS, c.URL = "Gate 2", false, 25, "file:///v.mp4"
	require.NoError(t, s.PutCamera(ctx, c))
	got2, err := s.GetCamera(ctx, "cam1")
	require.NoError(t, err)
	require.Equal(t, got.Created, got2.Created, "update keeps Created")
	require.True(t, got2.Updated.After(got.Updated), "update moves Updated")
	want = c
	want.Created, want.Updated = got2.Created, got2.Updated
	require.Equal(t, want, got2)

	require.NoError(t, s.PutCamera(ctx, store.Camera{ID: "a-cam", Kind: "file"}))
	list, err := s.ListCameras(ctx)
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, "a-cam", list[0].ID, "ordered by ID")
	require.Equal(t, got2, list[1])

	require.NoError(t, s.DeleteCamera(ctx, "cam1"))
	_, err = s.GetCamera(ctx, "cam1")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, s.DeleteCamera(ctx, "cam1"), store.ErrNotFound)
	list, err = s.ListCameras(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
}

func testScenes(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, err := s.LatestScene(ctx, "cam1")
	require.ErrorIs(t, err, store.ErrNotFound)
	vs, err := s.SceneVersions(ctx, "cam1")
	require.NoError(t, err)
	require.Empty(t, vs)

	for i := 1; i <= 3; i++ {
		v, err := s.SaveScene(ctx, "cam1", fmt.Sprintf("zones: [%d]\n", i), "alice")
		require.NoError(t, err)
		require.Equal(t, i, v)
	}
	v, err := s.SaveScene(ctx, "cam2", "other", "")
	require.NoError(t, err)
	require.Equal(t, 1, v, "numbering is per camera")

	latest, err := s.LatestScene(ctx, "cam1")
	require.NoError(t, err)
	require.Equal(t, 3, latest.Version)
	require.Equal(t, "cam1", latest.Camera)
	require.Equal(t, "zones: [3]\n", latest.YAML)
	require.Equal(t, "alice", latest.Author)
	require.False(t, latest.Created.IsZero())

	vs, err = s.SceneVersions(ctx, "cam1")
	require.NoError(t, err)
	require.Len(t, vs, 3)
	for i, sv := range vs {
		require.Equal(t, i+1, sv.Version, "oldest first")
		require.Equal(t, fmt.Sprintf("zones: [%d]\n", i+1), sv.YAML)
	}
	require.Equal(t, latest, vs[2])
}

func testScenesConcurrent(t *testing.T, s store.Store) {
	const n = 8
	var wg sync.WaitGroup
	got := make([]int, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { got[i], errs[i] = s.SaveScene(context.Background(), "cam1", "y", "bob") })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	slices.Sort(got)
	require.Equal(t, []int{1, 2, 3, 4, 5, 6, 7, 8}, got)
}

func testAlertRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, err := s.GetAlert(ctx, 12345)
	require.ErrorIs(t, err, store.ErrNotFound)

	before := time.Now().Add(-time.Second)
	e := sampleEvent("cam1", "wrong_way", "car", 12.345678)
	id := addAlert(t, s, e)
	a, err := s.GetAlert(ctx, id)
	require.NoError(t, err)
	require.Equal(t, id, a.ID)
	require.Equal(t, e, a.Event)
	require.Equal(t, store.StateNew, a.State)
	require.True(t, a.Created.After(before))
	require.Equal(t, a.Created, a.Updated)
	require.Empty(t, a.History)

	// A minimal event survives too (nil slices and maps stay nil).
	bare := event.Event{Rule: "loiter", Camera: "cam2"}
	id2 := addAlert(t, s, bare)
	require.Greater(t, id2, id, "IDs increase")
	a2, err := s.GetAlert(ctx, id2)
	require.NoError(t, err)
	require.Equal(t, bare, a2.Event)
}

func testAlertFilters(t *testing.T, s store.Store) {
	ctx := context.Background()
	byKey := map[string][]int64{}
	for i, c := range []struct{ cam, rule, class string }{
		{"cam1", "wrong_way", "car"}, {"cam1", "loiter", "person"}, {"cam2", "wrong_way", "truck"},
		{"cam2", "intrusion", "person"}, {"cam1", "wrong_way", "car"}, {"cam3", "loiter", "car"},
	} {
		id := addAlert(t, s, sampleEvent(c.cam, c.rule, c.class, float64(i)))
		for _, k := range []string{"camera=" + c.cam, "rule=" + c.rule, "class=" + c.class, "all"} {
			byKey[k] = append([]int64{id}, byKey[k]...) // newest first
		}
	}
	list := func(f store.AlertFilter) []int64 {
		t.Helper()
		as, err := s.ListAlerts(ctx, f)
		require.NoError(t, err)
		return ids(as)
	}
	require.Equal(t, byKey["all"], list(store.AlertFilter{}))
	require.Equal(t, byKey["camera=cam1"], list(store.AlertFilter{Camera: "cam1"}))
	require.Equal(t, byKey["rule=wrong_way"], list(store.AlertFilter{Rule: "wrong_way"}))
	require.Equal(t, byKey["class=person"], list(store.AlertFilter{Class: "person"}))
	require.Empty(t, list(store.AlertFilter{Camera: "nope"}))

	both := list(store.AlertFilter{Camera: "cam1", Rule: "wrong_way", Class: "car"})
	require.Len(t, both, 2)

	ack := byKey["camera=cam2"][0]
	_, err := s.Transition(ctx, ack, store.StateAcknowledged, "op", "")
	require.NoError(t, err)
	require.Equal(t, []int64{ack}, list(store.AlertFilter{State: store.StateAcknowledged}))
	require.Len(t, list(store.AlertFilter{State: store.StateNew}), 5)
	require.Equal(t, []int64{ack}, list(store.AlertFilter{Camera: "cam2", State: store.StateAcknowledged}))

	as, err := s.ListAlerts(ctx, store.AlertFilter{State: store.StateAcknowledged})
	require.NoError(t, err)
	require.Len(t, as[0].History, 1, "listed alerts carry their history")
}

func testAlertTimeRange(t *testing.T, s store.Store) {
	ctx := context.Background()
	a1 := addAlert(t, s, sampleEvent("cam1", "r", "c", 1))
	a2 := addAlert(t, s, sampleEvent("cam1", "r", "c", 2))
	time.Sleep(5 * time.Millisecond)
	mid := time.Now()
	time.Sleep(5 * time.Millisecond)
	b1 := addAlert(t, s, sampleEvent("cam1", "r", "c", 3))
	end := time.Now().Add(time.Second)

	list := func(f store.AlertFilter) []int64 {
		t.Helper()
		as, err := s.ListAlerts(ctx, f)
		require.NoError(t, err)
		return ids(as)
	}
	require.Equal(t, []int64{b1}, list(store.AlertFilter{Since: mid}))
	require.Equal(t, []int64{a2, a1}, list(store.AlertFilter{Until: mid}))
	require.Equal(t, []int64{b1, a2, a1}, list(store.AlertFilter{Since: mid.Add(-time.Hour), Until: end}))
	require.Empty(t, list(store.AlertFilter{Since: end}))

	// Since is inclusive and Until exclusive, at the stored precision.
	got, err := s.GetAlert(ctx, b1)
	require.NoError(t, err)
	require.Equal(t, []int64{b1}, list(store.AlertFilter{Since: got.Created}))
	require.Equal(t, []int64{a2, a1}, list(store.AlertFilter{Until: got.Created}))
}

func testAlertPagination(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 123
	var want []int64
	for i := range n {
		cam := "cam1"
		if i%3 == 0 {
			cam = "cam2"
		}
		want = append(want, addAlert(t, s, sampleEvent(cam, "r", "c", float64(i))))
	}
	slices.Reverse(want)

	var got []int64
	pages := 0
	for after := int64(0); ; pages++ {
		as, err := s.ListAlerts(ctx, store.AlertFilter{After: after, Limit: 20})
		require.NoError(t, err)
		if len(as) == 0 {
			break
		}
		require.LessOrEqual(t, len(as), 20)
		got = append(got, ids(as)...)
		after = as[len(as)-1].ID
	}
	require.Equal(t, want, got, "newest first, no duplicates or gaps")
	require.Equal(t, 7, pages)

	// Paging composes with filters.
	var cam2 []int64
	for after := int64(0); ; {
		as, err := s.ListAlerts(ctx, store.AlertFilter{Camera: "cam2", After: after, Limit: 7})
		require.NoError(t, err)
		if len(as) == 0 {
			break
		}
		for _, a := range as {
			require.Equal(t, "cam2", a.Event.Camera)
		}
		cam2 = append(cam2, ids(as)...)
		after = as[len(as)-1].ID
	}
	require.Len(t, cam2, 41)
	require.True(t, slices.IsSortedFunc(cam2, func(a, b int64) int { return int(b - a) }))
}

func testAlertLimits(t *testing.T, s store.Store) {
	ctx := context.Background()
	addConcurrently(t, s, 8, 64, "cam1") // 512 alerts: more than the maximum page
	for _, c := range []struct{ limit, want int }{{0, 50}, {-1, 50}, {10, 10}, {500, 500}, {501, 500}, {10000, 500}} {
		as, err := s.ListAlerts(ctx, store.AlertFilter{Limit: c.limit})
		require.NoError(t, err)
		require.Len(t, as, c.want, "Limit %d", c.limit)
	}
}

// addConcurrently adds workers×each alerts from workers goroutines and
// returns their IDs.
func addConcurrently(t *testing.T, s store.Store, workers, each int, camera string) []int64 {
	t.Helper()
	var mu sync.Mutex
	var all []int64
	var errs []error
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				id, err := s.AddAlert(context.Background(), sampleEvent(camera, fmt.Sprintf("w%d", w), "c", float64(i)))
				mu.Lock()
				all, errs = append(all, id), append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	return all
}

func testConcurrentAddAlert(t *testing.T, s store.Store) {
	ctx := context.Background()
	got := addConcurrently(t, s, 8, 25, "cam1")
	require.Len(t, got, 200)
	seen := map[int64]bool{}
	for _, id := range got {
		require.False(t, seen[id], "duplicate ID %d", id)
		seen[id] = true
	}
	var listed []int64
	for after := int64(0); ; {
		as, err := s.ListAlerts(ctx, store.AlertFilter{Camera: "cam1", After: after, Limit: 500})
		require.NoError(t, err)
		if len(as) == 0 {
			break
		}
		listed = append(listed, ids(as)...)
		after = as[len(as)-1].ID
	}
	slices.Sort(got)
	slices.Sort(listed)
	require.Equal(t, got, listed)
	for w := range 8 {
		as, err := s.ListAlerts(ctx, store.AlertFilter{Rule: fmt.Sprintf("w%d", w)})
		require.NoError(t, err)
		require.Len(t, as, 25)
	}
}

func testLifecycle(t *testing.T, s store.Store) {
	ctx := context.Background()
	id := addAlert(t, s, sampleEvent("cam1", "r", "c", 1))
	steps := []struct {
		to       store.AlertState
		by, note string
	}{
		{store.StateAcknowledged, "alice", "looking"},
		{store.StateConfirmed, "bob", "real, police called"},
		{store.StateClosed, "alice", ""},
	}
	var last store.Alert
	for i, st := range steps {
		a, err := s.Transition(ctx, id, st.to, st.by, st.note)
		require.NoError(t, err)
		require.Equal(t, st.to, a.State)
		require.Len(t, a.History, i+1)
		h := a.History[i]
		from := store.StateNew
		if i > 0 {
			from = steps[i-1].to
		}
		require.Equal(t, store.Transition{From: from, To: st.to, By: st.by, At: h.At, Note: st.note}, h)
		require.False(t, h.At.IsZero())
		require.Equal(t, h.At, a.Updated)
		if i > 0 {
			require.False(t, h.At.Before(a.History[i-1].At), "history in order")
		}
		last = a
	}
	got, err := s.GetAlert(ctx, id)
	require.NoError(t, err)
	require.Equal(t, last, got)
	require.True(t, !got.Updated.Before(got.Created))

	// Closed is final; a failed move changes nothing.
	for _, to := range []store.AlertState{store.StateNew, store.StateAcknowledged, store.StateClosed, "bogus"} {
		_, err := s.Transition(ctx, id, to, "mallory", "")
		require.ErrorIs(t, err, store.ErrConflict, "closed → %s", to)
	}
	got, err = s.GetAlert(ctx, id)
	require.NoError(t, err)
	require.Equal(t, last, got)

	_, err = s.Transition(ctx, 987654, store.StateAcknowledged, "alice", "")
	require.ErrorIs(t, err, store.ErrNotFound)
}

// testTransitionTable tries every move from every state and checks the
// store agrees with store.AllowedTransition.
func testTransitionTable(t *testing.T, s store.Store) {
	ctx := context.Background()
	states := []store.AlertState{store.StateNew, store.StateAcknowledged, store.StateConfirmed,
		store.StateFalseAlarm, store.StateClosed}
	for _, from := range states {
		for _, to := range states {
			id := addAlert(t, s, sampleEvent("cam1", "r", "c", 1))
			if from != store.StateNew {
				_, err := s.Transition(ctx, id, from, "setup", "")
				require.NoError(t, err)
			}
			a, err := s.Transition(ctx, id, to, "op", "n")
			if store.AllowedTransition(from, to) {
				require.NoError(t, err, "%s → %s", from, to)
				require.Equal(t, to, a.State)
				continue
			}
			require.ErrorIs(t, err, store.ErrConflict, "%s → %s", from, to)
			got, err := s.GetAlert(ctx, id)
			require.NoError(t, err)
			require.Equal(t, from, got.State)
		}
	}
}

func testTracks(t *testing.T, s store.Store) {
	ctx := context.Background()
	g := [2]float64{3, 4}
	mk := func(cam string, id, sec int) store.TrackSummary {
		return store.TrackSummary{
			Camera: cam, TrackID: id, Class: "person", Start: at(sec), End: at(sec + 5),
			Path: []event.PathPoint{{PTS: float64(sec), Image: [2]float64{1, 2}, Ground: &g},
				{PTS: float64(sec) + 1, Image: [2]float64{3, 4}}},
			Attributes: map[string]float64{"speed": 1.25},
		}
	}
	t1, t2, t3 := mk("cam1", 1, 0), mk("cam1", 2, 10), mk("cam1", 1, 20) // track IDs may repeat
	t3.Attributes, t3.Path = nil, nil
	other := mk("cam2", 9, 10)
	for _, tr := range []store.TrackSummary{t1, t2, t3, other} {
		require.NoError(t, s.AddTrack(ctx, tr))
	}
	list := func(cam string, since, until time.Time, n int) []store.TrackSummary {
		t.Helper()
		ts, err := s.ListTracks(ctx, cam, since, until, n)
		require.NoError(t, err)
		for i := range ts { // ids are the store's; compare the rest
			require.Positive(t, ts[i].ID)
			ts[i].ID = 0
		}
		return ts
	}
	require.Equal(t, []store.TrackSummary{t3, t2, t1}, list("cam1", time.Time{}, time.Time{}, 0))
	require.Equal(t, []store.TrackSummary{t3, t2}, list("cam1", at(10), time.Time{}, 0))
	require.Equal(t, []store.TrackSummary{t2, t1}, list("cam1", time.Time{}, at(20), 0))
	require.Equal(t, []store.TrackSummary{t2}, list("cam1", at(5), at(15), 0))
	require.Equal(t, []store.TrackSummary{t3}, list("cam1", time.Time{}, time.Time{}, 1))
	require.Len(t, list("", time.Time{}, time.Time{}, 0), 4)
	require.Empty(t, list("cam3", time.Time{}, time.Time{}, 0))
}

func testCounts(t *testing.T, s store.Store) {
	ctx := context.Background()
	require.NoError(t, s.AddCounts(ctx, nil))
	in := []store.Count{
		{Camera: "cam1", Name: "gate", Class: "person", Direction: "in", Bucket: at(0), N: 3},
		{Camera: "cam1", Name: "gate", Class: "person", Direction: "out", Bucket: at(0), N: 1},
		{Camera: "cam1", Name: "gate", Class: "person", Direction: "in", Bucket: at(60), N: 2},
		{Camera: "cam1", Name: "yard", Class: "car", Bucket: at(0), N: 5},
		{Camera: "cam2", Name: "gate", Class: "person", Direction: "in", Bucket: at(0), N: 7},
	}
	require.NoError(t, s.AddCounts(ctx, in))
	require.NoError(t, s.AddCounts(ctx, in[:1]))
	require.NoError(t, s.AddCounts(ctx, []store.Count{{Camera: "cam1", Name: "yard", Class: "car", Bucket: at(0), N: 10}}))

	list := func(f store.CountFilter) []store.Count {
		t.Helper()
		cs, err := s.ListCounts(ctx, f)
		require.NoError(t, err)
		return cs
	}
	sum := func(c store.Count, n int64) store.Count { c.N = n; return c }
	require.Equal(t, []store.Count{sum(in[0], 6), in[1], sum(in[3], 15), in[2]},
		list(store.CountFilter{Camera: "cam1"}), "adding twice sums; oldest bucket first")
	require.Equal(t, []store.Count{sum(in[0], 6), in[1], in[2]}, list(store.CountFilter{Camera: "cam1", Name: "gate"}))
	require.Equal(t, []store.Count{in[2]}, list(store.CountFilter{Camera: "cam1", Since: at(60)}))
	require.Equal(t, []store.Count{sum(in[0], 6), in[1], sum(in[3], 15), in[4]}, list(store.CountFilter{Until: at(60)}))
	require.Len(t, list(store.CountFilter{}), 5)
	require.Empty(t, list(store.CountFilter{Since: at(61)}))
}

func testClose(t *testing.T, s store.Store) {
	require.NoError(t, s.PutCamera(context.Background(), store.Camera{ID: "c"}))
	require.NoError(t, s.Close())
}
