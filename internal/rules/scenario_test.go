package rules

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/motfile"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/track"
)

const scenarioDir = "../../testdata/scenarios"

// scenarioSpec is a scenario folder's scenario.yaml.
type scenarioSpec struct {
	Description string         `yaml:"description"`
	FPS         float64        `yaml:"fps"`
	Epoch       string         `yaml:"epoch"`       // RFC 3339; empty: schedules always active
	Classes     map[int]string `yaml:"classes"`     // track id → class; default person
	ToleranceS  float64        `yaml:"tolerance_s"` // on start and end; default 0.5
	Counts      []countSpec    `yaml:"counts"`      // line-crossing totals over all buckets
}

type countSpec struct {
	Rule      string `yaml:"rule"`
	Class     string `yaml:"class"`
	Direction string `yaml:"direction"`
	N         int    `yaml:"n"`
}

// scenarioRun is a replayed scenario's output.
type scenarioRun struct {
	events []event.Event
	counts []Count
}

// TestScenarios replays every folder under testdata/scenarios through the
// engine and compares the alerts with expected.jsonl.
func TestScenarios(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(scenarioDir, "*", "scene.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, dirs)
	for _, f := range dirs {
		dir := filepath.Dir(f)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			spec := readSpec(t, dir)
			run := replayScenario(t, dir, spec)
			want, err := event.ReadFile(filepath.Join(dir, "expected.jsonl"))
			require.NoError(t, err)
			compareEvents(t, want, run.events, spec.ToleranceS)
			compareCounts(t, spec.Counts, run.counts)
		})
	}
}

func readSpec(t *testing.T, dir string) scenarioSpec {
	data, err := os.ReadFile(filepath.Join(dir, "scenario.yaml"))
	require.NoError(t, err)
	var spec scenarioSpec
	require.NoError(t, yaml.Unmarshal(data, &spec))
	require.Positive(t, spec.FPS, "scenario.yaml: fps")
	if spec.ToleranceS == 0 {
		spec.ToleranceS = 0.5
	}
	return spec
}

// replayScenario feeds the track file frame by frame, empty frames
// included, ending tracks as the tracker would (track.Replay), runs 3 s of
// empty frames past the end so that vanished tracks end, then closes the
// engine.
func replayScenario(t *testing.T, dir string, spec scenarioSpec) scenarioRun {
	sc, err := scene.Load(filepath.Join(dir, "scene.yaml"))
	require.NoError(t, err)
	var opt Options
	if spec.Epoch != "" {
		opt.Epoch, err = time.Parse(time.RFC3339, spec.Epoch)
		require.NoError(t, err)
	}
	rows, err := motfile.ReadFile(filepath.Join(dir, "tracks.txt"))
	require.NoError(t, err)
	frames := framesOf(t, rows, spec.Classes)
	e, err := New(sc, opt)
	require.NoError(t, err)
	last := 0
	for f := range frames {
		last = max(last, f)
	}
	pts := func(f int) time.Duration { return time.Duration(float64(f-1) / spec.FPS * float64(time.Second)) }
	var evs []event.Event
	end := last + int(3*spec.FPS)
	rep := track.NewReplay(frames, track.DefaultConfig(spec.FPS))
	for f := 1; f <= end; f++ {
		evs = append(evs, e.Update(pts(f), rep.Update(f))...)
		evs = append(evs, e.End(pts(f), rep.Ended())...)
	}
	evs = append(evs, e.Close(pts(end))...)
	return scenarioRun{events: evs, counts: e.Counts()}
}

// framesOf groups rows into per-frame tracker output.
func framesOf(t *testing.T, rows []motfile.Row, classes map[int]string) map[int][]track.Track {
	out := map[int][]track.Track{}
	for _, r := range rows {
		name := classes[r.ID]
		if name == "" {
			name = "person"
		}
		c, ok := detect.ClassByName(name)
		require.True(t, ok, "class %q", name)
		out[r.Frame] = append(out[r.Frame], track.Track{ID: r.ID, Class: c, Box: r.Box, Score: float32(r.Conf)})
	}
	return out
}

// compareEvents matches events in order of end time; fields left empty in
// the expectation are not compared.
func compareEvents(t *testing.T, want, got []event.Event, tol float64) {
	sortEvents(want)
	sortEvents(got)
	dump, _ := json.MarshalIndent(stripPaths(got), "", "  ")
	require.Len(t, got, len(want), "events:\n%s", dump)
	for i, w := range want {
		g := got[i]
		require.Equal(t, w.Rule, g.Rule, "event %d\n%s", i, dump)
		for _, f := range [][2]string{{w.Name, g.Name}, {w.Zone, g.Zone}, {w.Line, g.Line}, {w.Lane, g.Lane}, {w.Direction, g.Direction}, {w.Class, g.Class}} {
			if f[0] != "" {
				require.Equal(t, f[0], f[1], "event %d\n%s", i, dump)
			}
		}
		if len(w.Tracks) > 0 {
			require.Equal(t, w.Tracks, g.Tracks, "event %d\n%s", i, dump)
		}
		require.InDelta(t, w.Start, g.Start, tol, "event %d start\n%s", i, dump)
		require.InDelta(t, w.End, g.End, tol, "event %d end\n%s", i, dump)
		require.NotEmpty(t, g.Explanation)
		require.LessOrEqual(t, len(g.Path), maxEventPath)
	}
}

func sortEvents(evs []event.Event) {
	sort.SliceStable(evs, func(i, j int) bool {
		a, b := evs[i], evs[j]
		if math.Abs(a.End-b.End) > 1e-6 {
			return a.End < b.End
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		return slices.Compare(a.Tracks, b.Tracks) < 0
	})
}

// stripPaths keeps failure dumps readable.
func stripPaths(evs []event.Event) []event.Event {
	out := slices.Clone(evs)
	for i := range out {
		out[i].Path = nil
	}
	return out
}

func compareCounts(t *testing.T, want []countSpec, got []Count) {
	for _, w := range want {
		n := 0
		for _, c := range got {
			if (w.Rule == "" || c.Rule == w.Rule) && c.Class == w.Class && c.Direction == w.Direction {
				n += c.N
			}
		}
		require.Equal(t, w.N, n, "count %+v in %+v", w, got)
	}
}
