package motion

import (
	"bytes"
	"fmt"
	"image"
	"math"
	"sync"
	"testing"
	"time"
)

const (
	streamW, streamH = 360, 240 // Ped2 size: the model works at half of it
	frameStep        = 100 * time.Millisecond
)

type sprite struct {
	obj  plane
	x, y int
}

func render(sprites ...sprite) []uint8 {
	out := make([]uint8, streamW*streamH)
	for i := range out {
		out[i] = 100
	}
	for _, s := range sprites {
		for y := 0; y < s.obj.h; y++ {
			for x := 0; x < s.obj.w; x++ {
				if px, py := s.x+x, s.y+y; px >= 0 && py >= 0 && px < streamW && py < streamH {
					out[py*streamW+px] = uint8(s.obj.pix[y*s.obj.w+x])
				}
			}
		}
	}
	return out
}

var walkerObj, riderObj = object(12, 24), object(14, 24)

// walkers returns four pedestrians at 2 px per frame, two each way, in
// different rows; t < 130 keeps them inside the frame.
func walkers(t int) []sprite {
	return []sprite{
		{walkerObj, 30 + 2*t, 40}, {walkerObj, 320 - 2*t, 90},
		{walkerObj, 50 + 2*t, 140}, {walkerObj, 300 - 2*t, 190},
	}
}

// rider crosses at 7 px per frame between the walkers' rows.
func rider(t int) sprite { return sprite{riderObj, 20 + 7*(t-100), 112} }

var (
	warmOnce  sync.Once
	warmState []byte
	warmErr   error
)

// warmModel returns a model that learnt 100 frames (9.9 s) of walkers with a
// 9 s warm-up and no smoothing, then was saved and restored, so its next
// frame only starts a pair. The warm-up runs once per test binary.
func warmModel(t *testing.T) *Model {
	t.Helper()
	warmOnce.Do(func() {
		m := NewModel(streamW, streamH, ModelOptions{Warmup: 9 * time.Second, Smooth: -1})
		for i := range 100 {
			r := m.Observe(time.Duration(i)*frameStep, render(walkers(i)...), nil)
			if want := i < 91; r.Learning != want || (r.Learning && (r.Score != 0 || r.Cells != nil)) {
				warmErr = fmt.Errorf("frame %d: %+v, want Learning=%v and no score while learning", i, r, want)
				return
			}
		}
		warmState, warmErr = m.MarshalBinary()
	})
	if warmErr != nil {
		t.Fatal(warmErr)
	}
	var m Model
	if err := m.UnmarshalBinary(warmState); err != nil {
		t.Fatal(err)
	}
	return &m
}

func TestMotionModelScores(t *testing.T) {
	riderBox := func(t int) []image.Rectangle {
		r := rider(t)
		return []image.Rectangle{image.Rect(r.x, r.y, r.x+r.obj.w, r.y+r.obj.h)}
	}
	cases := []struct {
		name      string
		rider     bool
		boxes     func(t int) []image.Rectangle
		high      bool // score at or above the threshold
		wantCells bool
	}{
		{"walkers only", false, nil, false, false},
		{"untracked rider", true, nil, true, true},
		{"tracked rider", true, riderBox, true, false},
	}
	for _, c := range cases {
		m := warmModel(t)
		var r Observation
		for i := 110; i < 113; i++ { // the first restored frame only starts a pair
			s := walkers(i)
			if c.rider {
				s = append(s, rider(i))
			}
			var boxes []image.Rectangle
			if c.boxes != nil {
				boxes = c.boxes(i)
			}
			r = m.Observe(time.Duration(i)*frameStep, render(s...), boxes)
		}
		if r.Learning || (r.Score >= 5) != c.high || (len(r.Cells) > 0) != c.wantCells {
			t.Errorf("%s: %+v; want high score %v, cells %v", c.name, r, c.high, c.wantCells)
		}
		if c.wantCells {
			centre := image.Pt(rider(112).x+7, rider(112).y+12)
			found := false
			for _, cell := range r.Cells {
				found = found || centre.Add(image.Pt(-8, 0)).In(cell) || centre.In(cell)
			}
			if !found {
				t.Errorf("%s: cells %v miss the rider at %v", c.name, r.Cells, centre)
			}
		}
	}
}

