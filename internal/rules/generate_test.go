package rules

import (
	"bytes"
	"cmp"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/motfile"
)

var update = flag.Bool("update", false, "rewrite testdata/scenarios/*/tracks.txt from the scripts in generate_test.go (TestScenarioTracksMatchScripts)")

// key is a foot position (image pixels) at a time (seconds).
type key struct{ t, x, y float64 }

// trackScript moves one track's foot point linearly between keys.
type trackScript struct {
	id     int
	w, h   float64      // box size
	keys   []key        // by time; the track exists from the first to the last
	jitter float64      // uniform ± pixels on the foot point, each frame
	gaps   [][2]float64 // [from, to) seconds with no box (occlusion)
}

// Box sizes: person and car, as seen by the test scenes' 10 px/m cameras.
const (
	pw, ph = 20.0, 50.0
	cw, ch = 40.0, 20.0
)

// scenarioScripts are the track inputs of testdata/scenarios, by folder.
// The scenes use 10 px per metre, so 10 px/s is 1 m/s.
var scenarioScripts = map[string][]trackScript{
	"wrong-way": {
		// U-turn: east 40 m with the lane, pause, then 40 m back west.
		{id: 1, w: cw, h: ch, keys: []key{{0, 100, 350}, {4, 500, 350}, {5, 500, 350}, {9, 100, 350}}},
		// With the lane.
		{id: 2, w: cw, h: ch, keys: []key{{0, 100, 370}, {8, 900, 370}}},
		// Parked in the lane, box jittering ±5 px (0.5 m).
		{id: 3, w: cw, h: ch, keys: []key{{0, 600, 330}, {20, 600, 330}}, jitter: 5},
		// Straight against the lane from the start.
		{id: 4, w: cw, h: ch, keys: []key{{10, 900, 380}, {18, 100, 380}}},
		// Crossing the lane at right angles.
		{id: 5, w: cw, h: ch, keys: []key{{0, 300, 300}, {4, 300, 399}}},
	},
	"jaywalking": {
		// Mid-block crossing of the 20 m road at 1.5 m/s.
		{id: 1, w: pw, h: ph, keys: []key{{0, 200, 250}, {20, 200, 550}}},
		// Standing at the kerb, 0.5 m into the road, for 30 s.
		{id: 2, w: pw, h: ph, keys: []key{{0, 600, 305}, {30, 600, 305}}, jitter: 2},
		// Crossing on the crosswalk.
		{id: 3, w: pw, h: ph, keys: []key{{0, 450, 250}, {20, 450, 550}}},
		// Walking along the kerb, 0.5 m into the road.
		{id: 4, w: pw, h: ph, keys: []key{{0, 550, 305}, {20, 950, 305}}},
		// Two steps into the road to hail a taxi, then back.
		{id: 5, w: pw, h: ph, keys: []key{{0, 800, 290}, {2, 800, 320}, {12, 800, 320}, {14, 800, 290}}},
	},
	"zone-flicker": {
		// A car whose foot point hovers on the sidewalk's edge.
		{id: 1, w: cw, h: ch, keys: []key{{0, 300, 200}, {10, 320, 200}}, jitter: 8},
		// A person on the sidewalk: not a vehicle.
		{id: 2, w: pw, h: ph, keys: []key{{0, 100, 150}, {10, 400, 150}}},
		// A car on the road next to it.
		{id: 3, w: cw, h: ch, keys: []key{{0, 0, 260}, {10, 999, 260}}},
	},
	"loitering": {
		// Stays 30 s; occluded for 5 frames at 10 s.
		{id: 1, w: pw, h: ph, keys: []key{{0, 200, 200}, {30, 210, 210}}, jitter: 2, gaps: [][2]float64{{10, 10.5}}},
		// Walks through the zone in 5 s.
		{id: 2, w: pw, h: ph, keys: []key{{0, 50, 250}, {5, 350, 250}}},
		// Stays 15 s, then leaves.
		{id: 3, w: pw, h: ph, keys: []key{{0, 150, 150}, {15, 150, 150}, {17, 50, 150}}},
	},
	"intrusion-night": intrusionTracks,
	"intrusion-day":   intrusionTracks,
	"stopped-vehicle": {
		// Drives in at 10 m/s, stops 40 s, drives off.
		{id: 1, w: cw, h: ch, keys: []key{{0, 0, 400}, {3, 300, 400}, {43, 300, 400}, {46, 600, 400}}, jitter: 1},
		// Crawls at 1 m/s for 60 s.
		{id: 2, w: cw, h: ch, keys: []key{{0, 0, 350}, {60, 600, 350}}},
	},
	"speeding": {
		{id: 1, w: cw, h: ch, keys: []key{{0, 0, 350}, {999 / 194.44, 999, 350}}}, // 70 km/h
		{id: 2, w: cw, h: ch, keys: []key{{0, 0, 400}, {999 / 133.33, 999, 400}}}, // 48 km/h
		{id: 3, w: cw, h: ch, keys: []key{{0, 999, 450}, {999 / 137.5, 0, 450}}},  // 49.5 km/h
	},
	"crowd-above":        crowdTracks(12, true),
	"crowd-below":        crowdTracks(8, false),
	"dispersal":          dispersalTracks(false),
	"dispersal-parallel": dispersalTracks(true),
	"line-crossing": {
		// In and out across the gate (x = 500, y 100..700; in = x > 500).
		{id: 1, w: pw, h: ph, keys: []key{{0, 300, 400}, {10, 700, 400}}},
		{id: 2, w: pw, h: ph, keys: []key{{0, 700, 300}, {10, 300, 300}}},
		// Standing on the line, box jittering ±5 px (10% of its height).
		{id: 3, w: pw, h: ph, keys: []key{{0, 500, 500}, {20, 500, 500}}, jitter: 5},
		// A car crossing in.
		{id: 4, w: cw, h: ch, keys: []key{{0, 200, 600}, {6, 800, 600}}},
		// Round the top end of the line: no crossing.
		{id: 5, w: pw, h: ph, keys: []key{{0, 450, 50}, {5, 550, 50}}},
		// An id switch just after the crossing: 6 crosses and vanishes 0.1 s
		// later, 7 carries on.
		{id: 6, w: pw, h: ph, keys: []key{{20, 300, 200}, {25.4, 516, 200}}},
		{id: 7, w: pw, h: ph, keys: []key{{25.5, 520, 200}, {30, 700, 200}}},
	},
}

