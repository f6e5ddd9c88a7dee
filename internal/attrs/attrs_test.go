package attrs

import (
	"bytes"
	"image/jpeg"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/search"
	"github.com/vigil-cctv/vigil/internal/track"
)

func TestNameRGB(t *testing.T) {
	for rgb, want := range map[[3]float64]string{
		{200, 30, 30}: "red", {20, 30, 120}: "blue", {240, 240, 235}: "white", {15, 15, 15}: "black",
		{128, 128, 128}: "grey", {110, 65, 30}: "brown", {250, 170, 200}: "pink", {40, 150, 50}: "green",
		{230, 210, 40}: "yellow", {240, 130, 20}: "orange", {110, 40, 140}: "purple", {50, 50, 55}: "black",
	} {
		require.Equal(t, want, search.Colours[nameRGB(rgb[0], rgb[1], rgb[2])], "%v", rgb)
	}
}

// TestHeightFromHomography: a camera is recovered from the homography
// of its own projection, and measures a person's height.
func TestHeightFromHomography(t *testing.T) {
	// A camera 8 m up, looking down at 30°, f = 800 px, 768×576.
	truth := lookDown(8, 30, 800, 384, 288)
	var img, ground []geom.Point
	for _, g := range []geom.Point{{X: -5, Y: 10}, {X: 5, Y: 10}, {X: 5, Y: 30}, {X: -5, Y: 30}, {X: 0, Y: 18}} {
		p, ok := truth.Project(g.X, g.Y, 0)
		require.True(t, ok)
		img, ground = append(img, p), append(ground, g)
	}
	h, err := geom.FitHomography(img, ground)
	require.NoError(t, err)
	cam, err := CameraFrom(h, 384, 288)
	require.NoError(t, err)
	for _, g := range []geom.Point{{X: 0, Y: 12}, {X: 3, Y: 25}, {X: -4, Y: 15}} {
		foot, _ := truth.Project(g.X, g.Y, 0)
		head, _ := truth.Project(g.X, g.Y, 1.75)
		got, ok := cam.Height(foot, head)
		require.True(t, ok)
		require.InDelta(t, 1.75, got, 0.02, "at %v", g)
	}
	// A top-down (affine) calibration fixes no camera.
	_, err = CameraFrom(geom.Homography{{0.1, 0, 0}, {0, 0.1, 0}, {0, 0, 1}}, 384, 288)
	require.Error(t, err)
}

// lookDown builds a camera at height z looking along ground +Y, pitched
// down by deg.
func lookDown(z, deg, f, cx, cy float64) *Camera {
	th := deg * 3.141592653589793 / 180
	s, c := math.Sin(th), math.Cos(th)
	// Camera axes in world coordinates: x right = (1,0,0); y down and z
	// forward, pitched.
	rx := [3]float64{1, 0, 0}
	ry := [3]float64{0, -s, -c}
	rz := [3]float64{0, c, -s}
	centre := [3]float64{0, 0, z}
	R := [3][3]float64{rx, ry, rz}
	var t [3]float64
	for i := range 3 {
		t[i] = -(R[i][0]*centre[0] + R[i][1]*centre[1] + R[i][2]*centre[2])
	}
	k := [3][3]float64{{f, 0, cx}, {0, f, cy}, {0, 0, 1}}
	cam := &Camera{}
	for i := range 3 {
		for j := range 4 {
			for l := range 3 {
				if j < 3 {
					cam.p[i][j] += k[i][l] * R[l][j]
				} else {
					cam.p[i][j] += k[i][l] * t[l]
				}
			}
		}
	}
	return cam
}

// frame draws people as coloured boxes on a grey ground.
func frame(i int, people []figure) *decode.Frame {
	const w, h = 320, 240
	f := &decode.Frame{Index: i, PTS: time.Duration(i) * 100 * time.Millisecond, Width: w, Height: h, Pix: make([]byte, w*h*3)}
	for k := 0; k < len(f.Pix); k += 3 {
		f.Pix[k], f.Pix[k+1], f.Pix[k+2] = 120, 120, 118
	}
	for _, p := range people {
		fill(f, part(p.box, 0, 1, 0, 0.5), p.top)
		fill(f, part(p.box, 0, 1, 0.5, 1), p.bottom)
	}
	return f
}

type figure struct {
	box         geom.Box
	top, bottom [3]byte
}

func fill(f *decode.Frame, b geom.Box, c [3]byte) {
	for y := int(b.Y); y < int(b.Y2()); y++ {
		for x := int(b.X); x < int(b.X2()); x++ {
			copy(f.Pix[(y*f.Width+x)*3:], c[:])
		}
	}
}

// meanColour embeds a box as its mean colour: a real, if weak, embedder.
type meanColour struct{ calls int }

func (m *meanColour) Embed(f *decode.Frame, boxes []geom.Box) ([][]float32, error) {
	m.calls++
	out := make([][]float32, len(boxes))
	for i, b := range boxes {
		v := make([]float32, 3)
		n := 0
		for y := int(b.Y); y < int(b.Y2()); y++ {
			for x := int(b.X); x < int(b.X2()); x++ {
				for c := range 3 {
					v[c] += float32(f.Pix[(y*f.Width+x)*3+c])
				}
				n++
			}
		}
		out[i] = v
	}
	return out, nil
}

