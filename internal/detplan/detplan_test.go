package detplan

import (
	"image"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/vigil-cctv/vigil/internal/geom"
)

func inside(b geom.Box, r image.Rectangle) bool {
	return b.X >= float64(r.Min.X) && b.Y >= float64(r.Min.Y) && b.X2() <= float64(r.Max.X) && b.Y2() <= float64(r.Max.Y)
}

// Whatever the boxes, a plan puts each (clipped) box wholly inside one
// crop, keeps crops inside the frame, at most MaxRegions of them, costing
// less than the whole frame: squares of at least RegionSize, or with
// AnySize at least MinRegion a side (or the frame's side).
func TestPlanRegionsCoversEveryBox(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		anySize := rapid.Bool().Draw(t, "anySize")
		w := rapid.IntRange(320, 1920).Draw(t, "w")
		h := rapid.IntRange(320, 1080).Draw(t, "h")
		n := rapid.IntRange(0, 6).Draw(t, "n")
		var boxes []geom.Box
		for i := range n {
			x := rapid.Float64Range(-50, float64(w)).Draw(t, "x")
			y := rapid.Float64Range(-50, float64(h)).Draw(t, "y")
			bw := rapid.Float64Range(1, 400).Draw(t, "bw")
			bh := rapid.Float64Range(1, 400).Draw(t, "bh")
			boxes = append(boxes, geom.Box{X: x, Y: y, W: bw, H: bh})
			_ = i
		}
		cfg := Config{AnySize: anySize}.withDefaults()
		regions, ok := PlanRegions(boxes, w, h, cfg)
		if !ok {
			return
		}
		require.LessOrEqual(t, len(regions), cfg.MaxRegions)
		frame := image.Rect(0, 0, w, h)
		work := 0
		for _, reg := range regions {
			r := reg.Rect
			require.True(t, r.In(frame), "%v in %v", r, frame)
			work += reg.Cost()
			require.LessOrEqual(t, reg.Input.X, cfg.RegionSize)
			require.LessOrEqual(t, reg.Input.Y, cfg.RegionSize)
			if !anySize {
				require.Equal(t, r.Dx(), r.Dy())
				require.GreaterOrEqual(t, r.Dx(), cfg.RegionSize)
				continue
			}
			require.Zero(t, reg.Input.X%32+reg.Input.Y%32, "input %v", reg.Input)
			require.GreaterOrEqual(t, r.Dx(), min(cfg.MinRegion, w))
			require.GreaterOrEqual(t, r.Dy(), min(cfg.MinRegion, h))
			if max(r.Dx(), r.Dy()) <= cfg.RegionSize {
				// Seen at the frame's own scale, within 32 input pixels.
				require.Equal(t, image.Pt(ceil32(float64(r.Dx())), ceil32(float64(r.Dy()))), reg.Input, "%v", r)
			}
		}
		require.Less(t, work, cfg.FullW*cfg.FullH+runCost)
		for _, b := range boxes {
			c := b.Clip(float64(w), float64(h))
			if c.W <= 0 || c.H <= 0 {
				continue
			}
			found := false
			for _, r := range regions {
				found = found || inside(c, r.Rect)
			}
			require.True(t, found, "box %+v in none of %v", c, regions)
		}
	})
}

func TestPlanRegionsPrefersTheFrameWhenCropsCostMore(t *testing.T) {
	const w, h = 1280, 720
	one := []geom.Box{{X: 100, Y: 100, W: 50, H: 120}}
	regions, ok := PlanRegions(one, w, h, Config{})
	require.True(t, ok)
	require.Equal(t, []Region{{Rect: image.Rect(0, 0, 320, 320), Input: image.Pt(320, 320)}}, regions)

	spread := []geom.Box{{X: 10, Y: 10, W: 40, H: 40}, {X: 1200, Y: 10, W: 40, H: 40}, {X: 600, Y: 650, W: 40, H: 40}}
	_, ok = PlanRegions(spread, w, h, Config{})
	require.False(t, ok, "three crops cost more than one full pass")

	_, ok = PlanRegions([]geom.Box{{X: 0, Y: 0, W: 900, H: 600}}, w, h, Config{})
	require.False(t, ok, "a large motion area")

	_, ok = PlanRegions(one, 320, 240, Config{})
	require.False(t, ok, "a frame smaller than a crop")
}

// With AnySize a lone walker gets a crop of its own extent, a fifth of a
// 320×320 square's work; walkers far apart get one crop each, a third
// of the work of two 320×320 squares.
func TestAnySizeCropsFollowTheirContent(t *testing.T) {
	const w, h = 768, 576
	cfg := Config{AnySize: true}
	walker := geom.Box{X: 100.4, Y: 100, W: 60, H: 150}
	regions, ok := PlanRegions([]geom.Box{walker}, w, h, cfg)
	require.True(t, ok)
	require.Equal(t, []Region{{Rect: image.Rect(51, 95, 211, 255), Input: image.Pt(160, 160)}}, regions, "160×160 around the walker")
	square := Region{Input: image.Pt(320, 320)}
	require.Less(t, regions[0].Cost(), square.Cost()/3)

	apart := []geom.Box{walker, {X: 500, Y: 300, W: 60, H: 150}}
	regions, ok = PlanRegions(apart, w, h, cfg)
	require.True(t, ok)
	require.Len(t, regions, 2)
	squares, ok := PlanRegions(apart, w, h, Config{})
	require.True(t, ok)
	require.Len(t, squares, 2)
	require.Less(t, 3*(regions[0].Cost()+regions[1].Cost()), squares[0].Cost()+squares[1].Cost(),
		"two 320×320 squares cost three times more")
}

