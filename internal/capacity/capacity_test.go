package capacity

import (
	"image"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
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

// fakeDetector takes longer for a whole frame than for a crop.
type fakeDetector struct{ full, region int }

func (d *fakeDetector) Detect(*decode.Frame) ([]detect.Detection, error) {
	d.full++
	return nil, nil
}

func (d *fakeDetector) DetectRegion(_ *decode.Frame, r image.Rectangle) ([]detect.Detection, error) {
	d.region++
	if r.Dx() != 320 {
		panic("crop of the region size expected")
	}
	return nil, nil
}

func TestMeasureRunsEachDetector(t *testing.T) {
	d := &fakeDetector{}
	f := &decode.Frame{Width: 640, Height: 480}
	_, err := Measure(d, d, f, 5)
	require.NoError(t, err)
	require.Equal(t, 6, d.full)
	require.Equal(t, 6, d.region)
	d2 := &fakeDetector{}
	c, err := Measure(d2, nil, f, 3)
	require.NoError(t, err)
	require.Equal(t, c.Full, c.Region, "without a crop detector a crop costs a frame")
}
