package scene

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/geom"
)

const examples = "../../testdata/scenes"

func TestLoadExample(t *testing.T) {
	s, err := Load(filepath.Join(examples, "example.yaml"))
	require.NoError(t, err)
	require.Equal(t, "pets09-view1", s.Camera)
	require.Equal(t, Size{768, 576}, s.Image)
	require.NotNil(t, s.Homography)
	require.Len(t, s.Calibration.Pairs, 7)
	require.Less(t, s.Calibration.RMSError, 0.01, "ground points are rounded to 1 cm")
	require.Greater(t, s.Calibration.RMSError, 0.0)

	require.Len(t, s.Zones, 7)
	for _, z := range s.Zones {
		require.Greater(t, z.AreaM2, 0.0, z.Name)
		require.Len(t, z.Ground, len(z.Polygon))
	}
	// The calibration rectangle (7 m × 30 m) lies inside the road.
	require.Greater(t, s.Zone("road").AreaM2, 210.0)

	out, in := s.Lane("outbound"), s.Lane("inbound")
	require.True(t, out.HasGround)
	require.InDelta(t, 1, out.GroundDir.Norm(), 1e-12)
	require.Less(t, out.GroundDir.Dot(in.GroundDir), -0.99, "opposite lanes point opposite ways")
	require.Less(t, out.GroundDir.Y, -0.99, "towards the camera is towards ground y=0")

	require.Len(t, s.Rules, 11)
	ww := s.Rule("wrong_way-outbound")
	require.Equal(t, out, ww.Lane)
	require.Equal(t, High, ww.Severity)
	require.Equal(t, 8.0, ww.MinDistanceM)
	require.True(t, ww.ClassSet.Allows(detect.Truck))
	require.False(t, ww.ClassSet.Allows(detect.Person))
	lc := s.Rule("line_crossing-gate")
	require.Equal(t, 15*time.Minute, lc.Bucket)
	require.Equal(t, Info, lc.Severity, "default")
	require.Equal(t, time.Duration(0), lc.Cooldown, "default")
	sp := s.Rule("speeding-road")
	require.Equal(t, 2*time.Second, sp.Smoothing)
	require.Equal(t, 30*time.Second, sp.Cooldown, "default")
	require.Equal(t, 0.5, s.Rule("plaza-dense").MaxDensityPerM2)
	intr := s.Rule("intrusion-plant")
	require.Same(t, s.Schedule("night"), intr.Schedule)
	require.Equal(t, 500*time.Millisecond, intr.MinDwell)
	require.Nil(t, s.Rule("nope"))
}

