package trafficref

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/scene"
)

const (
	highwayRef   = "../../testdata/highway/vehicles.csv"
	highwayMasks = "../../../shared/data/cdnet-highway/groundtruth"
	frames       = 1700
)

func loadHighway(t *testing.T) []Vehicle {
	t.Helper()
	vs, err := Load(highwayRef)
	require.NoError(t, err)
	return vs
}

func TestHighwayReference(t *testing.T) {
	vs := loadHighway(t)
	require.Len(t, vs, 31)
	lanes := map[string]int{}
	expected := 0
	for _, v := range vs {
		lanes[v.Lane+">"+v.NewLane]++
		if v.Expected() {
			expected++
		}
		require.LessOrEqual(t, v.Last, frames, v.ID)
	}
	require.Equal(t, 27, expected, "vehicles crossing rows 80 and 160 in view")
	require.Equal(t, map[string]int{"left>": 18, "right>": 11, "right>left": 2}, lanes)
}

func TestReadRejectsBadReferences(t *testing.T) {
	head := strings.Join(header, ",") + "\n"
	for _, bad := range []string{
		"",
		"id,lane\nv1,left\n",
		head + "v1,middle,towards,1,10,20,30,\n",
		head + "v1,right>left,towards,1,10,20,30,\n",    // change without a frame
		head + "v1,right>right@5,towards,1,10,20,30,\n", // no change
		head + "v1,left@5,towards,1,10,20,30,\n",
		head + "v1,right>left@99,towards,1,10,20,30,\n", // change after last
		head + "v1,left,away,1,10,20,30,\n",
		head + "v1,left,towards,1,30,20,40,\n",  // f80 after f160
		head + "v1,left,towards,50,10,20,60,\n", // first after f80
		head + "v1,left,towards,1,10,20,15,\n",  // last before f160
		head + "v1,left,towards,1,,20,30,\n",    // 160 without 80
		head + "v1,left,towards,x,10,20,30,\n",
		head + "v1,left,towards,1,10,20,30,\nv1,right,towards,1,10,20,30,\n",
	} {
		_, err := Read(strings.NewReader(bad))
		require.Error(t, err, bad)
	}
}

// TestReferenceAgreesWithCDnetMasks checks the hand labels against the
// dataset's own per-pixel foreground masks (labelled by other people, for
// frames 470 on): at each labelled crossing, the front of a vehicle must
// reach the row in the vehicle's lane within 5 frames (the labels were read
// from every tenth frame and interpolated; measured: all within 3). Where
// the lane's row is never clear of traffic within ±20 frames, the masks
// cannot time the crossing and it is left out, as it is for vehicles that
// change lanes.
func TestReferenceAgreesWithCDnetMasks(t *testing.T) {
	if _, err := os.Stat(highwayMasks); err != nil {
		t.Skipf("CDnet highway masks not found at %s (they live beside the repo in ../shared)", highwayMasks)
	}
	var offsets, undetermined []string
	for _, v := range loadHighway(t) {
		for _, c := range []struct {
			frame int
			row   float64
		}{{v.F80, RowFar}, {v.F160, RowNear}} {
			if c.frame < 470+20 || c.frame > frames-20 || v.NewLane != "" {
				continue // no mask there (frames 1-469 are unlabelled), or no single lane
			}
			name := fmt.Sprintf("%s@%g", v.ID, c.row)
			got, ok := maskCrossing(t, v, c.row, c.frame)
			if !ok {
				undetermined = append(undetermined, name)
				continue
			}
			offsets = append(offsets, fmt.Sprintf("%s:%+d", name, got-c.frame))
			if d := got - c.frame; d < -5 || d > 5 {
				t.Errorf("%s crosses row %g at frame %d by the masks, %d by the labels", v.ID, c.row, got, c.frame)
			}
		}
	}
	require.GreaterOrEqual(t, len(offsets), 35, "crossings timed by the masks")
	t.Logf("mask crossing minus label, frames: %s; undetermined: %v", strings.Join(offsets, " "), undetermined)
}

// maskCrossing returns the frame, within ±20 of around, at which the front
// of a vehicle reaches row in v's lane by the masks: the first frame with
// foreground on that row after a frame without (the gap behind the vehicle
// ahead). ok is false when there is no such gap.
func maskCrossing(t *testing.T, v Vehicle, row float64, around int) (frame int, ok bool) {
	t.Helper()
	empty := false
	for f := around - 20; f <= around+20; f++ {
		occupied := foregroundOnRow(readMask(t, f), v, row) >= 3
		if occupied && empty {
			return f, true
		}
		empty = empty || !occupied
	}
	return 0, false
}

func readMask(t *testing.T, frame int) image.Image {
	t.Helper()
	f, err := os.Open(filepath.Join(highwayMasks, fmt.Sprintf("gt%06d.png", frame)))
	require.NoError(t, err)
	defer f.Close()
	m, err := png.Decode(f)
	require.NoError(t, err)
	return m
}

// foregroundOnRow counts moving-foreground pixels (grey 255) on rows
// row..row+2 in v's lane.
func foregroundOnRow(m image.Image, v Vehicle, row float64) int {
	n := 0
	for y := int(row); y <= int(row)+2; y++ {
		mid := CentreLineX(float64(y))
		lo, hi := mid-LaneWidth(float64(y)), mid+LaneWidth(float64(y))
		switch v.Lane { // vehicles changing lanes are not checked
		case Left:
			hi = mid - 2
		case Right:
			lo = mid + 2
		}
		for x := int(lo); x <= int(hi); x++ {
			if color.GrayModel.Convert(m.At(x, y)).(color.Gray).Y == 255 {
				n++
			}
		}
	}
	return n
}

