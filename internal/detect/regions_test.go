package detect

import (
	"image"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/vigil-cctv/vigil/internal/geom"
)

// Letterboxing a crop in place gives exactly what letterboxing a copy of
// the cropped pixels gives.
func TestFillCropEqualsFillOfCopy(t *testing.T) {
	const w, h = 97, 61
	rng := rand.New(rand.NewPCG(1, 2))
	pix := make([]byte, w*h*3)
	for i := range pix {
		pix[i] = byte(rng.IntN(256))
	}
	r := image.Rect(13, 7, 13+50, 7+40)
	sub := make([]byte, 0, r.Dx()*r.Dy()*3)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		sub = append(sub, pix[(y*w+r.Min.X)*3:(y*w+r.Max.X)*3]...)
	}
	lb := NewLetterbox(r.Dx(), r.Dy(), 64, 64)
	want := make([]float32, 3*64*64)
	got := make([]float32, 3*64*64)
	require.NoError(t, lb.Fill(want, sub))
	require.NoError(t, lb.FillCrop(got, pix, w, r))
	require.Equal(t, want, got)
	require.Error(t, lb.FillCrop(got, pix, w, image.Rect(60, 30, 110, 70)), "crop past the frame")
}

// A person cut by the edge between two crops is reported once, whole; a
// box at a frame edge is not "cut"; different class groups never merge.
func TestMergeRegionsAcrossCropBorders(t *testing.T) {
	const w, h = 640, 480
	left, right := image.Rect(0, 0, 320, 320), image.Rect(200, 0, 520, 320)
	whole := Detection{Box: geom.Box{X: 280, Y: 100, W: 60, H: 150}, Class: Person, Score: 0.8}
	cut := Detection{Box: geom.Box{X: 280, Y: 100, W: 39, H: 150}, Class: Person, Score: 0.9}
	atFrameEdge := Detection{Box: geom.Box{X: 0, Y: 10, W: 30, H: 80}, Class: Person, Score: 0.7}
	bike := Detection{Box: geom.Box{X: 282, Y: 150, W: 50, H: 90}, Class: Bicycle, Score: 0.6}
	got := MergeRegions([]RegionDetections{
		{Rect: left, Dets: []Detection{cut, atFrameEdge}},
		{Rect: right, Dets: []Detection{whole, bike}},
	}, w, h, 0.6)
	require.ElementsMatch(t, []Detection{whole, atFrameEdge, bike}, got)
	require.True(t, cutByEdge(cut.Box, left, w, h))
	require.False(t, cutByEdge(atFrameEdge.Box, left, w, h))

	// A cut box nobody saw whole is kept: better a partial box than none.
	got = MergeRegions([]RegionDetections{{Rect: left, Dets: []Detection{cut}}}, w, h, 0.6)
	require.Equal(t, []Detection{cut}, got)
}

// A crop at the frame's own scale is copied one to one: exactly the
// values bilinear sampling gives at scale 1, padding included.
func TestUnscaledFillEqualsBilinear(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := rapid.IntRange(1, 96).Draw(t, "w")
		h := rapid.IntRange(1, 96).Draw(t, "h")
		dw, dh := w, h+rapid.IntRange(0, 40).Draw(t, "pad")
		if rapid.Bool().Draw(t, "wide") {
			dw, dh = w+rapid.IntRange(0, 40).Draw(t, "pad"), h
		}
		lb := NewLetterbox(w, h, dw, dh)
		require.Equal(t, [2]int{w, h}, [2]int{lb.ScaledW, lb.ScaledH})
		pix := rapid.SliceOfN(rapid.Byte(), w*h*3, w*h*3).Draw(t, "pix")
		got, want := make([]float32, 3*dw*dh), make([]float32, 3*dw*dh)
		require.NoError(t, lb.Fill(got, pix))
		lb.fillPadding(want)
		lb.fillScaled(want, pix, w*3)
		require.Equal(t, want, got)
	})
}
