package rules

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/track"
)

const exampleScene = "../../testdata/scenes/example.yaml"

func loadScene(t testing.TB, path string) *scene.Scene {
	sc, err := scene.Load(path)
	require.NoError(t, err)
	return sc
}

// randomFrames draws a random stream on a 768×576 frame at 10 fps: tracks
// random-walking with gaps, persons and cars.
func randomFrames(t *rapid.T) [][]track.Track {
	n := rapid.IntRange(1, 8).Draw(t, "tracks")
	frames := make([][]track.Track, rapid.IntRange(10, 300).Draw(t, "frames"))
	for id := 1; id <= n; id++ {
		class := rapid.SampledFrom([]detect.Class{detect.Person, detect.Car}).Draw(t, "class")
		p := geom.Point{X: rapid.Float64Range(0, 767).Draw(t, "x"), Y: rapid.Float64Range(100, 575).Draw(t, "y")}
		v := geom.Point{X: rapid.Float64Range(-20, 20).Draw(t, "vx"), Y: rapid.Float64Range(-20, 20).Draw(t, "vy")}
		from := rapid.IntRange(0, len(frames)-1).Draw(t, "from")
		for f := from; f < len(frames); f++ {
			if rapid.IntRange(0, 9).Draw(t, "seen") == 0 {
				continue
			}
			p = p.Add(v.Add(geom.Point{X: rapid.Float64Range(-4, 4).Draw(t, "jx"), Y: rapid.Float64Range(-4, 4).Draw(t, "jy")}))
			p.X, p.Y = math.Max(0, math.Min(767, p.X)), math.Max(100, math.Min(575, p.Y))
			frames[f] = append(frames[f], track.Track{ID: id, Class: class, Box: geom.Box{X: p.X - 10, Y: p.Y - 40, W: 20, H: 40}})
		}
	}
	return frames
}

func replay(t require.TestingT, sc *scene.Scene, frames [][]track.Track) []event.Event {
	e, err := New(sc, Options{})
	require.NoError(t, err)
	var out []event.Event
	byFrame := map[int][]track.Track{}
	for f, ts := range frames {
		byFrame[f] = ts
	}
	rep := track.NewReplay(byFrame, track.DefaultConfig(10))
	for f := range frames {
		pts := time.Duration(f) * 100 * time.Millisecond
		out = append(out, e.Update(pts, rep.Update(f))...)
		out = append(out, e.End(pts, rep.Ended())...)
	}
	return append(out, e.Close(time.Duration(len(frames))*100*time.Millisecond)...)
}

// The same input gives identical events.
func TestPropertyDeterministic(t *testing.T) {
	sc := loadScene(t, exampleScene)
	rapid.Check(t, func(t *rapid.T) {
		frames := randomFrames(t)
		require.Equal(t, replay(t, sc, frames), replay(t, sc, frames))
	})
}

// A (rule, track) never alerts twice within the rule's cooldown, wrong way
// alerts once per track, and every event is well formed.
func TestPropertyNoRepeatedAlerts(t *testing.T) {
	sc := loadScene(t, exampleScene)
	rapid.Check(t, func(t *rapid.T) {
		type key struct {
			rule  string
			track int
		}
		last := map[key]float64{}
		for _, ev := range replay(t, sc, randomFrames(t)) {
			require.LessOrEqual(t, ev.Start, ev.End)
			require.LessOrEqual(t, len(ev.Path), maxEventPath)
			require.NotEmpty(t, ev.Explanation)
			r := sc.Rule(ev.Name)
			if len(ev.Tracks) != 1 || r.Type == scene.LineCrossing {
				continue
			}
			k := key{ev.Name, ev.Tracks[0]}
			if prev, ok := last[k]; ok {
				require.NotEqual(t, scene.WrongWay, r.Type, "wrong way twice for track %d", k.track)
				require.GreaterOrEqual(t, ev.End-prev, r.Cooldown.Seconds()-1e-9, "%+v", k)
			}
			last[k] = ev.End
		}
	})
}

