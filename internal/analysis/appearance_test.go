package analysis

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/reid"
	"github.com/vigil-cctv/vigil/internal/track"
)

// colourEmbedder is a tiny real appearance descriptor: the normalised mean
// colour of the box, offset so that grey is not orthogonal to everything.
// It stands in for OSNet where the test draws people as solid colours.
type colourEmbedder struct{ calls, crops int }

func (c *colourEmbedder) Embed(f *decode.Frame, boxes []geom.Box) ([][]float32, error) {
	c.calls++
	c.crops += len(boxes)
	out := make([][]float32, len(boxes))
	for i, b := range boxes {
		var sum [3]float64
		n := 0
		for y := int(b.Y); y < int(b.Y2()); y++ {
			for x := int(b.X); x < int(b.X2()); x++ {
				p := f.Pix[(y*f.Width+x)*3:]
				sum[0], sum[1], sum[2] = sum[0]+float64(p[0]), sum[1]+float64(p[1]), sum[2]+float64(p[2])
				n++
			}
		}
		v := make([]float32, 3)
		for k := range v {
			v[k] = float32(sum[k] / float64(n) / 255)
		}
		out[i] = reid.Normalize(v)
	}
	return out, nil
}

type figure struct {
	box geom.Box
	rgb [3]byte
}

// draw draws people as solid boxes on black and returns the frame and
// their detections.
func draw(people ...figure) (*decode.Frame, []detect.Detection) {
	const w, h = 640, 360
	f := &decode.Frame{Width: w, Height: h, Pix: make([]byte, w*h*3)}
	var dets []detect.Detection
	for _, p := range people {
		for y := int(p.box.Y); y < int(p.box.Y2()); y++ {
			for x := int(p.box.X); x < int(p.box.X2()); x++ {
				copy(f.Pix[(y*w+x)*3:], p.rgb[:])
			}
		}
		dets = append(dets, detect.Detection{Box: p.box, Score: 0.9, Class: detect.Person})
	}
	return f, dets
}

var (
	red   = [3]byte{220, 20, 20}
	green = [3]byte{20, 220, 20}
)

func newApp(t *testing.T) (*Appearance, *colourEmbedder) {
	t.Helper()
	tr, err := track.New(track.DefaultConfig(10))
	require.NoError(t, err)
	e := &colourEmbedder{}
	return NewAppearance(tr, e, DefaultAppearance(10)), e
}

// stroll moves a person right by 4 px a frame.
func stroll(x0 float64, i int, rgb [3]byte) figure {
	return figure{box: geom.Box{X: x0 + 4*float64(i), Y: 100, W: 30, H: 80}, rgb: rgb}
}

// A person hidden for 1.5 s (longer than ByteTrack's 1 s buffer) comes back
// under the same id when they look the same and are where they could have
// walked; someone who looks different gets a new id.
func TestAppearanceRelinksAfterOcclusion(t *testing.T) {
	for _, c := range []struct {
		name  string
		back  [3]byte
		same  bool
		ended int
	}{{"same person", red, true, 0}, {"someone else", green, false, 1}} {
		t.Run(c.name, func(t *testing.T) {
			a, _ := newApp(t)
			var first int
			var endedIDs []int
			for i := 0; i < 50; i++ {
				var ts []track.Track
				if i < 10 || i >= 25 {
					rgb := red
					if i >= 25 {
						rgb = c.back
					}
					f, dets := draw(stroll(50, i, rgb))
					ts = a.Update(f, dets)
					if i != 25 { // a new track is reported from its second sighting
						require.Len(t, ts, 1, "frame %d", i)
					}
				} else {
					f, _ := draw()
					ts = a.Update(f, nil)
				}
				endedIDs = append(endedIDs, a.Ended()...)
				if i == 0 {
					first = ts[0].ID
				}
				if i == 30 {
					require.Equal(t, c.same, ts[0].ID == first)
				}
			}
			require.Len(t, endedIDs, c.ended, "the held id ends only when nobody took it back: %v", endedIDs)
			require.Len(t, a.Close(), 1)
		})
	}
}

