package scenedraw

import (
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/render"
	"github.com/vigil-cctv/vigil/internal/scene"
)

const bg = 40 // grey level of blank test canvases

var exampleScenes = []string{"example.yaml", "example-rectangle.yaml"}

func loadScene(t *testing.T, name string) *scene.Scene {
	t.Helper()
	sc, err := scene.Load(filepath.Join("..", "..", "testdata", "scenes", name))
	require.NoError(t, err)
	return sc
}

func blank(w, h int) render.Canvas {
	pix := make([]byte, w*h*3)
	for i := range pix {
		pix[i] = bg
	}
	return render.Canvas{W: w, H: h, Pix: pix[:len(pix):len(pix)]}
}

func changed(c render.Canvas, p geom.Point) bool {
	x, y := int(p.X), int(p.Y)
	if x < 0 || y < 0 || x >= c.W || y >= c.H {
		return false
	}
	i := (y*c.W + x) * 3
	return c.Pix[i] != bg || c.Pix[i+1] != bg || c.Pix[i+2] != bg
}

// changedNear is changed for any pixel of the 3×3 block around p: a
// one-pixel line passes within a pixel of its ideal position.
func changedNear(c render.Canvas, p geom.Point) bool {
	for dy := -1.0; dy <= 1; dy++ {
		for dx := -1.0; dx <= 1; dx++ {
			if changed(c, p.Add(geom.Point{X: dx, Y: dy})) {
				return true
			}
		}
	}
	return false
}

// interior finds a pixel centre well inside the zone: the centroid when it
// is inside, else the first inside point on a coarse raster.
func interior(t *testing.T, z *scene.Zone) geom.Point {
	if p := z.Polygon.Centroid(); z.Contains(p) {
		return p
	}
	for y := 0.5; y < 4000; y += 3 {
		for x := 0.5; x < 4000; x += 3 {
			if p := (geom.Point{X: x, Y: y}); z.Contains(p) {
				return p
			}
		}
	}
	t.Fatalf("zone %s has no interior point", z.Name)
	return geom.Point{}
}

func TestDrawExampleScenes(t *testing.T) {
	for _, name := range exampleScenes {
		for _, opt := range []Options{{}, {Grid: true, Labels: true}} {
			t.Run(fmt.Sprintf("%s/%+v", name, opt), func(t *testing.T) {
				sc := loadScene(t, name)
				c := blank(sc.Image.Width, sc.Image.Height)
				Draw(c, sc, opt)
				for _, z := range sc.Zones {
					require.True(t, changed(c, interior(t, z)), "zone %s interior untouched", z.Name)
				}
				for _, l := range sc.Lines {
					for _, f := range []float64{0.25, 0.5, 0.75} {
						p := l.A.Add(l.B.Sub(l.A).Scale(f))
						require.True(t, changed(c, p), "line %s untouched at %v", l.Name, p)
					}
				}
				for _, l := range sc.Lanes {
					p := l.Arrow[0].Add(l.Arrow[1].Sub(l.Arrow[0]).Scale(0.3))
					require.True(t, changed(c, p), "lane %s untouched at %v", l.Name, p)
				}
			})
		}
	}
}

func TestDrawZonesLight(t *testing.T) {
	sc := loadScene(t, "example.yaml")
	c := blank(sc.Image.Width, sc.Image.Height)
	DrawZonesLight(c, sc)
	for _, z := range sc.Zones {
		for i, a := range z.Polygon {
			b := z.Polygon[(i+1)%len(z.Polygon)]
			// Endpoints on the frame's last row/column are clipped.
			m := a.Add(b).Scale(0.5)
			m.X, m.Y = min(m.X, float64(c.W-1)), min(m.Y, float64(c.H-1))
			require.True(t, changedNear(c, m), "zone %s edge %d untouched", z.Name, i)
		}
	}
	// Light means light: the inside of a big zone away from its label
	// stays as it was.
	require.False(t, changed(c, geom.Point{X: 390, Y: 540}), "road interior filled")
}

// steepScene has a camera looking at the ground with the horizon at image
// row horizonY: ground X = 2(u−320)/(v−h), ground Y = 400/(v−h). No
// calibration pairs, so only the grid draws.
func steepScene(horizonY float64) *scene.Scene {
	h := geom.Homography{
		{2, 0, -640},
		{0, 0, 400},
		{0, 1, -horizonY},
	}
	return &scene.Scene{Camera: "steep", Image: scene.Size{Width: 640, Height: 480}, Homography: &h}
}

func TestGridOnlyBelowHorizon(t *testing.T) {
	const horizon = 150
	sc := steepScene(horizon)
	c := blank(640, 480)
	Draw(c, sc, Options{Grid: true})
	var below int
	for y := range c.H {
		for x := range c.W {
			if !changed(c, geom.Point{X: float64(x), Y: float64(y)}) {
				continue
			}
			require.Greater(t, y, horizon, "grid pixel at (%d,%d) is at or above the horizon", x, y)
			below++
		}
	}
	require.Greater(t, below, 2000, "grid hardly drawn")
	g := newGrid(c, sc, 0)
	require.NotNil(t, g)
	require.Contains(t, niceSteps, g.step)
}