func TestExampleFilesAllValid(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(examples, "*.yaml"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(paths), 2)
	for _, p := range paths {
		_, err := Load(p)
		require.NoError(t, err, p)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	for _, name := range []string{"example.yaml", "example-rectangle.yaml"} {
		s, err := Load(filepath.Join(examples, name))
		require.NoError(t, err)
		data, err := Marshal(s)
		require.NoError(t, err)
		back, err := Parse(data, "round.yaml")
		require.NoError(t, err, string(data))
		back.File = s.File
		// Locations are equal by name; their internal caches need not be.
		for i := range s.Schedules {
			require.Equal(t, s.Schedules[i].Location.String(), back.Schedules[i].Location.String())
			s.Schedules[i].Location, back.Schedules[i].Location = nil, nil
		}
		require.Equal(t, s, back)
	}
}

func TestRectangleCalibration(t *testing.T) {
	s, err := Load(filepath.Join(examples, "example-rectangle.yaml"))
	require.NoError(t, err)
	require.NotNil(t, s.Calibration.Rectangle)
	want := []geom.Point{{X: 0, Y: 0}, {X: 3.5, Y: 0}, {X: 3.5, Y: 12}, {X: 0, Y: 12}}
	for i, p := range s.Calibration.Rectangle.Image {
		g, ok := s.ToGround(p)
		require.True(t, ok)
		require.InDelta(t, want[i].X, g.X, 1e-9)
		require.InDelta(t, want[i].Y, g.Y, 1e-9)
	}
	require.Less(t, s.Calibration.MaxError, 1e-9, "4 pairs fit exactly")
	require.InDelta(t, 1, s.Lane("northbound").GroundDir.Y, 1e-9, "drawn along the rectangle's length")
}

func TestUncalibrated(t *testing.T) {
	s, err := Parse([]byte(header+road+"lanes:\n  - {name: l1, zone: road, direction: [[40, 5], [45, 30]]}\n"), "u.yaml")
	require.NoError(t, err)
	require.Nil(t, s.Homography)
	require.Nil(t, s.Calibration)
	_, ok := s.ToGround(geom.Point{X: 10, Y: 10})
	require.False(t, ok, "pixels are not metres")
	require.Nil(t, s.Zones[0].Ground)
	require.Zero(t, s.Zones[0].AreaM2)
	l := s.Lanes[0]
	require.False(t, l.HasGround)
	require.InDelta(t, 1, l.ImageDir.Norm(), 1e-12)
}

// horizonCalib maps image rows below y=50 onto the ground; rows at or above
// it are beyond the horizon.
const horizonCalib = "calibration:\n  pairs:\n" +
	"    - {image: [0, 60], ground: [0, 100]}\n    - {image: [100, 60], ground: [10, 100]}\n" +
	"    - {image: [100, 100], ground: [10, 0]}\n    - {image: [0, 100], ground: [0, 0]}\n    - {image: [50, 70], ground: [5, 25]}\n"

func TestZoneBeyondHorizon(t *testing.T) {
	src := header + horizonCalib + "zones:\n  - {name: sky, type: custom, polygon: [[0, 0], [100, 0], [100, 100], [0, 100]]}\n" +
		"  - {name: near, type: custom, polygon: [[0, 80], [100, 80], [100, 100], [0, 100]]}\n"
	s, err := Parse([]byte(src), "h.yaml")
	require.NoError(t, err)
	require.Nil(t, s.Zone("sky").Ground, "reaches past the horizon")
	require.Greater(t, s.Zone("near").AreaM2, 0.0)
	_, ok := s.ToGround(geom.Point{X: 50, Y: 10})
	require.False(t, ok)

	_, err = Parse([]byte(src+"rules:\n  - {type: crowd, zone: sky, max_density_per_m2: 1}\n"), "h.yaml")
	require.EqualError(t, err, `h.yaml:15:30: rules[0].max_density_per_m2: zone "sky" has no ground area (part of it lies at or above the horizon)`)
}

func TestMaxErrorLimit(t *testing.T) {
	// The fifth pair is 1 m off, so a 0.1 m limit fails.
	src := header + "calibration:\n  max_error_m: 0.1\n  pairs:\n" +
		"    - {image: [0, 0], ground: [0, 0]}\n    - {image: [100, 0], ground: [10, 0]}\n" +
		"    - {image: [100, 100], ground: [10, 10]}\n    - {image: [0, 100], ground: [0, 10]}\n    - {image: [50, 50], ground: [6, 5]}\n"
	_, err := Parse([]byte(src), "m.yaml")
	require.ErrorContains(t, err, "m.yaml:5:16: calibration.max_error_m: reprojection RMS error")
}

func TestZoneAt(t *testing.T) {
	s, err := Load(filepath.Join(examples, "example.yaml"))
	require.NoError(t, err)
	names := func(p geom.Point) []string {
		var out []string
		for _, z := range s.ZoneAt(p) {
			out = append(out, z.Name)
		}
		return out
	}
	require.Equal(t, []string{"road", "xwalk"}, names(geom.Point{X: 390, Y: 450}))
	require.Equal(t, []string{"road"}, names(geom.Point{X: 390, Y: 300}))
	require.Empty(t, names(geom.Point{X: 560, Y: 150}))
}

func TestLineSideAndCrossing(t *testing.T) {
	// Gate along y=390 from left to right; "in: right" is below it on screen.
	l := &Line{Name: "gate", A: geom.Point{X: 560, Y: 390}, B: geom.Point{X: 767, Y: 390}, In: Right}
	require.Equal(t, 1, l.Side(geom.Point{X: 600, Y: 450}))
	require.Equal(t, -1, l.Side(geom.Point{X: 600, Y: 300}))
	require.Equal(t, 0, l.Side(geom.Point{X: 600, Y: 390}))
	require.Equal(t, 1, l.Crossing(geom.Point{X: 600, Y: 380}, geom.Point{X: 600, Y: 400}))
	require.Equal(t, -1, l.Crossing(geom.Point{X: 600, Y: 400}, geom.Point{X: 600, Y: 380}))
	require.Equal(t, 0, l.Crossing(geom.Point{X: 100, Y: 380}, geom.Point{X: 100, Y: 400}), "beside the segment")
	l.In = Left
	require.Equal(t, -1, l.Crossing(geom.Point{X: 600, Y: 380}, geom.Point{X: 600, Y: 400}))
}

func TestScheduleAcrossMidnight(t *testing.T) {
	src := header + "schedules:\n  - name: night\n    windows:\n" +
		"      - {days: [fri], from: \"22:00\", to: \"06:00\"}\n      - {days: [mon], from: \"08:00\", to: \"24:00\"}\n"
	s, err := Parse([]byte(src), "n.yaml")
	require.NoError(t, err)
	night := s.Schedules[0]
	at := func(day int, clock string) time.Time { // day: 2026-06-01 is a Monday
		tm, err := time.Parse("2006-01-02 15:04", "2026-06-0"+string(rune('0'+day))+" "+clock)
		require.NoError(t, err)
		return tm
	}
	require.Equal(t, time.Monday, at(1, "00:00").Weekday())
	tests := []struct {
		day   int
		clock string
		want  bool
	}{
		{5, "21:59", false}, // Friday before the start
		{5, "22:00", true},  // start is inclusive
		{5, "23:59", true},
		{6, "00:00", true}, // Saturday morning: the Friday window carries over
		{6, "05:59", true},
		{6, "06:00", false}, // end is exclusive
		{6, "22:30", false}, // Saturday night is not in the list
		{7, "03:00", false},
		{4, "23:00", false}, // Thursday
		{1, "07:59", false},
		{1, "08:00", true},
		{1, "23:59", true}, // to: 24:00 covers the last minute
		{2, "00:00", false},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, night.Active(at(tc.day, tc.clock)), "day %d %s", tc.day, tc.clock)
	}
}

