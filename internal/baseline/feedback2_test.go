package baseline

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/event"
)

// The standing spot sits mid-cell on the westbound lane (ground 33 m,
// 22.75 m); the repeat stands 1.5 m east, in the next cell, where nothing
// was learned from the first: only the suppression can keep it quiet.
const (
	standX, standY = 660.0, 265.0
	repeatX        = 690.0
)

func stand(m *Model, w *world, x float64) (*mover, []event.Event) {
	p := w.add(&mover{class: detect.Person, x: x, y: standY, w: 24, h: 60, end: w.pts + 90*time.Second})
	return p, w.run(m, 95*time.Second)
}

func TestFeedbackFalseAlarmSuppressesDwell(t *testing.T) {
	for _, confirmed := range []bool{false, true} {
		m, w, _ := trained(t)
		first, evs := stand(m, w, standX)
		got := alertsFor(evs, KindDwell, first.id)
		require.Len(t, got, 1, "alerts: %v", explanations(evs))
		require.Contains(t, got[0].Explanation, "person has stayed ")
		require.True(t, m.Feedback(got[0], confirmed))
		second, evs := stand(m, w, repeatX)
		rep := alertsFor(evs, KindDwell, second.id)
		if confirmed {
			require.Len(t, rep, 1, "a confirmed situation keeps alerting: %v", explanations(evs))
		} else {
			require.Empty(t, rep, "a false alarm does not repeat: %v", explanations(evs))
		}
	}
}

// The suppression covers the same kind and class within the radius, for
// SuppressFor of model time.
func TestSuppressionScope(t *testing.T) {
	m, w, _ := trained(t)
	first, evs := stand(m, w, standX)
	ev := alertsFor(evs, KindDwell, first.id)[0]
	require.True(t, m.Feedback(ev, false))
	last := pointOf(ev.Path[len(ev.Path)-1])
	g, _ := m.sc.ToGround(last)
	at := func(dxM float64) (img, gr [2]float64) {
		return [2]float64{last.X + dxM*pxPerM, last.Y}, [2]float64{g.X + dxM, g.Y}
	}
	check := func(kind int, cls detect.Class, dxM float64) bool {
		i, gg := at(dxM)
		return m.suppressed(kind, int16(cls), 0, pointOf(event.PathPoint{Image: i}), pointOf(event.PathPoint{Image: gg}), true)
	}
	require.True(t, check(kindDwell, detect.Person, 0))
	require.True(t, check(kindDwell, detect.Person, 2.9))
	require.False(t, check(kindDwell, detect.Person, 3.1), "beyond 1.5 cells")
	require.False(t, check(kindSpeed, detect.Person, 0), "another kind")
	require.False(t, check(kindDwell, detect.Car, 0), "another class")
	m.mt += m.cfg.SuppressFor
	require.False(t, check(kindDwell, detect.Person, 0), "expired")
	require.Zero(t, m.State().Suppressions)
}

// An occupancy false alarm learns the crowd's counts and silences the
// zone for that class; a confirmed one forgets them and alerts again.
func TestFeedbackOccupancy(t *testing.T) {
	high := occBin(35)
	for _, confirmed := range []bool{false, true} {
		m, w, _ := trained(t)
		plaza := func() *occHist { return m.occ[occKey{0, int16(detect.Person), allHours}] }
		require.Zero(t, plaza().bins[high])
		burst(w)
		got := alertsFor(w.run(m, 45*time.Second), KindBusy, 0)
		require.NotEmpty(t, got)
		require.Equal(t, "plaza", got[0].Zone)
		w.run(m, 80*time.Second) // the crowd's windows close
		require.Zero(t, plaza().bins[high], "held out until a verdict")
		require.True(t, m.Feedback(got[0], confirmed))
		s := m.State()
		if confirmed {
			require.Zero(t, plaza().bins[high], "a confirmed crowd is not learned")
			require.InDelta(t, multDown, s.Multipliers[ZoneKind{"plaza", KindBusy}], 1e-12)
			require.Zero(t, s.Suppressions)
		} else {
			require.Positive(t, plaza().bins[high], "a false alarm is learned")
			require.InDelta(t, multUp, s.Multipliers[ZoneKind{"plaza", KindBusy}], 1e-12)
			require.Equal(t, 1, s.Suppressions)
		}
		burst(w)
		rep := alertsFor(w.run(m, 45*time.Second), KindBusy, 0)
		if confirmed {
			require.NotEmpty(t, rep)
		} else {
			for _, e := range rep {
				require.NotEqual(t, "plaza", e.Zone)
			}
		}
	}
}
