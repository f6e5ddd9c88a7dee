package baseline

import (
	"cmp"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/vigil-cctv/vigil/internal/geom"
)

// HeatmapOptions chooses what Heatmap draws.
type HeatmapOptions struct {
	Kind       string      // "occupancy", "speed", "direction" or "dwell"
	Class      string      // "" = all classes
	Hour       int         // −1 = all hours, else hour-of-week 0..167 (Monday 00:00 is 0)
	Background image.Image // drawn under the heat, scaled to the frame; nil = transparent
	Legend     bool
}

// heatMinSamples is the least effective evidence a cell needs to be drawn.
const heatMinSamples = 0.5

// cellHeat is one cell's value and how much to trust it.
type cellHeat struct {
	v       float64 // occupancy: samples; speed: median; direction: bearing; dwell: median s
	weight  float64 // evidence, effective samples
	opacity float64 // direction: resultant length in [0, 1]
}

// Heatmap draws what was learned over the camera view (w×h of the frame,
// or of the scene image): where objects are, their typical speed, their
// dominant heading (as hue, strength as opacity) or their typical dwell.
// Cells without evidence are left transparent (or show the background).
func (m *Model) Heatmap(opt HeatmapOptions) (*image.RGBA, error) {
	if m.w <= 0 || m.h <= 0 {
		return nil, errors.New("baseline: frame size unknown: no scene image size and no Update yet")
	}
	if opt.Hour < -1 || opt.Hour > 167 {
		return nil, fmt.Errorf("baseline: heatmap hour %d not in -1..167", opt.Hour)
	}
	cls := int16(-1)
	if opt.Class != "" {
		c := classByName(opt.Class)
		if c < 0 {
			return nil, fmt.Errorf("baseline: unknown class %q", opt.Class)
		}
		cls = int16(c)
	}
	switch opt.Kind {
	case KindBusy, KindSpeed, KindDirection, KindDwell:
	default:
		return nil, fmt.Errorf("baseline: heatmap kind %q: want occupancy, speed, direction or dwell", opt.Kind)
	}
	heat := m.cellHeats(opt.Kind, cls, int16(opt.Hour))
	lo, hi := heatRange(heat, opt.Kind)
	img := image.NewRGBA(image.Rect(0, 0, m.w, m.h))
	if opt.Background != nil {
		drawBackground(img, opt.Background)
	}
	for y := range m.h {
		for x := range m.w {
			c, a, ok := m.pixelHeat(heat, opt.Kind, x, y, lo, hi)
			if ok {
				blend(img, x, y, c, a)
			}
		}
	}
	if opt.Legend {
		drawLegend(img, opt.Kind, lo, hi, m.calibrated)
	}
	return img, nil
}

// cellHeats sums the chosen statistics per cell.
func (m *Model) cellHeats(kind string, cls, hour int16) map[cellXY]cellHeat {
	sums := map[cellXY]*classStats{}
	// Sorted, so that sums (and so pixels) do not depend on map order.
	keys := sortedKeys(m.stats, func(a, b statKey) int {
		return cmp.Or(cmpCell(a.c, b.c), cmp.Compare(a.hour, b.hour), cmp.Compare(a.class, b.class))
	})
	for _, k := range keys {
		s := m.stats[k]
		if k.hour != hour || (cls >= 0 && k.class != cls) {
			continue
		}
		t := sums[k.c]
		if t == nil {
			t = &classStats{}
			sums[k.c] = t
		}
		t.add(s)
	}
	out := make(map[cellXY]cellHeat, len(sums))
	for c, s := range sums {
		var h cellHeat
		switch kind {
		case KindBusy:
			h = cellHeat{v: s.n / m.inf, weight: s.n / m.inf}
		case KindSpeed:
			h = cellHeat{v: binMid(quantileBin(s.speed[:], 0.5), speedLo, speedRat, speedBins), weight: s.speedN / m.inf}
		case KindDwell:
			h = cellHeat{v: binMid(quantileBin(s.dwell[:], 0.5), dwellLo, dwellRat, dwellBins), weight: s.tracks / m.inf}
		default:
			h = dirHeat(s)
			h.weight /= m.inf
		}
		if h.weight >= heatMinSamples {
			out[c] = h
		}
	}
	return out
}

// binMid is a log-bin's geometric middle (half the first edge for bin 0).
func binMid(i int, lo, ratio float64, k int) float64 {
	if i == 0 {
		return lo / 2
	}
	return math.Sqrt(binLower(i, lo, ratio) * binUpper(i, lo, ratio, k))
}

// dirHeat is the mean heading of a cell and its resultant length.
func dirHeat(s *classStats) cellHeat {
	var vx, vy float64
	for i, w := range s.dir {
		a := float64(i) * 2 * math.Pi / dirBins // bin centres, north first
		vx += w * math.Sin(a)
		vy += w * math.Cos(a)
	}
	if s.dirN <= 0 {
		return cellHeat{}
	}
	deg := math.Atan2(vx, vy) * 180 / math.Pi
	if deg < 0 {
		deg += 360
	}
	return cellHeat{v: deg, weight: s.dirN, opacity: math.Hypot(vx, vy) / s.dirN}
}

