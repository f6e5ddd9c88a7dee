package reid

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/geom"
)

func solid(w, h int, rgb [3]byte) *decode.Frame {
	pix := make([]byte, w*h*3)
	for i := 0; i < len(pix); i += 3 {
		pix[i], pix[i+1], pix[i+2] = rgb[0], rgb[1], rgb[2]
	}
	return &decode.Frame{Width: w, Height: h, Pix: pix}
}

// A solid crop normalises every channel to (v/255-mean)/std.
func TestFillSolid(t *testing.T) {
	f := solid(64, 48, [3]byte{255, 128, 0})
	dst := make([]float32, 3*InputH*InputW)
	Fill(dst, f, geom.Box{X: 10, Y: 5, W: 20, H: 30})
	plane := InputH * InputW
	for ch, v := range []float32{1, 128.0 / 255, 0} {
		want := (v - mean[ch]) / std[ch]
		for _, i := range []int{0, plane / 2, plane - 1} {
			require.InDelta(t, want, dst[ch*plane+i], 1e-5)
		}
	}
}

// The crop comes from the box, not the whole frame: a box over the right
// half of a left-black/right-white frame is all white, and planes are RGB
// in order.
func TestFillCropsBoxAndKeepsChannelOrder(t *testing.T) {
	f := solid(40, 40, [3]byte{0, 0, 0})
	for y := range 40 {
		for x := 20; x < 40; x++ {
			f.Pix[(y*40+x)*3] = 200 // red only
		}
	}
	dst := make([]float32, 3*InputH*InputW)
	Fill(dst, f, geom.Box{X: 20, Y: 0, W: 20, H: 40})
	plane := InputH * InputW
	require.InDelta(t, (200.0/255-mean[0])/std[0], dst[0], 1e-5)
	require.InDelta(t, -mean[1]/std[1], dst[plane], 1e-5)
	require.InDelta(t, -mean[2]/std[2], dst[2*plane+plane-1], 1e-5)
}

// A box entirely outside the frame fills black instead of panicking.
func TestFillOutside(t *testing.T) {
	f := solid(16, 16, [3]byte{255, 255, 255})
	dst := make([]float32, 3*InputH*InputW)
	Fill(dst, f, geom.Box{X: 100, Y: 100, W: 10, H: 10})
	require.InDelta(t, -mean[0]/std[0], dst[0], 1e-6)
}

func TestVectors(t *testing.T) {
	v := Normalize([]float32{3, 4})
	require.InDelta(t, 0.6, v[0], 1e-6)
	require.InDelta(t, 1, Cosine(v, v), 1e-6)
	require.Equal(t, []float32{0, 0}, Normalize([]float32{0, 0}))
	require.Zero(t, Cosine([]float32{1}, []float32{1, 0}))
	m := Mean([][]float32{{1, 0}, nil, {0, 1}})
	require.InDelta(t, math.Sqrt2/2, m[0], 1e-6)
	require.Nil(t, Mean([][]float32{nil}))
}

func TestQuality(t *testing.T) {
	good := geom.Box{X: 100, Y: 100, W: 40, H: 100}
	require.InDelta(t, 0.5, Quality(good, 768, 576, nil), 1e-9)
	require.Zero(t, Quality(geom.Box{X: 100, Y: 100, W: 10, H: 30}, 768, 576, nil), "too small")
	require.Zero(t, Quality(geom.Box{X: 0, Y: 100, W: 40, H: 100}, 768, 576, nil), "cut by the edge")
	require.Zero(t, Quality(geom.Box{X: 100, Y: 100, W: 100, H: 100}, 768, 576, nil), "not person-shaped")
	require.Zero(t, Quality(good, 768, 576, []geom.Box{good, {X: 110, Y: 100, W: 40, H: 100}}), "covered")
	require.InDelta(t, 0.5*0.9, Quality(good, 768, 576, []geom.Box{{X: 136, Y: 100, W: 40, H: 100}}), 1e-9)
}

