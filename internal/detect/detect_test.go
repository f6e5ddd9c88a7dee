package detect

import (
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/vigil-cctv/vigil/internal/geom"
)

func TestLetterboxGeometry(t *testing.T) {
	lb := NewLetterbox(768, 576, 640, 640)
	require.InDelta(t, 640.0/768, lb.Scale, 1e-12)
	require.Equal(t, 640, lb.ScaledW)
	require.Equal(t, 480, lb.ScaledH)
	require.Equal(t, 0, lb.PadX)
	require.Equal(t, 80, lb.PadY)
	src := geom.Box{X: 100, Y: 200, W: 30, H: 90}
	model := src.Scale(lb.Scale).Translate(float64(lb.PadX), float64(lb.PadY))
	back := lb.ToSource(model)
	require.InDelta(t, src.X, back.X, 1e-9)
	require.InDelta(t, src.Y, back.Y, 1e-9)
	require.InDelta(t, src.H, back.H, 1e-9)
}

// naiveBilinear samples one channel at output (ox, oy) the slow, obvious way.
func naiveBilinear(pix []byte, w, h, c int, fx, fy float64) float64 {
	x0, y0 := int(math.Floor(fx)), int(math.Floor(fy))
	x1, y1 := min(x0+1, w-1), min(y0+1, h-1)
	ax, ay := fx-float64(x0), fy-float64(y0)
	at := func(x, y int) float64 { return float64(pix[(y*w+x)*3+c]) }
	top := at(x0, y0)*(1-ax) + at(x1, y0)*ax
	bot := at(x0, y1)*(1-ax) + at(x1, y1)*ax
	return (top*(1-ay) + bot*ay) / 255
}

func TestLetterboxFillMatchesNaiveBilinear(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := rapid.IntRange(2, 40).Draw(t, "w")
		h := rapid.IntRange(2, 40).Draw(t, "h")
		dw := rapid.IntRange(2, 48).Draw(t, "dw")
		dh := rapid.IntRange(2, 48).Draw(t, "dh")
		pix := rapid.SliceOfN(rapid.Byte(), w*h*3, w*h*3).Draw(t, "pix")
		lb := NewLetterbox(w, h, dw, dh)
		dst := make([]float32, 3*dw*dh)
		require.NoError(t, lb.Fill(dst, pix))
		plane := dw * dh
		for oy := 0; oy < dh; oy++ {
			for ox := 0; ox < dw; ox++ {
				inside := ox >= lb.PadX && ox < lb.PadX+lb.ScaledW && oy >= lb.PadY && oy < lb.PadY+lb.ScaledH
				for c := 0; c < 3; c++ {
					got := float64(dst[c*plane+oy*dw+ox])
					if !inside {
						require.InDelta(t, padValue, got, 1e-6)
						continue
					}
					fx := math.Max(0, (float64(ox-lb.PadX)+0.5)*float64(w)/float64(lb.ScaledW)-0.5)
					fy := math.Max(0, (float64(oy-lb.PadY)+0.5)*float64(h)/float64(lb.ScaledH)-0.5)
					fx, fy = math.Min(fx, float64(w-1)), math.Min(fy, float64(h-1))
					require.InDelta(t, naiveBilinear(pix, w, h, c, fx, fy), got, 1e-4, "at %d,%d c%d", ox, oy, c)
				}
			}
		}
	})
}

func TestLetterboxFillRejectsWrongSizes(t *testing.T) {
	lb := NewLetterbox(4, 4, 8, 8)
	require.Error(t, lb.Fill(make([]float32, 10), make([]byte, 48)))
	require.Error(t, lb.Fill(make([]float32, 192), make([]byte, 47)))
}

func TestNMSGroupsVehicles(t *testing.T) {
	box := geom.Box{X: 10, Y: 10, W: 100, H: 50}
	near := box.Translate(2, 1)
	dets := []Detection{
		{Box: near, Class: Truck, Score: 0.6},
		{Box: box, Class: Car, Score: 0.9},
		{Box: box, Class: Person, Score: 0.5},
		{Box: near, Class: Bicycle, Score: 0.4},
		{Box: box.Translate(300, 0), Class: Bus, Score: 0.3},
	}
	kept := NMS(dets, 0.5, 100)
	classes := []Class{}
	for _, d := range kept {
		classes = append(classes, d.Class)
	}
	require.Equal(t, []Class{Car, Person, Bicycle, Bus}, classes)
	require.Len(t, NMS(append([]Detection(nil), dets...), 0.5, 2), 2)
}

// yoloOutput builds a [1, 4+nc, n] tensor from per-anchor rows.
func yoloOutput(nc int, anchors [][]float32) ([]float32, []int64) {
	n := len(anchors)
	out := make([]float32, (4+nc)*n)
	for a, row := range anchors {
		for r, v := range row {
			out[r*n+a] = v
		}
	}
	return out, []int64{1, int64(4 + nc), int64(n)}
}

