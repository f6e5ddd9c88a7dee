package incident_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/incident"
)

// TestPropertyGrouping: for any stream of events, every event is stored,
// every queued event is in exactly one incident, the incidents' counts
// add up to the queued events, line crossings are never queued, and no
// event appears in two incidents.
func TestPropertyGrouping(t *testing.T) {
	e := newEnv(t) // one store; each run uses its own cameras
	run := 0
	rapid.Check(t, func(rt *rapid.T) {
		ctx := context.Background()
		run++
		at := t0.Add(time.Duration(run) * 1000 * time.Hour)
		cam := fmt.Sprintf("prop%d", run)
		queued, stored := 0, 0
		counts := map[int64]int{}
		alertsIn := map[int64]int64{}
		n := rapid.IntRange(1, 25).Draw(rt, "events")
		for range n {
			at = at.Add(time.Duration(rapid.IntRange(0, 900).Draw(rt, "gap_s")) * time.Second)
			x := ev(cam, rapid.SampledFrom([]string{"wrong_way", "jaywalking", "line_crossing", "loitering"}).Draw(rt, "rule"),
				rapid.SampledFrom([]string{"p1", "p2"}).Draw(rt, "place"), rapid.IntRange(1, 6).Draw(rt, "track"))
			x.Severity = rapid.SampledFrom([]event.Severity{event.Info, event.Low, event.High}).Draw(rt, "severity")
			r, err := e.eng.Handle(ctx, x, at)
			require.NoError(t, err)
			stored++
			if r.Incident != nil {
				queued++
				require.NotEqual(t, "line_crossing", x.Rule)
				counts[r.Incident.ID] = r.Incident.Count
				_, dup := alertsIn[r.Alert]
				require.False(t, dup)
				alertsIn[r.Alert] = r.Incident.ID
			}
			if rapid.IntRange(0, 9).Draw(rt, "tick") == 0 {
				require.NoError(t, e.eng.Tick(ctx, at))
			}
		}
		sum := 0
		for id, c := range counts {
			full, err := e.st.GetIncident(ctx, id)
			require.NoError(t, err)
			require.Equal(t, c, full.Count)
			require.Len(t, full.Events, c)
			sum += c
		}
		require.Equal(t, queued, sum, "counts add up to the queued events")
		list, err := e.st.ListIncidents(ctx, incident.Filter{Camera: cam, Limit: 500})
		require.NoError(t, err)
		require.Len(t, list, len(counts))
		require.Positive(t, stored)
	})
}