func step(i int) time.Duration { return time.Duration(i) * 200 * time.Millisecond }

// A static view (nothing moving, no track) is detected only by the
// periodic full pass: one frame in twenty at 5 fps.
func TestStaticViewIsMostlyCarried(t *testing.T) {
	p := New(Config{})
	var modes []Mode
	for i := range 40 {
		modes = append(modes, p.Decide(State{PTS: step(i), Width: 768, Height: 576}).Mode)
	}
	require.Equal(t, Counts{Full: 2, Carry: 38}, p.Counts())
	require.Equal(t, Full, modes[0])
	require.Equal(t, Full, modes[20])
}

func TestBusyFramesAreDetected(t *testing.T) {
	walker := Track{Box: geom.Box{X: 100, Y: 100, W: 40, H: 100}, VX: 5}
	cases := []struct {
		name  string
		state State
		want  Mode
	}{
		{"slow track, motion on it", State{Tracks: []Track{walker}, Motion: []geom.Box{walker.Box}}, Carry},
		{"fast track", State{Tracks: []Track{{Box: walker.Box, VX: 40}}}, Regions},
		{"near a rule", State{Tracks: []Track{{Box: walker.Box, NearRule: true}}}, Regions},
		{"motion away from tracks", State{Tracks: []Track{walker}, Motion: []geom.Box{{X: 600, Y: 400, W: 30, H: 60}}}, Regions},
		{"many tracks", State{Tracks: make([]Track, 8)}, Full},
		{"lighting change", State{MotionGlobal: true}, Full},
	}
	for _, c := range cases {
		p := New(Config{})
		p.Decide(State{PTS: 0, Width: 768, Height: 576})
		c.state.PTS, c.state.Width, c.state.Height = step(1), 768, 576
		for i := range c.state.Tracks {
			if c.state.Tracks[i].Box.W == 0 {
				c.state.Tracks[i].Box = geom.Box{X: float64(90 * i), Y: 10, W: 30, H: 80}
			}
		}
		d := p.Decide(c.state)
		require.Equal(t, c.want, d.Mode, c.name)
		require.NotEmpty(t, d.Reason)
		if d.Mode == Regions {
			for _, tr := range c.state.Tracks {
				found := false
				for _, r := range d.Regions {
					found = found || inside(tr.Box, r.Rect)
				}
				require.True(t, found, "%s: track inside a crop", c.name)
			}
		}
	}
}

// Tracks are carried at most MaxCarry frames in a row, then detected.
func TestCarryIsBounded(t *testing.T) {
	p := New(Config{MaxCarry: 2})
	walker := Track{Box: geom.Box{X: 100, Y: 100, W: 40, H: 100}, VX: 3}
	var got []Mode
	for i := range 7 {
		got = append(got, p.Decide(State{PTS: step(i), Width: 768, Height: 576, Tracks: []Track{walker}}).Mode)
	}
	require.Equal(t, []Mode{Full, Carry, Carry, Regions, Carry, Carry, Regions}, got)
}

// A frame no larger than a crop (320×240) is detected whole as one crop at
// its own scale: the periodic pass, the first frame and busy frames alike,
// and the pass counts toward FullEvery.
func TestSmallFrameIsOneCrop(t *testing.T) {
	p := New(Config{})
	whole := []Region{{Rect: image.Rect(0, 0, 320, 240), Input: image.Pt(320, 320)}}
	d := p.Decide(State{Width: 320, Height: 240})
	require.Equal(t, Regions, d.Mode)
	require.Equal(t, whole, d.Regions)
	require.Contains(t, d.Reason, "first frame")
	fast := Track{Box: geom.Box{X: 10, Y: 10, W: 40, H: 30}, VX: 30}
	d = p.Decide(State{PTS: 200 * time.Millisecond, Width: 320, Height: 240, Tracks: []Track{fast}})
	require.Equal(t, Regions, d.Mode)
	require.Equal(t, whole, d.Regions, "the crops around a fast track would cost as much: the whole frame, as one crop")
	slow := Track{Box: geom.Box{X: 10, Y: 10, W: 40, H: 30}, VX: 1}
	d = p.Decide(State{PTS: 400 * time.Millisecond, Width: 320, Height: 240, Tracks: []Track{slow}})
	require.Equal(t, Carry, d.Mode)
	require.Equal(t, Counts{Regions: 2, Carry: 1}, p.Counts())

	big := New(Config{})
	require.Equal(t, Full, big.Decide(State{Width: 321, Height: 240}).Mode, "wider than a crop: the whole-frame model")
}