// heatRange is the colour scale's span over the drawn cells.
func heatRange(heat map[cellXY]cellHeat, kind string) (float64, float64) {
	if kind == KindDirection {
		return 0, 360
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, h := range heat {
		lo, hi = min(lo, h.v), max(hi, h.v)
	}
	if kind == KindBusy {
		lo = 0
	}
	if !(hi > lo) {
		return lo, lo + 1
	}
	return lo, hi
}

// pixelHeat is the colour of the cell under pixel (x, y), as if it were a
// foot point.
func (m *Model) pixelHeat(heat map[cellXY]cellHeat, kind string, x, y int, lo, hi float64) (color.RGBA, float64, bool) {
	p := geom.Point{X: float64(x) + 0.5, Y: float64(y) + 0.5}
	var g geom.Point
	gOK := false
	if m.calibrated {
		g, gOK = m.sc.Homography.Apply(p)
	}
	c, ok := m.cellOf(p, g, gOK)
	if !ok {
		return color.RGBA{}, 0, false
	}
	h, ok := heat[c]
	if !ok {
		return color.RGBA{}, 0, false
	}
	col, a := heatColour(kind, h, lo, hi)
	return col, a, true
}

// heatColour is a cell's colour and opacity.
func heatColour(kind string, h cellHeat, lo, hi float64) (color.RGBA, float64) {
	trust := min(1, h.weight/minEvidence)
	switch kind {
	case KindDirection:
		return hue(h.v), 0.15 + 0.75*h.opacity*trust
	case KindBusy:
		t := math.Log1p(h.v) / math.Log1p(hi)
		return ramp(t), 0.3 + 0.6*t
	}
	t := (h.v - lo) / (hi - lo)
	if lo > 0 {
		t = math.Log(h.v/lo) / math.Log(hi/lo)
	}
	return ramp(t), 0.3 + 0.55*trust
}

// ramp runs blue → cyan → green → yellow → red over t in [0, 1].
func ramp(t float64) color.RGBA {
	t = min(max(t, 0), 1)
	stops := [5][3]float64{{0, 0, 255}, {0, 255, 255}, {0, 255, 0}, {255, 255, 0}, {255, 0, 0}}
	f := t * 4
	i := min(int(f), 3)
	u := f - float64(i)
	var c [3]uint8
	for j := range c {
		c[j] = uint8(stops[i][j] + u*(stops[i+1][j]-stops[i][j]) + 0.5)
	}
	return color.RGBA{c[0], c[1], c[2], 255}
}

// hue is a fully saturated colour for a compass bearing.
func hue(deg float64) color.RGBA {
	h := math.Mod(deg, 360) / 60
	x := 1 - math.Abs(math.Mod(h, 2)-1)
	var r, g, b float64
	switch int(h) {
	case 0:
		r, g = 1, x
	case 1:
		r, g = x, 1
	case 2:
		g, b = 1, x
	case 3:
		g, b = x, 1
	case 4:
		r, b = x, 1
	default:
		r, b = 1, x
	}
	return color.RGBA{uint8(255 * r), uint8(255 * g), uint8(255 * b), 255}
}

// blend draws c at opacity a over the pixel (premultiplied alpha).
func blend(img *image.RGBA, x, y int, c color.RGBA, a float64) {
	i := img.PixOffset(x, y)
	p := img.Pix[i : i+4 : i+4]
	src := [4]float64{float64(c.R) * a, float64(c.G) * a, float64(c.B) * a, 255 * a}
	for j := range p {
		p[j] = uint8(min(255, src[j]+float64(p[j])*(1-a)+0.5))
	}
}

// drawBackground scales bg onto the whole image.
func drawBackground(img *image.RGBA, bg image.Image) {
	if _, uniform := bg.(*image.Uniform); uniform || bg.Bounds().Size() == img.Bounds().Size() {
		draw.Draw(img, img.Bounds(), bg, bg.Bounds().Min, draw.Src)
		return
	}
	xdraw.ApproxBiLinear.Scale(img, img.Bounds(), bg, bg.Bounds(), xdraw.Src, nil)
}

// drawLegend draws the colour scale with its end values at the bottom left.
func drawLegend(img *image.RGBA, kind string, lo, hi float64, calibrated bool) {
	const bw, bh, pad = 160, 10, 6
	b := img.Bounds()
	x0, y0 := b.Min.X+pad, b.Max.Y-pad-bh-16
	box := image.Rect(x0-4, y0-4, x0+bw+4, y0+bh+18)
	draw.Draw(img, box, image.NewUniform(color.RGBA{0, 0, 0, 160}), image.Point{}, draw.Over)
	for i := range bw {
		t := float64(i) / (bw - 1)
		c := ramp(t)
		if kind == KindDirection {
			c = hue(t * 360)
		}
		draw.Draw(img, image.Rect(x0+i, y0, x0+i+1, y0+bh), image.NewUniform(c), image.Point{}, draw.Src)
	}
	left, right := legendLabels(kind, lo, hi, calibrated)
	d := &font.Drawer{Dst: img, Src: image.White, Face: basicfont.Face7x13}
	d.Dot = fixed.P(x0, y0+bh+13)
	d.DrawString(left)
	d.Dot = fixed.P(x0+bw-d.MeasureString(right).Round(), y0+bh+13)
	d.DrawString(right)
}

func legendLabels(kind string, lo, hi float64, calibrated bool) (string, string) {
	switch kind {
	case KindDirection:
		return "N", "N (E S W between)"
	case KindSpeed:
		unit := "m/s"
		if !calibrated {
			unit = "h/s"
		}
		return fmt.Sprintf("%.1f %s", lo, unit), fmt.Sprintf("%.1f %s", hi, unit)
	case KindDwell:
		return fmt.Sprintf("%.0f s", lo), fmt.Sprintf("%.0f s", hi)
	}
	return "0 samples", fmt.Sprintf("%.0f", hi)
}