// reversedAlert is a wrong-way alert as the reversed playback would raise
// it for v: foot points in its lane at both labelled rows, dx pixels from
// the centre line, at reversed times.
func reversedAlert(v Vehicle, p Playback, dx float64) event.Event {
	a := event.Event{Rule: "wrong_way"}
	for _, k := range []struct {
		f int
		y float64
	}{{v.F160, RowNear}, {v.F80, RowFar}} {
		x := CentreLineX(k.y) + dx
		if v.LaneAtFrame(k.f) == Left {
			x = CentreLineX(k.y) - dx
		}
		pts := float64(p.Frames-k.f) / p.FPS
		a.Path = append(a.Path, event.PathPoint{PTS: pts, Image: [2]float64{x, k.y}})
	}
	return a
}

func highwayRoad(t *testing.T) Road {
	t.Helper()
	sc, err := scene.Load("../../scenes/cdnet-highway.yaml")
	require.NoError(t, err)
	require.NotNil(t, sc.Homography)
	return Road{H: *sc.Homography}
}

func TestScorePerfectAlerts(t *testing.T) {
	vs := loadHighway(t)
	p := Playback{Frames: frames, FPS: 25, Reversed: true}
	var alerts []event.Event
	for _, v := range vs {
		if v.Expected() {
			alerts = append(alerts, reversedAlert(v, p, 20))
		}
	}
	rep := Score(vs, alerts, highwayRoad(t), p, DefaultOptions)
	require.Equal(t, 1.0, rep.Recall, rep.String())
	require.Empty(t, rep.Unmatched, rep.String())
	require.Empty(t, rep.Twice, rep.String())
	for i, v := range expectedOnly(vs) {
		require.Equal(t, []int{i}, rep.Matched[v.ID], "alert %d went to the wrong vehicle", i)
	}
}

func expectedOnly(vs []Vehicle) []Vehicle {
	var out []Vehicle
	for _, v := range vs {
		if v.Expected() {
			out = append(out, v)
		}
	}
	return out
}

func TestScoreCountsMissesDuplicatesAndStrays(t *testing.T) {
	vs := loadHighway(t)
	p := Playback{Frames: frames, FPS: 25, Reversed: true}
	byID := map[string]Vehicle{}
	for _, v := range vs {
		byID[v.ID] = v
	}
	wrongLane := reversedAlert(byID["v06"], p, -20) // v06 drove in the left lane; the right lane was empty
	noVehicle := event.Event{Path: []event.PathPoint{{PTS: float64(frames-520) / 25, Image: [2]float64{150, 150}}}}
	alerts := []event.Event{
		reversedAlert(byID["v01"], p, 20),
		reversedAlert(byID["v01"], p, 25), // the same vehicle again
		reversedAlert(byID["v02"], p, 20),
		wrongLane,
		noVehicle, // frame 520: the road is empty
		{},        // no path
	}
	rep := Score(vs, alerts, highwayRoad(t), p, DefaultOptions)
	require.Equal(t, []int{0, 1}, rep.Matched["v01"])
	require.Equal(t, []string{"v01"}, rep.Twice)
	require.Equal(t, []int{3, 4, 5}, rep.Unmatched)
	require.Len(t, rep.Missed, 25)
	require.InDelta(t, 2.0/27, rep.Recall, 1e-12)
}

func TestPlaybackFrames(t *testing.T) {
	fwd := Playback{Frames: 1700, FPS: 25}
	rev := Playback{Frames: 1700, FPS: 25, Reversed: true}
	require.Equal(t, 1, fwd.Frame(0))
	require.Equal(t, 1700, fwd.Frame(1699.0/25))
	require.Equal(t, 1700, rev.Frame(0))
	require.Equal(t, 1, rev.Frame(1699.0/25))
}

func TestLaneAt(t *testing.T) {
	require.Equal(t, Left, LaneAt(100, 216))
	require.Equal(t, Right, LaneAt(140, 216))
	require.Equal(t, Left, LaneAt(190, 96))
	require.Equal(t, Right, LaneAt(200, 96))
}

// TestHighwaySpeedsFromLabels derives each vehicle's ground speed from the
// hand-labelled crossings and the scene's calibration, independently of the
// detector and tracker: 33.4 m of lane between rows 80 and 160 over the
// frames between the crossings, at 25 fps. The labels are fixed data, so
// the figures are exact; what they are worth is the labelling resolution, a
// crossing read to about ±3 frames of ~45 (±7% on one vehicle, less on the
// median of 27).
func TestHighwaySpeedsFromLabels(t *testing.T) {
	road := highwayRoad(t)
	var speeds []float64
	for _, v := range loadHighway(t) {
		if kmh, ok := v.SpeedKMH(road, 25); ok {
			speeds = append(speeds, kmh)
		}
	}
	require.Len(t, speeds, 27)
	sort.Float64s(speeds)
	q := func(p float64) float64 { return speeds[int(math.Round(p*float64(len(speeds)-1)))] }
	t.Logf("hand-labelled speeds (km/h, 25 fps): median %.1f, 10th-90th percentile %.1f-%.1f, all %.0f", q(0.5), q(0.1), q(0.9), speeds)
	require.InDelta(t, 66.8, q(0.5), 0.1, "median speed")
	require.InDelta(t, 61.5, q(0.1), 0.1, "10th percentile")
	require.InDelta(t, 73.2, q(0.9), 0.1, "90th percentile")
}
