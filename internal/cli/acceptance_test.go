package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/eventeval"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/moteval"
	"github.com/vigil-cctv/vigil/internal/motfile"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/trafficref"
)

const (
	petsScene     = "../../scenes/pets09-s2l1.yaml"
	tripwireScene = "../../scenes/pets09-tripwires.yaml"
	highwayScene  = "../../scenes/cdnet-highway.yaml"
)

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("full-footage acceptance test skipped in -short mode")
	}
}

func analyze(t *testing.T, args ...string) {
	t.Helper()
	code, _, stderr := vigil(t, append([]string{"analyze", "--progress", "none"}, args...)...)
	require.Equal(t, 0, code, stderr)
}

// TestPETS09Acceptance runs the full pipeline on vtest.avi (PETS09-S2L1)
// once, with default settings, and scores (1) its tracks against the human
// ground truth and (2) its scene alerts against the alerts the same rules
// raise on the ground-truth tracks.
func TestPETS09Acceptance(t *testing.T) {
	skipShort(t)
	needSetup(t)
	gt := shared(t, "data/mot/PETS09-S2L1/gt.txt")
	dir := t.TempDir()
	pred, predEvents, refEvents := filepath.Join(dir, "pets.txt"), filepath.Join(dir, "pred.jsonl"), filepath.Join(dir, "ref.jsonl")
	frames := filepath.Join(dir, "frames.jsonl")
	analyze(t, "--classes", "person", "--mot", pred, "--jsonl", frames, "--scene", petsScene, "--events", predEvents, vtest)
	analyze(t, "--tracks-from", gt, "--seq-fps", "10", "--scene", petsScene, "--events", refEvents)

	code, stdout, stderr := vigil(t, "eval", "mot", "--gt", gt, "--pred", pred, "--json")
	require.Equal(t, 0, code, stderr)
	var res moteval.Result
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	t.Logf("PETS09-S2L1 tracking: MOTA %.3f IDF1 %.3f HOTA %.3f IDSW %d", res.MOTA, res.IDF1, res.HOTA, res.IDSW)
	// The README claims MOTA 79.1, IDF1 72.6, HOTA 56.3, 28 id switches.
	// Run to run the figures are identical on one machine (the detector,
	// the tracker and the scorer are deterministic); the margin covers
	// ONNX Runtime's floating point on other CPUs.
	require.InDelta(t, 0.791, res.MOTA, 0.005)
	require.InDelta(t, 0.726, res.IDF1, 0.005)
	require.InDelta(t, 0.563, res.HOTA, 0.005)
	require.InDelta(t, 28, res.IDSW, 3)

	ref, err := event.ReadFile(refEvents)
	require.NoError(t, err)
	got, err := event.ReadFile(predEvents)
	require.NoError(t, err)
	rep := eventeval.Evaluate(ref, got, eventeval.DefaultOptions())
	// The README's table: line crossing 1.000 and jaywalking 0.919 on 26
	// and 18 reference events, 0.948 overall. The reference is the same
	// rules on the ground-truth tracks: a consistency check of detection
	// and tracking, not of the rules themselves.
	want := map[string]float64{"line_crossing": 1.000, "jaywalking": 0.919}
	judged := 0
	for _, c := range rep.PerRule {
		t.Logf("PETS09-S2L1 %-14s ref %2d pred %2d P %.3f R %.3f F1 %.3f", c.Rule, c.GT, c.Pred, c.Precision, c.Recall, c.F1)
		if f1, ok := want[c.Rule]; ok {
			judged++
			require.InDelta(t, f1, c.F1, 0.03, "rule %s (one event either way moves jaywalking by about 0.03)", c.Rule)
		}
	}
	require.Equal(t, len(want), judged, "the scene must give line crossings and jaywalking")
	t.Logf("PETS09-S2L1 events overall F1 %.3f", rep.Overall.F1)
	require.InDelta(t, 0.948, rep.Overall.F1, 0.025)

	// The README's plaza-wide tripwire recall (default tracker).
	requireTripwireRecall(t, gt, frames, 227)

	quietMotion(t, vtest, frames)
	learn := evalAnomaly(t, "--scene", petsScene, "--learn", frames).Learn
	t.Logf("PETS09-S2L1 baseline: %d anomaly alerts in %.2f h after warm-up (%.2f per camera-hour)", learn.Alerts, learn.AfterFor, learn.PerHour)
	require.Zero(t, learn.Alerts, "played normally, the README's 0 anomaly alerts after warm-up")
}

