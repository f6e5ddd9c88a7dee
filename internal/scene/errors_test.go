package scene

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const header = "version: 1\ncamera: cam\nimage: {width: 100, height: 100}\n"

const road = "zones:\n  - {name: road, type: carriageway, polygon: [[0, 0], [50, 0], [50, 50]]}\n"

// calib is an exact 4-pair calibration: 1 pixel = 0.1 m.
const calib = "calibration:\n  pairs:\n" +
	"    - {image: [0, 0], ground: [0, 0]}\n    - {image: [100, 0], ground: [10, 0]}\n" +
	"    - {image: [100, 100], ground: [10, 10]}\n    - {image: [0, 100], ground: [0, 10]}\n"

// TestParseErrors has one malformed scene per kind of error, with the
// exact messages: position, field path and text.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"syntax", header + "zones: [\n",
			[]string{"s.yaml:4:8: sequence end token ']' not found"}},
		{"empty", "# nothing\n", []string{"s.yaml:1:1: empty scene file"}},
		{"two documents", header + "---\n" + header, []string{"s.yaml:5:1: a scene file holds one YAML document"}},
		{"not a mapping", "- 1\n", []string{"s.yaml:1:1: want a mapping, got a list"}},
		{"unknown top-level field", header + "zonez: []\n",
			[]string{"s.yaml:4:1: zonez: unknown field (known: version, camera, image, calibration, zones, lines, lanes, schedules, rules)"}},
		{"missing required", "version: 1\nimage: {width: 100, height: 100}\n",
			[]string{"s.yaml:1:1: camera: missing required field"}},
		{"wrong version", "version: 2\ncamera: cam\nimage: {width: 100, height: 100}\n",
			[]string{"s.yaml:1:10: version: unsupported version 2 (this build reads version 1)"}},
		{"wrong type", "version: 1\ncamera: cam\nimage: {width: \"wide\", height: 100}\n",
			[]string{"s.yaml:3:16: image.width: want a whole number, got a string"}},
		{"bad name", "version: 1\ncamera: cam 1\nimage: {width: 100, height: 100}\n",
			[]string{`s.yaml:2:9: camera: invalid name "cam 1": use letters, digits, '_', '-' and '.', starting with a letter or digit`}},
		{"nested missing", header + "zones:\n  - {name: road, polygon: [[0, 0], [50, 0], [50, 50]]}\n",
			[]string{"s.yaml:5:5: zones[0].type: missing required field"}},
		{"bad zone type", header + "zones:\n  - {name: road, type: highway, polygon: [[0, 0], [50, 0], [50, 50]]}\n",
			[]string{`s.yaml:5:24: zones[0].type: unknown value "highway" (known: carriageway, crosswalk, sidewalk, restricted, parking, custom)`}},
		{"too few points", header + "zones:\n  - {name: road, type: carriageway, polygon: [[0, 0], [50, 0]]}\n",
			[]string{"s.yaml:5:46: zones[0].polygon: invalid polygon: polygon has 2 points, need at least 3"}},
		{"self-intersecting", header + "zones:\n  - {name: road, type: carriageway, polygon: [[0, 0], [50, 50], [50, 0], [0, 50]]}\n",
			[]string{"s.yaml:5:46: zones[0].polygon: invalid polygon: edges 0 and 2 intersect at (25, 25)"}},
		{"outside image", header + "zones:\n  - {name: road, type: carriageway, polygon: [[0, 0], [150, 0], [50, 50]]}\n",
			[]string{"s.yaml:5:55: zones[0].polygon[1]: point [150, 0] is outside the 100x100 image"}},
		{"bad point", header + "zones:\n  - {name: road, type: carriageway, polygon: [[0, 0], [50], [50, 50]]}\n",
			[]string{"s.yaml:5:55: zones[0].polygon[1]: want a point [x, y], got 1 numbers"}},
		{"duplicate zone", header + road + "  - {name: road, type: sidewalk, polygon: [[0, 0], [5, 0], [5, 5]]}\n",
			[]string{`s.yaml:6:12: zones[1].name: duplicate zone name "road"`}},
		{"unknown zone", header + road +
			"  - {name: xwalk, type: crosswalk, polygon: [[0, 0], [10, 0], [10, 10]]}\nrules:\n  - type: loitering\n    zone: plazza\n    min_dwell: 10s\n",
			[]string{`s.yaml:9:11: rules[0].zone: unknown zone "plazza" (known: road, xwalk)`}},
		{"parameter of another type", header + road + "rules:\n  - {type: loitering, zone: road, min_dwell: 10s, speed_limit_kmh: 50}\n",
			[]string{"s.yaml:7:51: rules[0].speed_limit_kmh: not a parameter of loitering rules (they take: name, type, classes, schedule, severity, cooldown, zone, min_dwell)"}},
		{"unknown rule field", header + road + "rules:\n  - {type: loitering, zone: road, min_dwell: 10s, colour: red}\n",
			[]string{"s.yaml:7:51: rules[0].colour: unknown field (known: name, type, classes, schedule, severity, cooldown, zone, line, lane, min_dwell, min_distance_m, speed_limit_kmh, smoothing, max_count, max_density_per_m2, min_tracks, min_speed_ms, window, bucket)"}},
		{"missing parameter", header + road + "rules:\n  - {type: loitering, zone: road}\n",
			[]string{"s.yaml:7:5: rules[0].min_dwell: missing required field"}},
		{"speeding without calibration", header + road + "rules:\n  - {type: speeding, zone: road, speed_limit_kmh: 50}\n",
			[]string{"s.yaml:7:12: rules[0].type: speeding rules measure in metres and need a ground-plane calibration (add a calibration: section)"}},
		{"metric parameter without calibration", header + road + "rules:\n  - {type: jaywalking, zone: road, min_distance_m: 3}\n",
			[]string{"s.yaml:7:36: rules[0].min_distance_m: is in metres and needs a ground-plane calibration (add a calibration: section)"}},
		{"wrong zone type", header + road + "  - {name: walk, type: sidewalk, polygon: [[60, 60], [90, 60], [90, 90]]}\nrules:\n  - {type: stopped_vehicle, zone: walk, min_dwell: 30s}\n",
			[]string{`s.yaml:8:35: rules[0].zone: zone "walk" is a sidewalk zone, want carriageway`}},
		{"unknown class", header + road + "rules:\n  - {type: intrusion, zone: road, classes: [person, dragon]}\n",
			[]string{`s.yaml:7:53: rules[0].classes[1]: unknown class "dragon" (known: person, bicycle, car, motorcycle, bus, truck, backpack, umbrella, handbag, suitcase, vehicle, all)`}},
		{"bad severity", header + road + "rules:\n  - {type: intrusion, zone: road, severity: urgent}\n",
			[]string{`s.yaml:7:45: rules[0].severity: unknown value "urgent" (known: info, low, medium, high, critical)`}},
		{"bad duration", header + road + "rules:\n  - {type: intrusion, zone: road, cooldown: 30}\n",
			[]string{"s.yaml:7:45: rules[0].cooldown: want a duration such as \"30s\" or \"5m\", got a number"}},
		{"smoothing too short", header + calib + road + "rules:\n  - {type: speeding, zone: road, speed_limit_kmh: 50, smoothing: 200ms}\n",
			[]string{"s.yaml:13:66: rules[0].smoothing: must be at least 1s, got 200ms"}},
		{"duplicate rule name", header + road + "rules:\n  - {type: intrusion, zone: road}\n  - {type: intrusion, zone: road, classes: [car]}\n",
			[]string{`s.yaml:8:5: rules[1].name: duplicate rule name "intrusion-road" (also rules[0]); give one of them a distinct name`}},
		{"crowd without limit", header + road + "rules:\n  - {type: crowd, zone: road}\n",
			[]string{"s.yaml:7:5: rules[0]: crowd rules need exactly one of max_count or max_density_per_m2"}},
		{"unknown schedule", header + road + "rules:\n  - {type: intrusion, zone: road, schedule: nite}\n",
			[]string{`s.yaml:7:45: rules[0].schedule: unknown schedule "nite" (none defined)`}},
		{"unknown line", header + "rules:\n  - {type: line_crossing, line: gate}\n",
			[]string{`s.yaml:5:33: rules[0].line: unknown line "gate" (none defined)`}},
		{"bad line side", header + "lines:\n  - {name: gate, points: [[0, 10], [90, 10]], in: up}\n",
			[]string{`s.yaml:5:51: lines[0].in: unknown value "up" (known: left, right)`}},
		{"lane arrow outside zone", header + road + "lanes:\n  - {name: l1, zone: road, direction: [[40, 10], [10, 40]]}\n",
			[]string{`s.yaml:7:50: lanes[0].direction[1]: arrow point [10, 40] is outside zone "road"`}},
		{"empty window", header + "schedules:\n  - name: s\n    windows:\n      - {from: \"08:00\", to: \"08:00\"}\n",
			[]string{`s.yaml:7:29: schedules[0].windows[0].to: window is empty (from = to); for a whole day use from: "00:00", to: "24:00"`}},
		{"bad time", header + "schedules:\n  - name: s\n    windows:\n      - {days: [mon, funday], from: \"8:00\", to: \"24:00\"}\n",
			[]string{
				`s.yaml:7:22: schedules[0].windows[0].days[1]: unknown day "funday" (known: mon, tue, wed, thu, fri, sat, sun, weekdays, weekend, daily)`,
				`s.yaml:7:37: schedules[0].windows[0].from: want a time of day "HH:MM": "8:00" is not HH:MM`,
			}},
		{"too few pairs", header + "calibration:\n  pairs:\n    - {image: [0, 0], ground: [0, 0]}\n    - {image: [100, 0], ground: [10, 0]}\n    - {image: [0, 100], ground: [0, 10]}\n",
			[]string{"s.yaml:6:5: calibration.pairs: need at least 4 pairs to determine a homography, have 3"}},
		{"rectangle corners out of order", header + "calibration:\n  rectangle: {image: [[0, 0], [90, 90], [90, 0], [0, 90]], width_m: 3, length_m: 10}\n",
			[]string{"s.yaml:5:22: calibration.rectangle.image: corners must go around the rectangle in order: edges 0 and 2 intersect at (45, 45)"}},
		{"degenerate calibration", header + "calibration:\n  rectangle: {image: [[0, 0], [50, 0], [100, 0], [0, 100]], width_m: 3, length_m: 10}\n",
			[]string{"s.yaml:5:14: calibration.rectangle: cannot fit a ground-plane homography: image points: degenerate homography: three of the four points are collinear"}},
		{"collinear pairs", header + "calibration:\n  pairs:\n" +
			"    - {image: [0, 0], ground: [0, 0]}\n    - {image: [50, 0], ground: [5, 0]}\n" +
			"    - {image: [100, 0], ground: [10, 0]}\n    - {image: [0, 100], ground: [0, 10]}\n",
			[]string{"s.yaml:6:5: calibration.pairs: cannot fit a ground-plane homography: image points: degenerate homography: three of the four points are collinear"}},
		{"both calibrations", header + "calibration:\n  pairs: []\n  rectangle: {}\n",
			[]string{"s.yaml:6:3: calibration.rectangle: give either pairs or rectangle, not both"}},
		{"unknown alias", header + "zones: *nope\n", []string{"s.yaml:4:8: zones: unknown alias *nope"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse([]byte(tc.src), "s.yaml")
			require.Nil(t, s)
			require.Error(t, err)
			require.Equal(t, strings.Join(tc.want, "\n"), err.Error())
			var es Errors
			require.True(t, errors.As(err, &es))
			require.Len(t, es, len(tc.want))
		})
	}
}

// TestParseReportsAllErrors checks Parse does not stop at the first error
// and lists them in file order.
func TestParseReportsAllErrors(t *testing.T) {
	src := "version: 3\ncamera: cam\nimage: {width: 100, height: -1}\n" + road +
		"rules:\n  - {type: loitering, zone: rood, min_dwell: 1s}\n  - {type: teleport}\n"
	_, err := Parse([]byte(src), "multi.yaml")
	require.EqualError(t, err, strings.Join([]string{
		"multi.yaml:1:10: version: unsupported version 3 (this build reads version 1)",
		"multi.yaml:3:29: image.height: must be between 1 and 65536, got -1",
		`multi.yaml:7:29: rules[0].zone: unknown zone "rood" (known: road)`,
		`multi.yaml:8:12: rules[1].type: unknown value "teleport" (known: wrong_way, jaywalking, vehicle_in_pedestrian_zone, intrusion, loitering, stopped_vehicle, crowd, dispersal, speeding, line_crossing)`,
	}, "\n"))
	var e *Error
	require.True(t, errors.As(err, &e))
	require.Equal(t, "version", e.Path)
	require.Equal(t, 1, e.Line)
}