func TestMotionModelAdapts(t *testing.T) {
	// A short half-life: a rider who keeps passing becomes normal.
	m := warmModel(t)
	m.opt.HalfLife = 2 * time.Second
	var first, last float64
	for i := 100; i < 130; i++ {
		s := append(walkers(i), sprite{riderObj, 20 + 7*(i%40), 112})
		r := m.Observe(time.Duration(i)*frameStep, render(s...), nil)
		if i == 101 {
			first = r.Score
		}
		last = r.Score
	}
	t.Logf("recurring rider: score %.2f -> %.2f", first, last)
	if !(first >= 5 && last < first/2) {
		t.Errorf("score of a recurring rider went %.2f -> %.2f; want >= 5 falling below half", first, last)
	}
}

func TestMotionModelSkipsBadFrames(t *testing.T) {
	m := warmModel(t)
	m.Observe(99*frameStep, render(walkers(99)...), nil) // restart the pair
	s := append(walkers(100), rider(100))
	cases := []struct {
		name string
		pts  time.Duration
		grey []uint8
	}{
		{"wrong size", 100 * frameStep, make([]uint8, 10)},
		{"after a stall", 100*frameStep + 3*time.Second, render(s...)},
		{"same PTS", 100*frameStep + 3*time.Second, render(append(walkers(101), rider(101))...)},
		{"PTS going back", time.Second, render(append(walkers(102), rider(102))...)},
	}
	for _, c := range cases {
		if r := m.Observe(c.pts, c.grey, nil); r.Score != 0 || r.Cells != nil || r.Learning {
			t.Errorf("%s: %+v, want an empty result", c.name, r)
		}
	}
	// and the next regular step is scored again
	r := m.Observe(time.Second+frameStep, render(append(walkers(103), rider(103))...), nil)
	if r.Score < 5 {
		t.Errorf("after the bad frames: score %.2f, want >= 5", r.Score)
	}
}

func TestMotionModelSmooth(t *testing.T) {
	score := func(smooth time.Duration) float64 {
		m := warmModel(t)
		m.opt.Smooth = smooth
		var r Observation
		for i := 100; i < 105; i++ { // walkers, then a rider enters at 103
			s := walkers(i)
			if i >= 103 {
				s = append(s, rider(i))
			}
			r = m.Observe(time.Duration(i)*frameStep, render(s...), nil)
		}
		return r.Score
	}
	raw, smoothed := score(-1), score(400*time.Millisecond)
	t.Logf("rider frame: raw %.2f, smoothed %.2f", raw, smoothed)
	// each 100 ms step of a 400 ms smoother moves 1-exp(-1/4) = 22% of the way
	if !(smoothed > 0 && smoothed < 0.6*raw) {
		t.Errorf("smoothed %.2f vs raw %.2f: want the first rider frame damped", smoothed, raw)
	}
}

func TestMotionModelMarshal(t *testing.T) {
	m := warmModel(t)
	m.opt.Threshold = 4.5
	good, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var back Model
	if err := back.UnmarshalBinary(good); err != nil {
		t.Fatal(err)
	}
	again, _ := back.MarshalBinary()
	if !bytes.Equal(good, again) || back.opt != m.opt {
		t.Fatalf("round trip changed the model: opt %+v vs %+v", back.opt, m.opt)
	}
	// Both start a frame pair after a stall and then see the same frames.
	for i := 100; i < 103; i++ {
		g := render(append(walkers(i), rider(i))...)
		pts := time.Duration(i)*frameStep + time.Minute
		a, b := m.Observe(pts, g, nil), back.Observe(pts, g, nil)
		if a.Score != b.Score || len(a.Cells) != len(b.Cells) || (i > 100 && a.Score == 0) {
			t.Errorf("frame %d: restored model scores %+v, original %+v", i, b, a)
		}
	}

	nan := append([]byte(nil), good...)
	copy(nan[len(nan)-8:], []byte{0, 0, 0, 0, 0, 0, 0xf8, 0x7f})
	badMagic := append([]byte(nil), good...)
	badMagic[0] = 'X'
	cases := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"bad magic", badMagic},
		{"truncated", good[:len(good)-1]},
		{"trailing byte", append(append([]byte(nil), good...), 0)},
		{"NaN statistic", nan},
		{"header only", []byte(motionMagic)},
	}
	for _, c := range cases {
		var x Model
		if err := x.UnmarshalBinary(c.data); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	if math.IsNaN(m.score) {
		t.Error("NaN score")
	}
}
