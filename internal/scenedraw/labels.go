package scenedraw

import (
	"image"
	"image/color"

	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/render"
)

// labeler places labels so that they do not cover one another: a scene
// puts names at centroids and midpoints that often coincide (two lanes on
// one road, a crosswalk on a carriageway), and overlapping labels are
// unreadable.
type labeler struct {
	c      render.Canvas
	placed []image.Rectangle
}

// at draws a label with its top-left corner at (x, y), unmoved, and reserves
// its space.
func (l *labeler) at(x, y int, s string, fg, bg color.RGBA) {
	r := l.rect(x, y, s)
	l.c.Label(r.Min.X, r.Min.Y, s, fg, bg)
	l.placed = append(l.placed, r)
}

// near draws a label centred on p, or moved up or down by whole label
// heights to the nearest free spot. An optional label (grid values) is
// dropped when there is no free spot close by; a required one (names) is
// then drawn where it was asked for.
func (l *labeler) near(p geom.Point, s string, fg, bg color.RGBA, optional bool) {
	if !finitePt(p) || s == "" {
		return
	}
	w, h := render.LabelSize(s)
	x, y := int(p.X)-w/2, int(p.Y)-h/2
	tries := []int{0, 1, -1, 2, -2, 3, -3}
	if optional {
		tries = tries[:3]
	}
	for _, k := range tries {
		r := l.rect(x, y+k*(h+1), s)
		if l.free(r) {
			l.c.Label(r.Min.X, r.Min.Y, s, fg, bg)
			l.placed = append(l.placed, r)
			return
		}
	}
	if !optional {
		l.at(x, y, s, fg, bg)
	}
}

// rect is where render.Label will put the label: moved inside the canvas.
func (l *labeler) rect(x, y int, s string) image.Rectangle {
	w, h := render.LabelSize(s)
	x = max(min(x, l.c.W-w), 0)
	y = max(min(y, l.c.H-h), 0)
	return image.Rect(x, y, x+w, y+h)
}

func (l *labeler) free(r image.Rectangle) bool {
	for _, q := range l.placed {
		if q.Overlaps(r) {
			return false
		}
	}
	return true
}