// When ByteTrack exchanges two people who touched, appearance swaps the
// ids back once they are apart.
func TestAppearanceUndoesSwap(t *testing.T) {
	a, _ := newApp(t)
	// Two people side by side walking right, touching in frames 10-14;
	// after the contact the colours come out exchanged, as a tracker swap
	// would leave them.
	gap := func(i int) float64 {
		switch {
		case i < 5:
			return 60
		case i < 10:
			return 60 - 7*float64(i-5)
		case i < 15:
			return 25 // overlapping by 5 px
		}
		return min(60, 25+7*float64(i-14))
	}
	var redID, greenID int
	for i := 0; i < 30; i++ {
		left, right := red, green
		if i >= 15 {
			left, right = green, red
		}
		f, dets := draw(stroll(50, i, left), figure{box: geom.Box{X: 50 + 4*float64(i) + gap(i), Y: 100, W: 30, H: 80}, rgb: right})
		ts := a.Update(f, dets)
		require.Len(t, ts, 2)
		byX := map[bool]int{ts[0].Box.X < ts[1].Box.X: ts[0].ID, ts[1].Box.X < ts[0].Box.X: ts[1].ID}
		if i == 5 {
			redID, greenID = byX[true], byX[false]
		}
		if i == 20 {
			require.Equal(t, redID, byX[false], "red is now on the right and keeps its id")
			require.Equal(t, greenID, byX[true])
		}
	}
	require.Equal(t, 1, a.Swaps)
}

// Embeddings are computed for new tracks and then at the refresh rate,
// not for every box of every frame.
func TestAppearanceBoundsEmbeddings(t *testing.T) {
	a, e := newApp(t)
	for i := 0; i < 40; i++ {
		f, dets := draw(stroll(50, i, red), stroll(300, i, green))
		a.Update(f, dets)
	}
	require.LessOrEqual(t, e.crops, 2*(1+40/5+1), "two people, one crop each at birth and every half second")
	require.Equal(t, e.crops, a.Crops)
}

// ByteTrack finds a track again after a short gap by motion alone; when
// the re-found person looks like someone else, the track is split and the
// old id is kept for its owner.
func TestAppearanceSplitsWrongRefind(t *testing.T) {
	for _, c := range []struct {
		name   string
		back   [3]byte
		splits int
	}{{"same person", red, 0}, {"someone else", green, 1}} {
		t.Run(c.name, func(t *testing.T) {
			a, _ := newApp(t)
			var first, later int
			for i := 0; i < 30; i++ {
				var dets []detect.Detection
				var f *decode.Frame
				switch {
				case i < 10:
					f, dets = draw(stroll(50, i, red))
				case i < 15:
					f, dets = draw()
				default:
					f, dets = draw(stroll(50, i, c.back))
				}
				ts := a.Update(f, dets)
				if i == 0 {
					first = ts[0].ID
				}
				if i == 20 {
					require.Len(t, ts, 1)
					later = ts[0].ID
				}
			}
			require.Equal(t, c.splits, a.Splits)
			require.Equal(t, c.splits == 0, first == later)
		})
	}
}

// The tracks carry the box of the detection they matched, unless the
// Kalman filter's box is asked for.
func TestAppearanceReportsDetectionBoxes(t *testing.T) {
	for _, filtered := range []bool{false, true} {
		tr, err := track.New(track.DefaultConfig(10))
		require.NoError(t, err)
		cfg := DefaultAppearance(10)
		cfg.FilteredBoxes = filtered
		a := NewAppearance(tr, &colourEmbedder{}, cfg)
		same := 0
		for i := 0; i < 10; i++ {
			// Speeding up, so the filter's estimate lags the detection.
			f, dets := draw(figure{box: geom.Box{X: 50 + float64(i*i), Y: 100, W: 30, H: 80}, rgb: red})
			for _, tk := range a.Update(f, dets) {
				if tk.Box == dets[tk.DetIndex].Box {
					same++
				}
			}
		}
		if filtered {
			require.Less(t, same, 3, "the filter's boxes are not the detections'")
		} else {
			require.Equal(t, 10, same)
		}
	}
}

// A frame's crops are embedded once however often the tracker and the
// galleries ask, in one batch per request.
func TestFrameCropsEmbedOnce(t *testing.T) {
	f, dets := draw(stroll(50, 0, red), stroll(300, 0, green), stroll(450, 0, red))
	e := &colourEmbedder{}
	a := NewAppearance(nil, e, DefaultAppearance(10))
	c := a.newCrops(f, dets)
	first := c.Embed([]int{0, 0, 1})
	require.Equal(t, 1, e.calls)
	require.Equal(t, 2, e.crops)
	require.Equal(t, first[0], first[1])
	again := c.Embed([]int{1, 2})
	require.Equal(t, 2, e.calls)
	require.Equal(t, 3, e.crops, "only the new crop")
	require.Equal(t, first[2], again[0])
	require.Equal(t, 3, c.crops)
	require.True(t, c.Clean(0))
	// Without pixels nothing is embedded and nothing is clean.
	c = a.newCrops(&decode.Frame{Width: 640, Height: 360}, dets)
	require.Equal(t, [][]float32{nil}, c.Embed([]int{0}))
	require.False(t, c.Clean(0))
	require.Equal(t, 3, e.crops)
}