func TestDecodeYOLOv8(t *testing.T) {
	nc := 80
	person := make([]float32, 4+nc)
	copy(person, []float32{100, 100, 20, 60})
	person[4+int(Person)] = 0.9
	dup := append([]float32(nil), person...)
	dup[0] = 101
	dup[4+int(Person)] = 0.8
	dog := make([]float32, 4+nc)
	copy(dog, []float32{300, 300, 50, 50})
	dog[4+16] = 0.95 // dog: not a kept class
	weak := make([]float32, 4+nc)
	copy(weak, []float32{400, 100, 40, 20})
	weak[4+int(Car)] = 0.05
	out, shape := yoloOutput(nc, [][]float32{person, dup, dog, weak})
	dets, err := DecodeYOLOv8(out, shape, DecodeOptions{Conf: 0.1, IoU: 0.5})
	require.NoError(t, err)
	require.Len(t, dets, 1)
	require.Equal(t, Person, dets[0].Class)
	require.Equal(t, geom.Box{X: 90, Y: 70, W: 20, H: 60}, dets[0].Box)

	_, err = DecodeYOLOv8(out, []int64{1, 84, 5}, DecodeOptions{})
	require.Error(t, err)
	_, err = DecodeYOLOv8(out, []int64{84, 4}, DecodeOptions{})
	require.Error(t, err)
}

func TestParseClassSet(t *testing.T) {
	s, err := ParseClassSet("person, vehicle")
	require.NoError(t, err)
	require.True(t, s.Allows(Person))
	require.True(t, s.Allows(Truck))
	require.False(t, s.Allows(Bicycle))
	_, err = ParseClassSet("person,dragon")
	require.ErrorContains(t, err, `unknown class "dragon"`)
	_, err = ParseClassSet(" , ")
	require.Error(t, err)
	all, err := ParseClassSet("all")
	require.NoError(t, err)
	require.Len(t, all, len(KeptNames()))
}

func FuzzDecodeYOLOv8(f *testing.F) {
	f.Add([]byte{1, 2, 3}, int64(1), int64(5), int64(1), float32(0.1))
	f.Add(make([]byte, 4*84*3), int64(1), int64(84), int64(3), float32(0))
	// One anchor with a good box and an infinite person score: it must not
	// come out as a detection scored +Inf.
	f.Add(float32Bytes(append([]float32{10, 10, 5, 5, float32(math.Inf(1))}, make([]float32, 79)...)), int64(1), int64(84), int64(1), float32(0.25))
	f.Fuzz(func(t *testing.T, raw []byte, d0, d1, d2 int64, conf float32) {
		vals := make([]float32, len(raw)/4)
		for i := range vals {
			bits := uint32(raw[4*i]) | uint32(raw[4*i+1])<<8 | uint32(raw[4*i+2])<<16 | uint32(raw[4*i+3])<<24
			vals[i] = math.Float32frombits(bits)
		}
		dets, err := DecodeYOLOv8(vals, []int64{d0, d1, d2}, DecodeOptions{Conf: conf, IoU: 0.5})
		if err != nil {
			return
		}
		for _, d := range dets {
			if p := detectionProblem(d, conf); p != "" {
				t.Fatal(p)
			}
		}
	})
}

func float32Bytes(vs []float32) []byte {
	out := make([]byte, 0, 4*len(vs))
	for _, v := range vs {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
	}
	return out
}

// detectionProblem says what is wrong with a detection no caller could use:
// an unkept class, a box that is not finite or has no area (NaN and +Inf
// pass a plain W <= 0), or a score that is not finite or below the
// confidence asked for. It returns "" for a good one.
func detectionProblem(d Detection, conf float32) string {
	b := d.Box
	for _, v := range []float64{b.X, b.Y, b.W, b.H, b.X + b.W, b.Y + b.H, float64(d.Score)} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Sprintf("non-finite value in %+v", d)
		}
	}
	switch {
	case !d.Class.Kept():
		return fmt.Sprintf("class %v is not kept", d.Class)
	case !(b.W > 0) || !(b.H > 0):
		return fmt.Sprintf("box without area %+v", b)
	case !(d.Score >= conf):
		return fmt.Sprintf("score %v below conf %v", d.Score, conf)
	}
	return ""
}

func TestDetectionProblem(t *testing.T) {
	inf := math.Inf(1)
	require.Empty(t, detectionProblem(Detection{Box: geom.Box{X: 1, Y: 1, W: 1, H: 1}, Class: Person, Score: 0.5}, 0.5))
	for _, d := range []Detection{
		{Box: geom.Box{X: 1, Y: 1, W: math.NaN(), H: 1}, Class: Person, Score: 0.9},
		{Box: geom.Box{X: 1, Y: 1, W: inf, H: 1}, Class: Person, Score: 0.9},
		{Box: geom.Box{X: 1, Y: 1, W: 1, H: 1}, Class: Person, Score: float32(inf)},
		{Box: geom.Box{X: 1, Y: 1, W: 1, H: 1}, Class: Person, Score: 0.1},
		{Box: geom.Box{X: 1, Y: 1, W: 0, H: 1}, Class: Person, Score: 0.9},
	} {
		require.NotEmpty(t, detectionProblem(d, 0.5), "%+v", d)
	}
}
