package attrs

import (
	"os"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/motfile"
)

// TestHeightPETS09: PETS09-S2L1's ground truth gives each box's foot
// position on the ground in metres; a homography fitted to those pairs
// is a real calibration, and the heights it gives the people must be
// human.
func TestHeightPETS09(t *testing.T) {
	const gt = "../../../shared/data/mot/PETS09-S2L1/gt.txt"
	if _, err := os.Stat(gt); err != nil {
		t.Skipf("%s missing", gt)
	}
	rows, err := motfile.ReadFile(gt)
	require.NoError(t, err)
	var img, ground []geom.Point
	for i, r := range rows {
		if i%7 == 0 && r.Conf != 0 {
			img, ground = append(img, r.Box.Foot()), append(ground, geom.Point{X: r.X, Y: r.Y})
		}
	}
	h, err := geom.FitHomography(img, ground)
	require.NoError(t, err)
	cam, err := CameraFrom(h, 384, 288)
	require.NoError(t, err)
	per := map[int][]float64{}
	for _, r := range rows {
		if r.Conf == 0 || r.Box.Y < 2 || r.Box.Y2() > 574 || r.Box.X < 2 || r.Box.X2() > 766 {
			continue
		}
		foot := r.Box.Foot()
		if m, ok := cam.Height(foot, geom.Point{X: foot.X, Y: r.Box.Y}); ok {
			per[r.ID] = append(per[r.ID], m)
		}
	}
	var meds []float64
	for _, hs := range per {
		slices.Sort(hs)
		meds = append(meds, hs[len(hs)/2])
	}
	slices.Sort(meds)
	t.Logf("median heights of %d identities: %.2f", len(meds), meds)
	require.GreaterOrEqual(t, meds[0], 1.4)
	require.LessOrEqual(t, meds[len(meds)-1], 2.1)
}
