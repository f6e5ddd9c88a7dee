package baseline

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func heatModel(t *testing.T) *Model {
	m, err := New(Config{Warmup: time.Minute}, testScene())
	require.NoError(t, err)
	w := newWorld(8)
	w.run(m, 10*time.Minute)
	m.Close(w.pts)
	return m
}

// The occupancy heatmap shows where people walked and nothing elsewhere.
func TestHeatmapOccupancy(t *testing.T) {
	m := heatModel(t)
	img, err := m.Heatmap(HeatmapOptions{Kind: KindBusy, Hour: -1})
	require.NoError(t, err)
	require.Equal(t, image.Rect(0, 0, imgW, imgH), img.Bounds())
	for _, p := range []image.Point{{640, 275}, {100, 375}, {1200, 260}} {
		require.Greater(t, img.RGBAAt(p.X, p.Y).A, uint8(0), "walked at %v", p)
	}
	for _, p := range []image.Point{{640, 100}, {640, 650}, {10, 10}, {640, 200}} {
		require.Equal(t, color.RGBA{}, img.RGBAAt(p.X, p.Y), "empty at %v", p)
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	back, err := png.Decode(&buf)
	require.NoError(t, err)
	require.Equal(t, img.Bounds(), back.Bounds())

	// Person only: the same; bicycles were never seen: empty.
	img, err = m.Heatmap(HeatmapOptions{Kind: KindBusy, Class: "person", Hour: -1})
	require.NoError(t, err)
	require.Greater(t, img.RGBAAt(640, 275).A, uint8(0))
	img, err = m.Heatmap(HeatmapOptions{Kind: KindBusy, Class: "bicycle", Hour: -1})
	require.NoError(t, err)
	require.Zero(t, img.RGBAAt(640, 275).A)
}

// Direction is drawn as hue: westbound and eastbound lanes differ.
func TestHeatmapDirection(t *testing.T) {
	m := heatModel(t)
	img, err := m.Heatmap(HeatmapOptions{Kind: KindDirection, Hour: -1})
	require.NoError(t, err)
	west, east := img.RGBAAt(640, 275), img.RGBAAt(640, 375)
	require.Greater(t, west.A, uint8(128), "a one-way lane is strongly directed")
	require.Greater(t, west.B, west.G, "west is violet: %v", west)
	require.Greater(t, east.G, east.B, "east is green: %v", east)
}

// Every kind draws, over a background the result is opaque, and a
// legend can be added.
func TestHeatmapKindsAndBackground(t *testing.T) {
	m := heatModel(t)
	bg := image.NewUniform(color.RGBA{80, 80, 80, 255})
	small := image.NewRGBA(image.Rect(0, 0, 64, 36)) // scaled up to the frame
	for i := range small.Pix {
		small.Pix[i] = 200
		if i%4 == 3 {
			small.Pix[i] = 255
		}
	}
	for _, kind := range []string{KindBusy, KindSpeed, KindDirection, KindDwell} {
		for _, b := range []image.Image{bg, small} {
			img, err := m.Heatmap(HeatmapOptions{Kind: kind, Hour: -1, Background: b, Legend: true})
			require.NoError(t, err, kind)
			require.Equal(t, uint8(255), img.RGBAAt(640, 100).A, kind)
			require.Equal(t, uint8(255), img.RGBAAt(640, 275).A, kind)
		}
	}
	bare, err := m.Heatmap(HeatmapOptions{Kind: KindSpeed, Hour: -1})
	require.NoError(t, err)
	leg, err := m.Heatmap(HeatmapOptions{Kind: KindSpeed, Hour: -1, Legend: true})
	require.NoError(t, err)
	require.NotEqual(t, bare.Pix, leg.Pix)
}

func TestHeatmapErrors(t *testing.T) {
	m := heatModel(t)
	for _, opt := range []HeatmapOptions{
		{Kind: "size", Hour: -1},
		{Kind: KindBusy, Hour: 168},
		{Kind: KindBusy, Hour: -2},
		{Kind: KindBusy, Hour: -1, Class: "dragon"},
	} {
		_, err := m.Heatmap(opt)
		require.Error(t, err, "%+v", opt)
	}
	blind, err := New(Config{}, nil)
	require.NoError(t, err)
	_, err = blind.Heatmap(HeatmapOptions{Kind: KindBusy, Hour: -1})
	require.ErrorContains(t, err, "frame size unknown")
	// With an epoch, an hour bucket draws that hour only.
	hm, err := New(Config{Warmup: time.Minute, Epoch: time.Date(2024, 3, 4, 9, 0, 0, 0, time.UTC)}, testScene())
	require.NoError(t, err)
	w := newWorld(8)
	w.run(hm, 5*time.Minute)
	hm.Close(w.pts)
	img, err := hm.Heatmap(HeatmapOptions{Kind: KindBusy, Hour: 9})
	require.NoError(t, err)
	require.Greater(t, img.RGBAAt(640, 275).A, uint8(0))
	img, err = hm.Heatmap(HeatmapOptions{Kind: KindBusy, Hour: 10})
	require.NoError(t, err)
	require.Zero(t, img.RGBAAt(640, 275).A)
}
