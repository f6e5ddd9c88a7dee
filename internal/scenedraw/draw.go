// Package scenedraw draws a camera's scene file — zones, tripwires, lanes and
// the ground-plane calibration — over one of its frames, so that whoever
// wrote the scene can see what they configured and judge whether the
// calibration is plausible before any rule depends on it.
//
// Draw is the full diagnostic picture (translucent zones, metre grid,
// calibration points, legend); DrawZonesLight is the thin version meant to
// sit under live overlays and alert snapshots without hiding the people in
// them. RenderFile ties it to a video or image sequence and writes a PNG for
// "vigil scene draw".
package scenedraw

import (
	"fmt"
	"image/color"

	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/render"
	"github.com/vigil-cctv/vigil/internal/scene"
)

// Options choose what Draw adds beyond the zones, lines and lanes.
type Options struct {
	// Grid draws the ground-plane metre grid (calibrated scenes only).
	Grid bool
	// GridStep is the grid spacing in metres; 0 picks 1, 2, 5, 10, … m so
	// that the lines stay legibly apart.
	GridStep float64
	// Labels draws names, metre labels, calibration coordinates and the
	// legend; without it only the geometry is drawn.
	Labels bool
}

// Colours. Zone colours follow the type so that a misclassified zone stands
// out at a glance; overlay colours avoid the zone hues.
var (
	black     = color.RGBA{0, 0, 0, 255}
	white     = color.RGBA{255, 255, 255, 255}
	legendBG  = color.RGBA{0, 0, 0, 170} // premultiplied translucent black
	lineCol   = color.RGBA{255, 0, 255, 255}
	laneCol   = color.RGBA{0, 230, 255, 255}
	gridCol   = color.RGBA{255, 160, 0, 255}
	calibCol  = color.RGBA{255, 255, 0, 255}
	reprojCol = color.RGBA{255, 40, 40, 255}
)

// zoneAlpha is the fill opacity of Draw's zones: enough to tell the type,
// little enough to see the road through it.
const zoneAlpha = 70

// ZoneColor is the colour zones of type t are drawn in.
func ZoneColor(t scene.ZoneType) color.RGBA {
	switch t {
	case scene.Carriageway:
		return color.RGBA{110, 130, 170, 255} // grey-blue
	case scene.Crosswalk:
		return white
	case scene.Sidewalk:
		return color.RGBA{40, 200, 70, 255}
	case scene.Restricted:
		return color.RGBA{230, 30, 30, 255}
	case scene.Parking:
		return color.RGBA{30, 90, 240, 255}
	}
	return color.RGBA{250, 220, 0, 255} // custom and anything unknown
}

// Draw paints sc over the canvas: zone fills, then the grid (so it shows
// through the zones), then outlines, lines, lanes and calibration points,
// and finally the labels, which go last so that no geometry hides them.
// Scene coordinates are pixels of sc.Image; the canvas should be that size.
func Draw(c render.Canvas, sc *scene.Scene, opt Options) {
	if sc == nil || c.W <= 0 || c.H <= 0 {
		return
	}
	for _, z := range sc.Zones {
		fillZone(c, z)
	}
	var g *grid
	if opt.Grid {
		g = newGrid(c, sc, opt.GridStep)
		g.draw(c)
	}
	for _, z := range sc.Zones {
		outlineZone(c, z, 2)
	}
	for _, l := range sc.Lines {
		drawTripwire(c, l, 3, true)
	}
	for _, l := range sc.Lanes {
		arrow(c, l.Arrow[0], l.Arrow[1], laneCol, 3)
	}
	drawCalibration(c, sc)
	if !opt.Labels {
		return
	}
	// Most important first: later labels give way to earlier ones.
	lb := &labeler{c: c}
	drawLegend(lb, sc, g)
	reserveCrosses(lb, sc)
	labelZones(lb, sc, true)
	for _, l := range sc.Lines {
		labelTripwire(lb, l, true)
	}
	for _, l := range sc.Lanes {
		labelLane(lb, l)
	}
	labelCalibration(lb, sc)
	g.labels(lb)
}

// DrawZonesLight draws zone outlines and tripwires one pixel wide with their
// names, and nothing else: it is drawn under tracks on every live frame and
// snapshot, where fills and grids would hide the objects that matter.
func DrawZonesLight(c render.Canvas, sc *scene.Scene) {
	if sc == nil || c.W <= 0 || c.H <= 0 {
		return
	}
	for _, z := range sc.Zones {
		outlineZone(c, z, 1)
	}
	for _, l := range sc.Lines {
		drawTripwire(c, l, 1, false)
	}
	lb := &labeler{c: c}
	labelZones(lb, sc, false)
	for _, l := range sc.Lines {
		labelTripwire(lb, l, false)
	}
}

// fillZone fills a zone translucently; crosswalks get zebra stripes because
// a plain white wash is hard to tell from a bright road surface.
func fillZone(c render.Canvas, z *scene.Zone) {
	col := ZoneColor(z.Type)
	c.FillPolygon(z.Polygon, col, zoneAlpha)
	if z.Type == scene.Crosswalk {
		stripes(c, z.Polygon, color.RGBA{160, 160, 160, 160}, 8)
	}
}

func outlineZone(c render.Canvas, z *scene.Zone, thickness int) {
	closePolyline(c, z.Polygon, ZoneColor(z.Type), thickness)
}

// closePolyline strokes a closed outline.
func closePolyline(c render.Canvas, pts []geom.Point, col color.RGBA, thickness int) {
	if len(pts) == 0 {
		return
	}
	c.Polyline(pts, col, thickness)
	c.Line(pts[len(pts)-1], pts[0], col, thickness)
}

// labelZones names every zone at its centroid; the full form adds the type
// and, when calibrated, the ground area, a quick check of the calibration's
// scale.
func labelZones(lb *labeler, sc *scene.Scene, full bool) {
	for _, z := range sc.Zones {
		s := z.Name
		if full {
			s = fmt.Sprintf("%s (%s)", z.Name, z.Type)
			if z.AreaM2 > 0 {
				s += fmt.Sprintf(" %.0f m2", z.AreaM2)
			}
		}
		col := ZoneColor(z.Type)
		lb.near(z.Polygon.Centroid(), s, textOn(col), col, false)
	}
}

// textOn picks black or white text for legibility on bg (Rec. 601 luma).
func textOn(bg color.RGBA) color.RGBA {
	if 299*int(bg.R)+587*int(bg.G)+114*int(bg.B) > 140_000 {
		return black
	}
	return white
}

// finitePt rejects NaN, infinite and absurd coordinates before they reach
// integer conversions.
func finitePt(p geom.Point) bool {
	const lim = 1e9
	return p.X >= -lim && p.X <= lim && p.Y >= -lim && p.Y <= lim
}