// requireTripwireRecall replays the ground truth and a run's tracks
// (--jsonl) through the grid of tripwires over the whole PETS09 plaza
// (scenes/pets09-tripwires.yaml) and requires the line crossings the run
// finds of the reference's 239 to be the README's figure. Replaying a
// run's tracks gives exactly the alerts the live run gave (rules see
// tracks only). Deterministic on one machine; the margin of 3 crossings
// covers ONNX Runtime's floating point elsewhere.
func requireTripwireRecall(t *testing.T, gt, frames string, want int) {
	t.Helper()
	dir := t.TempDir()
	ref, pred := filepath.Join(dir, "ref.jsonl"), filepath.Join(dir, "pred.jsonl")
	analyze(t, "--tracks-from", gt, "--seq-fps", "10", "--scene", tripwireScene, "--events", ref)
	analyze(t, "--tracks-from", frames, "--seq-fps", "10", "--scene", tripwireScene, "--events", pred)
	r, err := event.ReadFile(ref)
	require.NoError(t, err)
	p, err := event.ReadFile(pred)
	require.NoError(t, err)
	rep := eventeval.Evaluate(r, p, eventeval.DefaultOptions())
	o := rep.Overall
	t.Logf("PETS09-S2L1 plaza-wide tripwires: ref %d pred %d tp %d P %.3f R %.3f F1 %.3f", o.GT, o.Pred, o.TP, o.Precision, o.Recall, o.F1)
	require.Equal(t, 239, o.GT, "the reference: the grid's rules on the ground-truth tracks")
	require.InDelta(t, want, o.TP, 3)
}

// quietMotion loops normal footage with its tracks through the motion cue
// for 20 minutes of stream time (make eval-motion runs the README's hour)
// and requires no alert after the 5-minute warm-up: each would be a false
// alarm. The run is deterministic.
func quietMotion(t *testing.T, input, frames string) {
	t.Helper()
	code, stdout, stderr := vigil(t, "eval", "motion", "--json", "--input", input, "--tracks", frames, "--hours", "0.34", "--warmup", "5m")
	require.Equal(t, 0, code, stderr)
	var rep motionReport
	require.NoError(t, json.Unmarshal([]byte(stdout), &rep))
	t.Logf("motion cue on %s: %d alerts in %.2f h after warm-up, %.1f ms/frame", input, rep.Alerts, rep.Hours, rep.MSPerFrame)
	require.GreaterOrEqual(t, rep.Hours, 0.25)
	require.Zero(t, rep.Alerts, "normal footage raises no motion alert: %v", rep.Examples)
}

// evalAnomaly runs vigil eval anomaly with a 10-minute warm-up and one
// hour of the learn footage looped.
func evalAnomaly(t *testing.T, args ...string) anomalyReport {
	t.Helper()
	code, stdout, stderr := vigil(t, append([]string{"eval", "anomaly", "--json", "--warmup", "10m", "--hours", "1"}, args...)...)
	require.Equal(t, 0, code, stderr)
	var rep anomalyReport
	require.NoError(t, json.Unmarshal([]byte(stdout), &rep))
	require.Greater(t, rep.Learn.AfterFor, 0.8)
	return rep
}