func TestCollectorPerson(t *testing.T) {
	emb := &meanColour{}
	col := New(Config{Embedder: emb})
	red, black := [3]byte{200, 25, 30}, [3]byte{20, 20, 22}
	for i := range 30 {
		y := 180 - 3*float64(i) // walking up the image: north
		person := geom.Box{X: 100, Y: y - 60, W: 24, H: 60}
		bag := geom.Box{X: 104, Y: y - 50, W: 14, H: 18}
		f := frame(i, []figure{{box: person, top: red, bottom: black}})
		dets := []detect.Detection{{Box: person, Class: detect.Person, Score: 0.9}, {Box: bag, Class: detect.Backpack, Score: 0.6}}
		tracks := []track.Track{{ID: 7, Class: detect.Person, Box: person, DetIndex: 0}, {ID: 8, Class: detect.Backpack, Box: bag, DetIndex: 1}}
		col.Observe(f, tracks, dets)
	}
	_, ok := col.End(8)
	require.False(t, ok, "a carried object is not described on its own")
	a, ok := col.End(7)
	require.True(t, ok)
	require.Equal(t, []string{"red"}, a.Upper)
	require.Equal(t, []string{"black"}, a.Lower)
	require.Equal(t, []string{"backpack"}, a.Carried)
	require.Equal(t, "north", a.Heading)
	require.Zero(t, a.HeightM, "no calibration, no height")
	require.Len(t, a.Embedding, 3)
	require.LessOrEqual(t, emb.calls, 10, "only sampled crops are embedded")
	img, err := jpeg.Decode(bytes.NewReader(a.Thumb))
	require.NoError(t, err)
	require.Equal(t, 128, img.Bounds().Dy())
	_, ok = col.End(7)
	require.False(t, ok, "ended once")
}

func TestCollectorMixedAndVehicle(t *testing.T) {
	col := New(Config{Every: 1})
	for i := range 10 {
		person := geom.Box{X: 40 + 4*float64(i), Y: 60, W: 24, H: 60}
		car := geom.Box{X: 200, Y: 150, W: 60, H: 40}
		// Striped top: red and white halves.
		f := frame(i, []figure{{box: person, top: [3]byte{200, 25, 30}, bottom: [3]byte{30, 40, 140}},
			{box: car, top: [3]byte{240, 240, 240}, bottom: [3]byte{240, 240, 240}}})
		fill(f, part(person, 0.5, 1, 0, 0.5), [3]byte{245, 245, 245})
		dets := []detect.Detection{{Box: person, Class: detect.Person}, {Box: car, Class: detect.Car}}
		col.Observe(f, []track.Track{{ID: 1, Class: detect.Person, Box: person, DetIndex: 0}, {ID: 2, Class: detect.Car, Box: car, DetIndex: 1}}, dets)
	}
	a, _ := col.End(1)
	require.ElementsMatch(t, []string{"red", "white"}, a.Upper)
	require.Equal(t, []string{"blue"}, a.Lower)
	require.Equal(t, "east", a.Heading)
	require.Empty(t, a.Carried)
	v, _ := col.End(2)
	require.Equal(t, []string{"white"}, v.Colours)
	require.Empty(t, v.Heading, "a parked car has no heading")
}

func TestGreyWorldCompensates(t *testing.T) {
	// A warm cast on the whole frame: the grey ground stays grey and a
	// white top stays white.
	f := frame(0, []figure{{box: geom.Box{X: 100, Y: 60, W: 24, H: 60}, top: [3]byte{240, 240, 240}, bottom: [3]byte{20, 20, 20}}})
	for k := 0; k < len(f.Pix); k += 3 {
		f.Pix[k] = byte(min(255, int(f.Pix[k])*12/10))
		f.Pix[k+2] = byte(int(f.Pix[k+2]) * 8 / 10)
	}
	g := greyWorld(f)
	h := regionHistogram(f, geom.Box{X: 0, Y: 0, W: 90, H: 240}, g, 4)
	require.Equal(t, []string{"grey"}, h.names(0.25, 3))
}

// BenchmarkObserve is the collector's cost per frame: a 768×576 frame
// (vtest.avi's size) with 8 people tracked, every track sampled every
// third frame as by default.
func BenchmarkObserve(b *testing.B) {
	f := &decode.Frame{Width: 768, Height: 576, Pix: make([]byte, 768*576*3)}
	for i := range f.Pix {
		f.Pix[i] = byte(i * 7)
	}
	var tracks []track.Track
	var dets []detect.Detection
	for k := range 8 {
		box := geom.Box{X: float64(40 + 90*k), Y: 200, W: 36, H: 90}
		tracks = append(tracks, track.Track{ID: k + 1, Class: detect.Person, Box: box, DetIndex: k})
		dets = append(dets, detect.Detection{Box: box, Class: detect.Person})
	}
	col := New(Config{})
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		f.Index = i
		col.Observe(f, tracks, dets)
	}
}

// TestVehicleColoursSetTheDarkPartsAside: the glass, tyres and shadow a
// white car shows do not make it black; a car that is black nearly all
// over is black.
func TestVehicleColoursSetTheDarkPartsAside(t *testing.T) {
	idx := func(n string) int { return colourIndex(n) }
	var white histogram
	white[idx("black")], white[idx("white")], white[idx("grey")] = 45, 30, 25
	require.Equal(t, []string{"black", "white"}, white.names(0.25, 2), "plain naming calls it black")
	require.Equal(t, []string{"white", "grey"}, white.vehicleNames(0.25, 2))

	var black histogram
	black[idx("black")], black[idx("blue")] = 70, 30
	require.Equal(t, []string{"black", "blue"}, black.vehicleNames(0.25, 2))

	var allBlack histogram
	allBlack[idx("black")] = 10
	require.Equal(t, []string{"black"}, allBlack.vehicleNames(0.25, 2))
	var empty histogram
	require.Nil(t, empty.vehicleNames(0.25, 2))
}
