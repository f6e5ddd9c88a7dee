package suppress

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/store"
)

func parked(x, y float64) event.Event {
	return event.Event{Rule: "stopped_vehicle", Name: "shoulder-stop", Camera: "cam1", Zone: "shoulder", Class: "car",
		Path: []event.PathPoint{{PTS: 1, Image: [2]float64{x - 30, y}}, {PTS: 2, Image: [2]float64{x, y}}}}
}

func TestCovers(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	s := FromAlert(store.Alert{ID: 9, Event: parked(100, 200)}, "ana", 30, time.Hour, now)
	require.Equal(t, 100.0, s.X)
	require.Equal(t, "shoulder", s.Place)
	require.Equal(t, now.Add(time.Hour), s.Expires)
	other := func(f func(*event.Event)) event.Event { e := parked(110, 205); f(&e); return e }
	for _, tc := range []struct {
		name string
		ev   event.Event
		want bool
	}{
		{"same spot, new track", parked(110, 205), true},
		{"edge of radius", parked(130, 200), true},
		{"next bay", parked(140, 200), false},
		{"other camera", other(func(e *event.Event) { e.Camera = "cam2" }), false},
		{"other rule", other(func(e *event.Event) { e.Rule = "loitering" }), false},
		{"other rule name", other(func(e *event.Event) { e.Name = "x" }), false},
		{"other class", other(func(e *event.Event) { e.Class = "truck" }), false},
		{"other zone", other(func(e *event.Event) { e.Zone = "lane1" }), false},
		{"no path", other(func(e *event.Event) { e.Path = nil }), false},
	} {
		t.Run(tc.name, func(t *testing.T) { require.Equal(t, tc.want, Covers(s, tc.ev)) })
	}
}

func TestPlaceOnlySuppression(t *testing.T) {
	crowd := event.Event{Rule: "crowd", Name: "plaza-crowd", Camera: "c", Zone: "plaza"}
	s := FromAlert(store.Alert{ID: 1, Event: crowd}, "ana", 30, time.Hour, time.Now())
	require.Zero(t, s.Radius)
	require.True(t, Covers(s, crowd))
	crowd.Zone = "gate"
	require.False(t, Covers(s, crowd))
}

func TestSetExpiresAndLifts(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	set := NewSet()
	s := FromAlert(store.Alert{ID: 9, Event: parked(100, 200)}, "ana", 30, time.Hour, now)
	s.ID = 4
	set.Add(s)
	id, ok := set.Match(parked(101, 201), now)
	require.True(t, ok)
	require.EqualValues(t, 4, id)
	require.Equal(t, []int64{4}, set.Covering(parked(101, 201)))
	set.Remove(4)
	_, ok = set.Match(parked(101, 201), now)
	require.False(t, ok, "a lifted suppression no longer hides the alert")

	set.Replace([]store.Suppression{s})
	_, ok = set.Match(parked(101, 201), now.Add(59*time.Minute))
	require.True(t, ok, "in force until it expires, on the event's clock")
	_, ok = set.Match(parked(101, 201), now.Add(time.Hour))
	require.False(t, ok, "an expired suppression no longer hides the alert")
	require.Equal(t, 1, set.Len())
	set.Prune(now.Add(time.Hour))
	require.Zero(t, set.Len(), "expired entries are pruned")
}
