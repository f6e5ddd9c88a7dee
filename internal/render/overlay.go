package render

import (
	"image/color"
	"strconv"

	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/geom"
)

// Object is one thing to draw: a tracked (or, with a negative ID, untracked)
// detection in frame pixels.
type Object struct {
	// ID is the track id; a negative ID marks an untracked detection, drawn
	// in grey and labelled with its class and score.
	ID    int
	Class detect.Class
	Box   geom.Box
	Score float32
}

// Palette is the fixed set of track colours; a track's colour is
// Palette[ID mod len(Palette)], so it stays the same for the track's life.
var Palette = [...]color.RGBA{
	{230, 25, 75, 255},   // red
	{60, 180, 75, 255},   // green
	{255, 225, 25, 255},  // yellow
	{0, 130, 200, 255},   // blue
	{245, 130, 48, 255},  // orange
	{145, 30, 180, 255},  // purple
	{70, 240, 240, 255},  // cyan
	{240, 50, 230, 255},  // magenta
	{210, 245, 60, 255},  // lime
	{250, 190, 212, 255}, // pink
	{0, 128, 128, 255},   // teal
	{220, 190, 255, 255}, // lavender
	{170, 110, 40, 255},  // brown
	{255, 250, 200, 255}, // beige
	{128, 0, 0, 255},     // maroon
	{170, 255, 195, 255}, // mint
	{128, 128, 0, 255},   // olive
	{255, 215, 180, 255}, // apricot
	{0, 0, 128, 255},     // navy
	{255, 255, 255, 255}, // white
}

// Untracked is the colour of detections without a track id.
var Untracked = color.RGBA{160, 160, 160, 255}

var (
	black = color.RGBA{0, 0, 0, 255}
	white = color.RGBA{255, 255, 255, 255}
	hudBG = color.RGBA{0, 0, 0, 160} // premultiplied translucent black
)

// ColorFor is the stable colour of track id (Untracked for a negative id).
func ColorFor(id int) color.RGBA {
	if id < 0 {
		return Untracked
	}
	return Palette[id%len(Palette)]
}

// textOn picks black or white text for legibility on bg.
func textOn(bg color.RGBA) color.RGBA {
	// Rec. 601 luma, integer.
	if 299*int(bg.R)+587*int(bg.G)+114*int(bg.B) > 140_000 {
		return black
	}
	return white
}

// Trails remembers the last foot points (bottom centre of the box) of each
// track so that DrawObjects can draw where it has been. The zero value is not
// usable; call NewTrails. Trails is not safe for concurrent use.
type Trails struct {
	n, maxAge int
	m         map[int]*trail
}

type trail struct {
	pts  []geom.Point // oldest first, at most n
	last int          // frame index of the last Add
}

// NewTrails keeps up to n points per track (n < 2 is 2) and forgets a track
// not seen for more than maxAge frames (maxAge < 0 is 0).
func NewTrails(n, maxAge int) *Trails {
	return &Trails{n: max(n, 2), maxAge: max(maxAge, 0), m: make(map[int]*trail)}
}

// Add records the foot point of every tracked object seen in frame
// frameIndex, then forgets tracks last seen more than maxAge frames before
// it. Untracked objects (negative ID) and undrawable boxes are ignored.
func (t *Trails) Add(frameIndex int, objs []Object) {
	for _, o := range objs {
		if o.ID < 0 {
			continue
		}
		f := o.Box.Foot()
		if !finite(f.X) || !finite(f.Y) {
			continue
		}
		tr := t.m[o.ID]
		if tr == nil {
			tr = &trail{pts: make([]geom.Point, 0, t.n)}
			t.m[o.ID] = tr
		}
		if len(tr.pts) == t.n {
			copy(tr.pts, tr.pts[1:])
			tr.pts = tr.pts[:t.n-1]
		}
		tr.pts = append(tr.pts, f)
		tr.last = frameIndex
	}
	for id, tr := range t.m {
		if frameIndex-tr.last > t.maxAge || tr.last > frameIndex {
			delete(t.m, id)
		}
	}
}

// Points returns a copy of the remembered foot points of id, oldest first.
func (t *Trails) Points(id int) []geom.Point {
	if t == nil {
		return nil
	}
	tr := t.m[id]
	if tr == nil {
		return nil
	}
	return append([]geom.Point(nil), tr.pts...)
}

// Len is the number of tracks remembered.
func (t *Trails) Len() int {
	if t == nil {
		return 0
	}
	return len(t.m)
}

// Reset forgets every track.
func (t *Trails) Reset() { clear(t.m) }

// BoxThickness and TrailThickness are the stroke widths DrawObjects uses.
const (
	BoxThickness   = 2
	TrailThickness = 2
)

// DrawObjects draws each object's trail (from trails, which may be nil), its
// box in its track colour, and a label such as "person 12" above the box (or
// inside its top edge when there is no room above). Untracked objects are
// labelled with class and score, e.g. "car 0.87".
func DrawObjects(c Canvas, objs []Object, trails *Trails) {
	if !c.ok() {
		return
	}
	if trails != nil {
		for _, o := range objs {
			if tr := trails.m[o.ID]; tr != nil && o.ID >= 0 {
				c.Polyline(tr.pts, ColorFor(o.ID), TrailThickness)
			}
		}
	}
	for _, o := range objs {
		c.Rect(o.Box, ColorFor(o.ID), BoxThickness)
	}
	var buf [64]byte
	for _, o := range objs {
		x0, y0, _, _, ok := boxPixels(o.Box)
		if !ok {
			continue
		}
		b := append(buf[:0], o.Class.String()...)
		b = append(b, ' ')
		if o.ID >= 0 {
			b = strconv.AppendInt(b, int64(o.ID), 10)
		} else {
			b = strconv.AppendFloat(b, float64(o.Score), 'f', 2, 32)
		}
		s := string(b)
		_, h := LabelSize(s)
		y := y0 - h
		if y < 0 {
			y = y0
		}
		col := ColorFor(o.ID)
		c.Label(x0, y, s, textOn(col), col)
	}
}

// DrawHUD draws lines of text in white on a translucent black block in the
// top-left corner: camera name, PTS, fps, counts and the like.
func DrawHUD(c Canvas, lines ...string) {
	if !c.ok() || len(lines) == 0 {
		return
	}
	const margin, gap = 4, 2
	w := 0
	for _, l := range lines {
		w = max(w, TextWidth(l))
	}
	h := len(lines)*glyphH + (len(lines)-1)*gap
	c.fill(margin, margin, margin+w+2*labelPad, margin+h+2*labelPad, mkPaint(hudBG))
	fg := mkPaint(white)
	for i, l := range lines {
		c.text(margin+labelPad, margin+labelPad+i*(glyphH+gap), l, fg)
	}
}