func TestScheduleTimezone(t *testing.T) {
	s, err := Load(filepath.Join(examples, "example.yaml"))
	require.NoError(t, err)
	night := s.Schedule("night")
	// 20:30 in London (BST, UTC+1) on a Tuesday is 19:30 UTC.
	require.True(t, night.Active(time.Date(2026, 6, 2, 19, 30, 0, 0, time.UTC)))
	require.False(t, night.Active(time.Date(2026, 6, 2, 18, 30, 0, 0, time.UTC)))
	require.True(t, night.Active(time.Date(2026, 6, 6, 12, 0, 0, 0, time.UTC)), "Saturday all day")
	require.True(t, s.Rule("intrusion-plant").Active(time.Date(2026, 6, 6, 12, 0, 0, 0, time.UTC)))
	require.True(t, s.Rule("bench-loiter").Active(time.Time{}), "no schedule: always")
}

func TestAnchorsAndAliases(t *testing.T) {
	src := header + "zones:\n  - {name: a, type: custom, polygon: &sq [[0, 0], [10, 0], [10, 10], [0, 10]]}\n" +
		"  - {name: b, type: restricted, polygon: *sq}\n"
	s, err := Parse([]byte(src), "a.yaml")
	require.NoError(t, err)
	require.Equal(t, s.Zones[0].Polygon, s.Zones[1].Polygon)
}

var located = regexp.MustCompile(`^f\.yaml:\d+:\d+: `)

// FuzzParse checks Parse never panics, stays within a time and memory
// budget, and every error line it returns starts with the file name and a
// line:column.
func FuzzParse(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join(examples, "*.yaml"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		require.NoError(f, err)
		f.Add(data)
	}
	f.Add([]byte(header + road + "rules:\n  - {type: crowd, zone: road, max_count: 3}\n"))
	f.Add([]byte(header + horizonCalib))
	f.Add([]byte("a: [1, 2\n"))
	f.Add([]byte("{}"))
	f.Add([]byte(header + "zones: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["))
	f.Add([]byte(header + "zones:\n  - {name: a, type: custom, polygon: &p [[1,1],[5,1],[5,5]]}\n  - {name: b, type: custom, polygon: *p}\n"))
	f.Add([]byte("a: &a [1,2]\nb: [*a, *a, *a]\nc: [*b, *b]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			return
		}
		// The budget per input: 10 s of validation (the deadline makes
		// Parse say so) and 64 MB allocated. Hostile nesting and aliases
		// are refused long before either.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var s *Scene
		var err error
		alloc := allocated(func() { s, err = ParseContext(ctx, data, "f.yaml") })
		if alloc > 64<<20 {
			t.Fatalf("allocated %d MB for a %d-byte input", alloc>>20, len(data))
		}
		if err != nil && strings.Contains(err.Error(), "validation stopped") {
			t.Fatalf("a %d-byte input took more than 10 s to validate", len(data))
		}
		if err == nil {
			require.NotNil(t, s)
			return
		}
		require.Nil(t, s)
		for _, line := range strings.Split(err.Error(), "\n") {
			if !located.MatchString(line) {
				t.Fatalf("error line without position: %q", line)
			}
		}
	})
}

// A foot point close to a rule's line or zone edge is near the rule; a
// lane's zone is not (direction and speed do not need every frame).
func TestNearRule(t *testing.T) {
	sc, err := Load("../../testdata/scenarios/line-crossing/scene.yaml")
	require.NoError(t, err)
	require.True(t, sc.NearRule(geom.Point{X: 490, Y: 400}, 20), "10 px from the gate")
	require.False(t, sc.NearRule(geom.Point{X: 440, Y: 400}, 20), "60 px away")
	require.False(t, sc.NearRule(geom.Point{X: 500, Y: 760}, 20), "beyond the gate's end")

	hw, err := Load("../../scenes/cdnet-highway.yaml")
	require.NoError(t, err)
	require.False(t, hw.NearRule(geom.Point{X: 0, Y: 220}, 20), "the carriageway's edge: wrong way, speeding and stopping read the path")
	pets, err := Load("../../scenes/pets09-s2l1.yaml")
	require.NoError(t, err)
	var lawn *Zone
	for _, r := range pets.Rules {
		if r.Type == Intrusion {
			lawn = r.Zone
		}
	}
	require.NotNil(t, lawn)
	require.True(t, pets.NearRule(lawn.Polygon[0], 5), "an intrusion zone's corner")
}
