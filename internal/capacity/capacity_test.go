package capacity

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/detplan"
)

func TestSustainedFollowsTheMix(t *testing.T) {
	c := Cost{Full: 40 * time.Millisecond, Region: 15 * time.Millisecond, PerFrame: 2 * time.Millisecond}
	every := Mix{Full: 1}
	require.InDelta(t, 1000.0/42, c.Sustained(every, 0), 1e-9)
	m := MixOf(detplan.Counts{Full: 10, Regions: 50, Carry: 40}, 75)
	require.InDelta(t, 1.5, m.RegionsPerFrame, 1e-12)
	// 0.1·40 + 0.5·1.5·15 + 2 = 17.25 ms a frame.
	require.InDelta(t, 1000/17.25, c.Sustained(m, 0), 1e-9)
	require.InDelta(t, 0.8*1000/17.25, c.Sustained(m, 0.2), 1e-9)
	require.Equal(t, every, MixOf(detplan.Counts{}, 0), "no history: the worst case")
	c.Lanes = 2
	require.InDelta(t, 2*0.8*1000/17.25, c.Sustained(m, 0.2), 1e-9, "two lanes infer side by side")

	ok, why := Admit(60, 50, 5)
	require.True(t, ok, why)
	ok, why = Admit(60, 58, 5)
	require.False(t, ok)
	require.Contains(t, why, "over capacity")
}