// TestHighwayWrongWayAcceptance plays the highway camera forwards (no
// vehicle drives the wrong way) and in reverse (every moving vehicle does).
// Reference vehicles are forward tracks that travel at least 8 m on the
// carriageway; each reversed track is mapped to the forward track it
// overlaps most in time-mirrored frames.
func TestHighwayWrongWayAcceptance(t *testing.T) {
	skipShort(t)
	needSetup(t)
	input := shared(t, "data/cdnet-highway/input")
	dir := t.TempDir()
	fwdTracks, fwdEvents := filepath.Join(dir, "fwd.txt"), filepath.Join(dir, "fwd.jsonl")
	revTracks, revEvents := filepath.Join(dir, "rev.txt"), filepath.Join(dir, "rev.jsonl")
	fwdFrames, revFrames := filepath.Join(dir, "fwd-frames.jsonl"), filepath.Join(dir, "rev-frames.jsonl")
	analyze(t, "--classes", "vehicle", "--mot", fwdTracks, "--jsonl", fwdFrames, "--scene", highwayScene, "--events", fwdEvents, input)
	analyze(t, "--classes", "vehicle", "--reverse", "--mot", revTracks, "--jsonl", revFrames, "--scene", highwayScene, "--events", revEvents, input)

	fwdAlerts, err := event.ReadFile(fwdEvents)
	require.NoError(t, err)
	require.Empty(t, wrongWay(fwdAlerts), "played forwards, no vehicle drives the wrong way")
	quietMotion(t, input, fwdFrames)

	sc, err := scene.Load(highwayScene)
	require.NoError(t, err)
	fwd := byTrack(t, fwdTracks)
	rev := byTrack(t, revTracks)
	const frames = 1700
	moving := map[int]bool{}
	for id, rows := range fwd {
		if travelled(sc, rows) >= 8 {
			moving[id] = true
		}
	}
	revAlerts := wrongWay(readEvents(t, revEvents))
	perVehicle := map[int]int{}
	unmatched := 0
	for _, a := range revAlerts {
		v := mirrorMatch(rev[a.Tracks[0]], fwd, frames)
		if !moving[v] {
			unmatched++
			continue
		}
		perVehicle[v]++
	}
	var twice []int
	for v, n := range perVehicle {
		if n > 1 {
			twice = append(twice, v)
		}
	}
	sort.Ints(twice)
	recall := float64(len(perVehicle)) / float64(len(moving))
	t.Logf("highway: %d vehicles travel >= 8 m; reversed: %d wrong-way alerts, recall %.3f, %d vehicles alerted twice, %d alerts on no such vehicle",
		len(moving), len(revAlerts), recall, len(twice), unmatched)
	require.Equal(t, 30, len(moving))
	require.Equal(t, 1.0, recall, "every vehicle that travels 8 m reversed")
	require.Empty(t, twice, "exactly one alert per vehicle")
	require.Zero(t, unmatched, "no alert elsewhere")

	// The same alerts against vehicles labelled by hand from the frames
	// (testdata/highway): a reference independent of the rule's own
	// 8 m criterion.
	labels, err := trafficref.Load("../../testdata/highway/vehicles.csv")
	require.NoError(t, err)
	byHand := trafficref.Score(labels, revAlerts, trafficref.Road{H: *sc.Homography},
		trafficref.Playback{Frames: frames, FPS: 25, Reversed: true}, trafficref.DefaultOptions)
	t.Logf("highway reversed against the hand labels: %s", byHand.String())
	require.Equal(t, 1.0, byHand.Recall, byHand.String())
	require.Empty(t, byHand.Twice)
	require.Empty(t, byHand.Unmatched)

	// The learned baseline knows no rule: it learns the forward traffic,
	// stays quiet on it, and flags the reversed vehicles.
	rep := evalAnomaly(t, "--scene", highwayScene, "--learn", fwdFrames, "--score", revFrames)
	alertedVehicles := map[int]bool{}
	for _, id := range rep.Score[0].Alerted {
		if v := mirrorMatch(rev[id], fwd, frames); moving[v] {
			alertedVehicles[v] = true
		}
	}
	anomalyRecall := float64(len(alertedVehicles)) / float64(len(moving))
	t.Logf("highway baseline: forwards %d anomaly alerts in %.2f h after warm-up (%.2f per camera-hour); reversed %d alerts %v, recall %.3f of moving vehicles",
		rep.Learn.Alerts, rep.Learn.AfterFor, rep.Learn.PerHour, rep.Score[0].Alerts, rep.Score[0].ByKind, anomalyRecall)
	require.Zero(t, rep.Learn.Alerts, "played forwards, the README's 0 anomaly alerts after warm-up")
	// README: 26 of the 30 moving vehicles (0.867), none twice.
	require.InDelta(t, 0.867, anomalyRecall, 0.07, "played in reverse, the baseline flags the reversed traffic")
	require.Equal(t, rep.Score[0].Alerts, len(rep.Score[0].Alerted), "no reversed track alerted twice")
}