func TestGalleryKeepsBest(t *testing.T) {
	g := Gallery{Keep: 2}
	require.False(t, g.Add(nil, 1))
	require.False(t, g.Add([]float32{1, 0}, 0))
	require.True(t, g.Add([]float32{1, 0}, 0.2))
	require.True(t, g.Add([]float32{0, 1}, 0.9))
	require.True(t, g.Add([]float32{0, 1}, 0.5))
	require.False(t, g.Add([]float32{1, 0}, 0.1))
	require.Equal(t, 2, g.Len())
	require.Equal(t, []float32{0, 1}, g.Mean())
	require.Nil(t, (&Gallery{}).Mean())
}

// modelConfig finds OSNet beside the repository and ONNX Runtime in the
// cache, or skips.
func modelConfig(t testing.TB, file string) Config {
	t.Helper()
	cache := os.Getenv("VIGIL_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "vigil")
	}
	cfg := Config{Model: filepath.Join("..", "..", "..", "shared", "models", file), Library: filepath.Join(cache, "lib", "libonnxruntime.so.1")}
	for _, p := range []string{cfg.Model, cfg.Library} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("%s missing (OSNet lives in ../shared/models; ONNX Runtime comes from make setup)", p)
		}
	}
	return cfg
}

// patterned draws distinct coloured blocks so that crops differ.
func patterned() *decode.Frame {
	f := solid(320, 240, [3]byte{30, 30, 30})
	for y := range 240 {
		for x := range 320 {
			p := f.Pix[(y*320+x)*3:]
			p[0], p[1], p[2] = byte(x*255/320), byte(y*255/240), byte((x*y)%251)
		}
	}
	return f
}

// Batched and one-at-a-time runs agree, embeddings are unit length, and
// the fixed-batch export gives the same numbers as the dynamic one (their
// weights are byte-identical).
func TestEmbedModel(t *testing.T) {
	dyn, err := New(modelConfig(t, ModelFile))
	require.NoError(t, err)
	defer func() { require.NoError(t, dyn.Close()) }()
	fixed, err := New(modelConfig(t, "osnet_x0_25_msmt17.onnx"))
	require.NoError(t, err)
	defer func() { require.NoError(t, fixed.Close()) }()
	require.Equal(t, 1, fixed.Batch())

	f := patterned()
	boxes := []geom.Box{{X: 10, Y: 10, W: 50, H: 120}, {X: 200, Y: 60, W: 60, H: 150}, {X: 500, Y: 0, W: 5, H: 5}, {X: 120, Y: 40, W: 40, H: 100}}
	batched, err := dyn.Embed(f, boxes)
	require.NoError(t, err)
	single, err := fixed.Embed(f, boxes)
	require.NoError(t, err)
	require.Nil(t, batched[2], "a box outside the frame has no embedding")
	for _, i := range []int{0, 1, 3} {
		require.Len(t, batched[i], Dim)
		require.InDelta(t, 1, Cosine(batched[i], batched[i]), 1e-4)
		require.InDelta(t, 1, Cosine(batched[i], single[i]), 1e-4)
	}
	require.Less(t, Cosine(batched[0], batched[1]), float32(0.999))
}

func TestNewErrors(t *testing.T) {
	_, err := New(Config{Model: "/nonexistent.onnx", Library: "/nonexistent.so"})
	require.ErrorContains(t, err, "not found")
}

// BenchmarkEmbed measures one crop and a batch of eight.
func BenchmarkEmbed(b *testing.B) {
	e, err := New(modelConfig(b, ModelFile))
	require.NoError(b, err)
	defer e.Close()
	f := patterned()
	for _, n := range []int{1, 8} {
		boxes := make([]geom.Box, n)
		for i := range boxes {
			boxes[i] = geom.Box{X: float64(10 + 30*i), Y: 20, W: 40, H: 100}
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for range b.N {
				_, err := e.Embed(f, boxes)
				require.NoError(b, err)
			}
		})
	}
}