// intrusionTracks: a person in the restricted zone from 1 s to 6 s.
var intrusionTracks = []trackScript{
	{id: 1, w: pw, h: ph, keys: []key{{0, 300, 400}, {1, 500, 400}, {6, 500, 400}}},
}

// crowdTracks puts n people in the plaza from 0 s to 20 s; with again,
// n−4 of them leave at 20 s and others (new ids) come back at 30 s.
func crowdTracks(n int, again bool) []trackScript {
	var out []trackScript
	for i := range n {
		x, y := 550+float64(i%6)*70, 560+float64(i/6)*80
		end := 40.0
		if again && i >= 4 {
			end = 20
			out = append(out, trackScript{id: 100 + i, w: pw, h: ph, keys: []key{{30, x, y}, {40, x, y}}})
		}
		out = append(out, trackScript{id: i + 1, w: pw, h: ph, keys: []key{{0, x, y}, {end, x, y}}, jitter: 1})
	}
	return out
}

// dispersalTracks: six people standing 2 m around (750, 650) for 5 s,
// then running at 4 m/s for 2 s: outwards, or (parallel) all east.
func dispersalTracks(parallel bool) []trackScript {
	var out []trackScript
	for i := range 6 {
		a := float64(i) * math.Pi / 3
		x, y := 750+20*math.Cos(a), 650+20*math.Sin(a)
		dx, dy := 80*math.Cos(a), 80*math.Sin(a)
		if parallel {
			dx, dy = 80, 0
		}
		out = append(out, trackScript{id: i + 1, w: pw, h: ph, keys: []key{{0, x, y}, {5, x, y}, {7, x + dx, y + dy}}})
	}
	return out
}

// TestScenarioTracksMatchScripts holds every testdata/scenarios/*/tracks.txt
// to its script above: each file is exactly what the script renders at
// 10 fps, and every scenario folder has a script. With -update it rewrites
// the files instead.
func TestScenarioTracksMatchScripts(t *testing.T) {
	for name, scripts := range scenarioScripts {
		var want bytes.Buffer
		require.NoError(t, motfile.Write(&want, scriptRows(scripts, 10)))
		path := filepath.Join(scenarioDir, name, "tracks.txt")
		if *update {
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
			require.NoError(t, os.WriteFile(path, want.Bytes(), 0o644))
			continue
		}
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, want.String(), string(got), "%s differs from its script; run go test ./internal/rules -run TestScenarioTracksMatchScripts -update", path)
	}
	dirs, err := filepath.Glob(filepath.Join(scenarioDir, "*", "tracks.txt"))
	require.NoError(t, err)
	require.Len(t, dirs, len(scenarioScripts), "a scenario's tracks.txt has no script")
	for _, d := range dirs {
		require.Contains(t, scenarioScripts, filepath.Base(filepath.Dir(d)), "%s has no script", d)
	}
}

// scriptRows renders scripts at fps as MOTChallenge rows, frame 1 at 0 s.
func scriptRows(scripts []trackScript, fps float64) []motfile.Row {
	var rows []motfile.Row
	for _, s := range scripts {
		rng := rand.New(rand.NewPCG(uint64(s.id), 7))
		first := int(math.Ceil(s.keys[0].t*fps - 1e-9))
		last := int(math.Floor(s.keys[len(s.keys)-1].t*fps + 1e-9))
		for f := first; f <= last; f++ {
			tt := float64(f) / fps
			if s.hidden(tt) {
				continue
			}
			p := s.at(tt)
			p.X += (rng.Float64()*2 - 1) * s.jitter
			p.Y += (rng.Float64()*2 - 1) * s.jitter
			rows = append(rows, motfile.Row{Frame: f + 1, ID: s.id, Box: geom.Box{X: p.X - s.w/2, Y: p.Y - s.h, W: s.w, H: s.h}, Conf: 1})
		}
	}
	slices.SortFunc(rows, func(a, b motfile.Row) int { return cmp.Or(cmp.Compare(a.Frame, b.Frame), cmp.Compare(a.ID, b.ID)) })
	return rows
}

func (s trackScript) hidden(t float64) bool {
	for _, g := range s.gaps {
		if t >= g[0]-1e-9 && t < g[1]-1e-9 {
			return true
		}
	}
	return false
}

// at interpolates the foot point at time t.
func (s trackScript) at(t float64) geom.Point {
	for i := 1; i < len(s.keys); i++ {
		a, b := s.keys[i-1], s.keys[i]
		if t <= b.t {
			u := 0.0
			if b.t > a.t {
				u = (t - a.t) / (b.t - a.t)
			}
			return geom.Point{X: a.x + u*(b.x-a.x), Y: a.y + u*(b.y-a.y)}
		}
	}
	k := s.keys[len(s.keys)-1]
	return geom.Point{X: k.x, Y: k.y}
}