func readEvents(t *testing.T, path string) []event.Event {
	t.Helper()
	evs, err := event.ReadFile(path)
	require.NoError(t, err)
	return evs
}

func wrongWay(evs []event.Event) []event.Event {
	var out []event.Event
	for _, e := range evs {
		if e.Rule == string(scene.WrongWay) {
			out = append(out, e)
		}
	}
	return out
}

func byTrack(t *testing.T, path string) map[int][]motfile.Row {
	t.Helper()
	rows, err := motfile.ReadFile(path)
	require.NoError(t, err)
	out := map[int][]motfile.Row{}
	for _, r := range rows {
		out[r.ID] = append(out[r.ID], r)
	}
	return out
}

// travelled is the ground distance between a track's first and last foot
// points on the carriageway.
func travelled(sc *scene.Scene, rows []motfile.Row) float64 {
	var pts []geom.Point
	for _, r := range rows {
		foot := r.Box.Foot()
		if sc.Zones[0].Contains(foot) {
			if g, ok := sc.ToGround(foot); ok {
				pts = append(pts, g)
			}
		}
	}
	if len(pts) < 2 {
		return 0
	}
	return pts[0].Dist(pts[len(pts)-1])
}

// mirrorMatch finds the forward track that a reversed track overlaps most:
// reversed MOT frame f shows forward MOT frame frames+1-f.
func mirrorMatch(rev []motfile.Row, fwd map[int][]motfile.Row, frames int) int {
	at := map[int]map[int]geom.Box{}
	for id, rows := range fwd {
		for _, r := range rows {
			if at[r.Frame] == nil {
				at[r.Frame] = map[int]geom.Box{}
			}
			at[r.Frame][id] = r.Box
		}
	}
	score := map[int]float64{}
	for _, r := range rev {
		for id, b := range at[frames+1-r.Frame] {
			score[id] += b.IoU(r.Box)
		}
	}
	best, bestScore := -1, 0.0
	for id, s := range score {
		if s > bestScore || (s == bestScore && id < best) {
			best, bestScore = id, s
		}
	}
	return best
}

// TestDemoQueueAcceptance replays the plaza camera of configs/demo.yaml
// (the one that raises events; the highway's traffic keeps to its lanes)
// through the chain and the protocols with vigil eval queue, for a tenth
// of the hour the README reports, and checks its figure: about 2,162
// events an hour, of which 3 became queue items in the whole hour. Queue
// items only grow with time, so a tenth of the hour queues at most 3.
func TestDemoQueueAcceptance(t *testing.T) {
	skipShort(t)
	needSetup(t)
	t.Chdir("../..") // the demo config names its files from the repository root
	demo, err := os.ReadFile("configs/demo.yaml")
	require.NoError(t, err)
	cut := bytes.Index(demo, []byte("  - id: highway"))
	require.Positive(t, cut, "configs/demo.yaml lists the highway camera after the plaza")
	cfg := filepath.Join(t.TempDir(), "plaza.yaml")
	require.NoError(t, os.WriteFile(cfg, demo[:cut], 0o600))
	code, stdout, stderr := vigil(t, "eval", "queue", "--config", cfg, "--hours", "0.1", "--json")
	require.Equal(t, 0, code, stderr)
	var rep queueReport
	require.NoError(t, json.Unmarshal([]byte(stdout), &rep))
	require.Len(t, rep.Cameras, 1)
	plaza := rep.Cameras[0]
	t.Logf("%s: %.2f h, %d events, %d queue items (%.1f per hour)", plaza.Camera, plaza.Hours, plaza.Events, plaza.QueueItems, plaza.QueuePerHour)
	hourly := float64(plaza.Events) / plaza.Hours
	require.InDelta(t, 2162, hourly, 2162*0.15, "events per hour as in the README")
	require.Positive(t, plaza.QueueItems)
	require.LessOrEqual(t, plaza.QueueItems, 3, "the hour queued 3 items")
}