// Cameras started together pass whole frames at their own phase, not all
// in the same instant; a camera's phase is the same on every run.
func TestPhaseStaggersPeriodicPasses(t *testing.T) {
	fullAt := func(phase time.Duration) []time.Duration {
		p := New(Config{Phase: phase, FullEvery: 2 * time.Second})
		var at []time.Duration
		for i := range 25 { // 5 s at 5 fps, nothing moving
			pts := time.Duration(i) * 200 * time.Millisecond
			if p.Decide(State{PTS: pts, Width: 640, Height: 480}).Mode == Full {
				at = append(at, pts)
			}
		}
		return at
	}
	require.Equal(t, []time.Duration{0, 2 * time.Second, 4 * time.Second}, fullAt(0))
	require.Equal(t, []time.Duration{0, 1200 * time.Millisecond, 3200 * time.Millisecond}, fullAt(800*time.Millisecond))
	require.Equal(t, PhaseOf("cam7"), PhaseOf("cam7"))
	require.NotEqual(t, PhaseOf("cam7"), PhaseOf("cam8"))
	require.Less(t, PhaseOf("cam7"), 4*time.Second)
}

// Tracks standing still in a view where nothing moves (a frozen or night
// view with people or parked cars in it) are carried until the periodic
// pass, not detected every third frame; as soon as one moves, or motion
// shows, the bound on carrying holds again.
func TestStillTracksAreCarriedUntilThePeriodicPass(t *testing.T) {
	p := New(Config{MaxCarry: 2})
	still := []Track{{Box: geom.Box{X: 100, Y: 100, W: 40, H: 100}, VX: 0.5}, {Box: geom.Box{X: 400, Y: 80, W: 120, H: 60}}}
	var got []Mode
	for i := range 21 {
		d := p.Decide(State{PTS: step(i), Width: 768, Height: 576, Tracks: still})
		got = append(got, d.Mode)
		if i > 0 && i < 20 {
			require.Contains(t, d.Reason, "standing still", "frame %d", i)
		}
	}
	require.Equal(t, Counts{Full: 2, Carry: 19}, p.Counts(), "%v", got)
	require.Equal(t, Full, got[20], "the periodic pass still comes")

	moving := append([]Track{{Box: still[0].Box, VX: 2}}, still[1])
	require.Equal(t, Carry, p.Decide(State{PTS: step(21), Width: 768, Height: 576, Tracks: moving}).Mode)
	require.Equal(t, Carry, p.Decide(State{PTS: step(22), Width: 768, Height: 576, Tracks: moving}).Mode)
	require.Equal(t, Regions, p.Decide(State{PTS: step(23), Width: 768, Height: 576, Tracks: moving}).Mode,
		"a track that moves (2 px a frame on a 100 px box) is carried at most MaxCarry frames")

	p = New(Config{MaxCarry: 2})
	p.Decide(State{PTS: 0, Width: 768, Height: 576, Tracks: still})
	var modes []Mode
	for i := 1; i <= 3; i++ {
		modes = append(modes, p.Decide(State{PTS: step(i), Width: 768, Height: 576, Tracks: still, Motion: []geom.Box{still[0].Box}}).Mode)
	}
	require.Equal(t, []Mode{Carry, Carry, Regions}, modes, "motion on a still track: it may be starting to move")
}

// While the view is unchanged since the last whole-frame pass (people
// standing, a parked car, a night street) the periodic pass waits up to
// MaxFullEvery: it would read the same pixels. The frame the view changes
// (even with no motion between frames: something crept in) brings the
// pass due at FullEvery back.
func TestUnchangedViewDefersThePeriodicPass(t *testing.T) {
	p := New(Config{})
	still := []Track{{Box: geom.Box{X: 100, Y: 100, W: 40, H: 100}}}
	var fullAt []int
	for i := range 100 { // 20 s at 5 fps
		d := p.Decide(State{PTS: step(i), Width: 768, Height: 576, Tracks: still, Unchanged: i > 0})
		require.Equal(t, d.Mode == Full, d.Whole, "frame %d", i)
		if d.Mode == Full {
			fullAt = append(fullAt, i)
		} else if i >= 20 && i < 80 {
			require.Contains(t, d.Reason, "view unchanged since the last full pass", "frame %d", i)
		}
	}
	require.Equal(t, []int{0, 80}, fullAt, "a whole-frame pass every 16 s")

	d := p.Decide(State{PTS: step(100), Width: 768, Height: 576, Tracks: still, Unchanged: true})
	require.Equal(t, Carry, d.Mode)
	d = p.Decide(State{PTS: step(101), Width: 768, Height: 576, Tracks: still})
	require.Equal(t, Full, d.Mode, "4 s since the last pass and the view changed")
	require.Equal(t, "periodic full pass", d.Reason)

	small := New(Config{})
	d = small.Decide(State{Width: 320, Height: 240})
	require.True(t, d.Whole && d.Mode == Regions, "a frame detected as one crop is a whole-frame look too")
	require.False(t, small.Decide(State{PTS: step(1), Width: 320, Height: 240}).Whole)
}