func TestGridStepAndLabels(t *testing.T) {
	sc := loadScene(t, "example.yaml")
	c := blank(sc.Image.Width, sc.Image.Height)
	g := newGrid(c, sc, 0)
	require.NotNil(t, g)
	require.LessOrEqual(t, g.step, 5.0, "auto step too coarse for a 30 m scene")
	// An absurdly fine step is coarsened rather than drawing thousands of lines.
	g = newGrid(c, sc, 0.001)
	require.NotNil(t, g)
	require.LessOrEqual(t, (g.x1-g.x0)/g.step, float64(maxLines))
	// Uncalibrated: no grid, no panic.
	sc.Homography, sc.Calibration = nil, nil
	require.Nil(t, newGrid(c, sc, 0))
	Draw(c, sc, Options{Grid: true, Labels: true})
}

func TestDrawRandomScenesStayInBounds(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := rapid.IntRange(1, 160).Draw(t, "w")
		h := rapid.IntRange(1, 160).Draw(t, "h")
		coord := rapid.Float64Range(-400, 600)
		pt := rapid.Custom(func(t *rapid.T) geom.Point {
			return geom.Point{X: coord.Draw(t, "x"), Y: coord.Draw(t, "y")}
		})
		sc := &scene.Scene{Camera: "rand", Image: scene.Size{Width: w, Height: h}}
		types := []scene.ZoneType{scene.Carriageway, scene.Crosswalk, scene.Sidewalk, scene.Restricted, scene.Parking, scene.Custom}
		for i := range rapid.IntRange(0, 4).Draw(t, "zones") {
			pg := rapid.SliceOfN(pt, 3, 8).Draw(t, "polygon")
			sc.Zones = append(sc.Zones, &scene.Zone{Name: fmt.Sprintf("z%d", i), Type: rapid.SampledFrom(types).Draw(t, "type"), Polygon: pg})
		}
		for i := range rapid.IntRange(0, 3).Draw(t, "lines") {
			in := rapid.SampledFrom([]scene.LineSide{scene.Left, scene.Right}).Draw(t, "in")
			sc.Lines = append(sc.Lines, &scene.Line{Name: fmt.Sprintf("l%d", i), A: pt.Draw(t, "a"), B: pt.Draw(t, "b"), In: in})
		}
		for i := range rapid.IntRange(0, 3).Draw(t, "lanes") {
			sc.Lanes = append(sc.Lanes, &scene.Lane{Name: fmt.Sprintf("n%d", i), Arrow: [2]geom.Point{pt.Draw(t, "p"), pt.Draw(t, "q")}})
		}
		if rapid.Bool().Draw(t, "calibrated") {
			calibrate(t, sc, pt)
		}
		c := blank(w, h)
		opt := Options{Grid: rapid.Bool().Draw(t, "grid"), Labels: rapid.Bool().Draw(t, "labels"),
			GridStep: rapid.SampledFrom([]float64{0, 0.01, 1, 3.7, 1e6}).Draw(t, "step")}
		Draw(c, sc, opt)
		DrawZonesLight(c, sc)
	})
}

// calibrate fits a homography to random pairs, when they admit one.
func calibrate(t *rapid.T, sc *scene.Scene, pt *rapid.Generator[geom.Point]) {
	img := rapid.SliceOfN(pt, 4, 6).Draw(t, "img")
	ground := make([]geom.Point, len(img))
	cal := &scene.Calibration{}
	for i := range img {
		ground[i] = pt.Draw(t, "ground")
		cal.Pairs = append(cal.Pairs, scene.Pair{Image: img[i], Ground: ground[i]})
	}
	hm, err := geom.FitHomography(img, ground)
	if err != nil {
		return
	}
	cal.H = hm
	cal.RMSError, cal.MaxError = geom.ReprojectionError(hm, img, ground)
	sc.Calibration, sc.Homography = cal, &cal.H
}

const vtest = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

func needVideo(t *testing.T) {
	t.Helper()
	for _, b := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s not on PATH: skipping the decode test (run make setup)", b)
		}
	}
	if _, err := os.Stat(vtest); err != nil {
		t.Skipf("%s not present (apt install opencv-doc): skipping the decode test", vtest)
	}
}

func TestRenderFile(t *testing.T) {
	needVideo(t)
	sc := loadScene(t, "example.yaml") // 768×576, the size of vtest.avi
	out := filepath.Join(t.TempDir(), "sub", "scene.png")
	require.NoError(t, RenderFile(context.Background(), sc, vtest, out, 3))
	f, err := os.Open(out)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	require.Equal(t, 768, img.Bounds().Dx())
	require.Equal(t, 576, img.Bounds().Dy())
}

func TestRenderFileSizeMismatch(t *testing.T) {
	needVideo(t)
	sc := loadScene(t, "example-rectangle.yaml") // 1920×1080
	out := filepath.Join(t.TempDir(), "scene.png")
	err := RenderFile(context.Background(), sc, vtest, out, 0)
	require.Error(t, err)
	require.Contains(t, err.Error(), "768x576")
	require.Contains(t, err.Error(), "1920x1080")
	_, statErr := os.Stat(out)
	require.True(t, os.IsNotExist(statErr), "no PNG on error")
}

func TestRenderFileFrameOutOfRange(t *testing.T) {
	needVideo(t)
	dir := filepath.Join("..", "..", "..", "shared", "data", "cdnet-highway", "input")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("%s not present: skipping", dir)
	}
	sc := steepScene(100)
	sc.Image = scene.Size{Width: 320, Height: 240}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := RenderFile(ctx, sc, dir, filepath.Join(t.TempDir(), "x.png"), 1_000_000)
	require.ErrorContains(t, err, "no frame 1000000")
}
