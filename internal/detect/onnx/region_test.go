package onnx

import (
	"image"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/geom"
)

// A crop the AnySize detector runs at its own size finds what the fixed
// 320×320 detector finds in the same crop padded to 320×320: the same
// people, where they are, and so does the crop scaled to 5/6 (the plan
// scales down a crop larger than the detector); a crop of the detector's
// size gives the same detections either way.
func TestAnySizeRegionsFindWhatTheFixedInputFinds(t *testing.T) {
	cfg := testConfig(t)
	cfg.Threads, cfg.InputW, cfg.InputH = 1, 320, 320
	fixed, err := New(cfg)
	require.NoError(t, err)
	defer fixed.Close()
	cfg.AnySize = true
	sized, err := New(cfg)
	require.NoError(t, err)
	defer sized.Close()
	f := firstFrame(t)

	r := image.Rect(300, 150, 620, 470)
	want, err := fixed.DetectRegion(f, r, image.Point{})
	require.NoError(t, err)
	got, err := sized.DetectRegion(f, r, image.Pt(320, 320))
	require.NoError(t, err)
	require.Equal(t, personBoxes(want), personBoxes(got))

	whole, err := fixed.Detect(f)
	require.NoError(t, err)
	checked := 0
	for _, p := range personBoxes(whole) {
		if p.H < 60 || p.W > 100 || p.Y < 40 || p.Y2() > float64(f.Height)-40 || p.X < 40 || p.X2() > float64(f.Width)-40 {
			continue
		}
		c := p.Center()
		crop := image.Rect(int(c.X)-80, int(c.Y)-int(p.H/2)-32, int(c.X)+80, int(c.Y)+int(p.H/2)+32).Intersect(image.Rect(0, 0, f.Width, f.Height))
		own := image.Pt(160, (crop.Dy()+31)/32*32)
		a, err := sized.DetectRegion(f, crop, own)
		require.NoError(t, err)
		b, err := fixed.DetectRegion(f, crop, image.Point{})
		require.NoError(t, err)
		c56, err := sized.DetectRegion(f, crop, image.Pt(160, (crop.Dy()*5/6+31)/32*32))
		require.NoError(t, err)
		require.True(t, hasBox(personBoxes(a), p, 0.7), "person %v at the crop's own size: %v", p, personBoxes(a))
		require.True(t, hasBox(personBoxes(b), p, 0.7), "person %v padded into 320×320: %v", p, personBoxes(b))
		require.True(t, hasBox(personBoxes(c56), p, 0.7), "person %v at 5/6: %v", p, personBoxes(c56))
		checked++
	}
	require.GreaterOrEqual(t, checked, 3, "people clear of the frame's edges in vtest's first frame")
}

// A region input the AnySize detector cannot run is refused with what is
// wrong, before any pixel is copied.
func TestRegionInputIsChecked(t *testing.T) {
	cfg := testConfig(t)
	cfg.Threads, cfg.InputW, cfg.InputH, cfg.AnySize = 1, 320, 320, true
	d, err := New(cfg)
	require.NoError(t, err)
	defer d.Close()
	f, r := firstFrame(t), image.Rect(0, 0, 64, 64)
	tensor := d.NewInput()
	for _, in := range []image.Point{{100, 64}, {352, 64}, {64, -32}} {
		err := d.PrepareRegion(tensor, f, r, in)
		require.ErrorContains(t, err, "not a multiple of 32 within 320x320", "%v", in)
		_, err = d.InferRegion(tensor, r, in)
		require.Error(t, err, "%v", in)
	}
	_, err = d.inferAt(make([]float32, 3*64*64), 96, 64)
	require.Error(t, err, "a tensor smaller than its input")
	require.Error(t, d.PrepareRegion(make([]float32, 10), f, r, image.Pt(64, 64)))
}

func hasBox(boxes []geom.Box, b geom.Box, minIoU float64) bool {
	for _, x := range boxes {
		if x.IoU(b) >= minIoU {
			return true
		}
	}
	return false
}