// A person hopping between points on either side of the line, holding
// each for 1.5 s, crosses once per change of side: in − out is the net
// side change and in + out the number of changes.
func TestPropertyLineCrossingNet(t *testing.T) {
	sc := loadScene(t, exampleScene) // gate: (560,390)→(767,390), in = below
	line := sc.Line("gate")
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 12).Draw(t, "points")
		var frames [][]track.Track
		var sides []int
		for range n {
			p := geom.Point{X: rapid.Float64Range(580, 740).Draw(t, "x"), Y: rapid.Float64Range(340, 440).Draw(t, "y")}
			if math.Abs(p.Y-390) < 10 {
				p.Y += 20
			}
			sides = append(sides, line.Side(p))
			for range 15 {
				frames = append(frames, []track.Track{{ID: 1, Class: detect.Person, Box: geom.Box{X: p.X - 10, Y: p.Y - 40, W: 20, H: 40}}})
			}
		}
		e, err := New(sc, Options{})
		require.NoError(t, err)
		for f, ts := range frames {
			e.Update(time.Duration(f)*100*time.Millisecond, ts)
		}
		in, out, changes := 0, 0, 0
		for _, c := range e.Counts() {
			if c.Direction == "in" {
				in += c.N
			} else {
				out += c.N
			}
		}
		for i := 1; i < n; i++ {
			if sides[i] != sides[i-1] {
				changes++
			}
		}
		require.Equal(t, (sides[n-1]-sides[0])/2, in-out)
		require.Equal(t, changes, in+out)
	})
}

// An uncalibrated scene runs the rules that need no metres.
func TestUncalibrated(t *testing.T) {
	sc, err := scene.Parse([]byte(`version: 1
camera: c
image: {width: 1000, height: 800}
zones:
  - {name: road, type: carriageway, polygon: [[0, 300], [999, 300], [999, 500], [0, 500]]}
rules:
  - {type: jaywalking, zone: road}
  - {type: stopped_vehicle, zone: road, min_dwell: 5s}
`), "inline")
	require.NoError(t, err)
	var frames [][]track.Track
	for f := range 200 {
		y := 250 + float64(f)*1.5 // person crossing at 15 px/s
		frames = append(frames, []track.Track{
			{ID: 1, Class: detect.Person, Box: geom.Box{X: 190, Y: y - 50, W: 20, H: 50}},
			{ID: 2, Class: detect.Car, Box: geom.Box{X: 580, Y: 380, W: 40, H: 20}},
		})
	}
	evs := replay(t, sc, frames)
	require.Len(t, evs, 2)
	require.Equal(t, "stopped_vehicle", evs[0].Rule)
	require.Equal(t, "jaywalking", evs[1].Rule)
	require.Contains(t, evs[0].Explanation, "px/s")
}

// A track's state is kept until End reports it ended, and only then
// forgotten: the engine has no timer of its own.
func TestForgetsEndedTracks(t *testing.T) {
	e, err := New(loadScene(t, exampleScene), Options{})
	require.NoError(t, err)
	for f := range 100 {
		pts := time.Duration(f) * 100 * time.Millisecond
		e.Update(pts, []track.Track{{ID: f + 1, Class: detect.Person, Box: geom.Box{X: 100, Y: 300, W: 20, H: 40}}})
		if f >= 10 {
			e.End(pts, []int{f - 9}) // ended 1 s after its only sighting
		}
	}
	require.Equal(t, 10, e.Tracked())
	require.Empty(t, e.End(10*time.Second, []int{12345}), "an unknown id is ignored")
	require.Equal(t, 10, e.Tracked())
	require.Empty(t, e.Close(10*time.Second))
	require.Zero(t, e.Tracked())
}

// Out-of-order frames are ignored.
func TestIgnoresOldFrames(t *testing.T) {
	e, err := New(loadScene(t, exampleScene), Options{})
	require.NoError(t, err)
	e.Update(time.Second, nil)
	require.Nil(t, e.Update(time.Second, []track.Track{{ID: 1, Class: detect.Person}}))
	require.Zero(t, e.Tracked())
}

// BenchmarkUpdate100 times one frame of 100 moving tracks on the
// calibrated example scene with its 11 rules.
func BenchmarkUpdate100(b *testing.B) {
	e, err := New(loadScene(b, exampleScene), Options{})
	require.NoError(b, err)
	frame := func(f int) []track.Track {
		ts := make([]track.Track, 100)
		for i := range ts {
			a := float64(i)*0.37 + float64(f)*0.01*float64(1+i%5)
			x, y := 384+300*math.Cos(a), 380+180*math.Sin(a)
			c := detect.Person
			if i%3 == 0 {
				c = detect.Car
			}
			ts[i] = track.Track{ID: i + 1, Class: c, Box: geom.Box{X: x - 10, Y: y - 40, W: 20, H: 40}}
		}
		return ts
	}
	frames := make([][]track.Track, 1000)
	for f := range frames {
		frames[f] = frame(f)
	}
	for f := range 100 {
		e.Update(time.Duration(f)*40*time.Millisecond, frames[f%len(frames)])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := 100 + i
		e.Update(time.Duration(f)*40*time.Millisecond, frames[f%len(frames)])
	}
}
