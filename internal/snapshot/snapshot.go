// Package snapshot writes the pictures attached to an alert: the full frame
// with the scene, the tracks and the alert drawn on it, and a crop around
// the object the alert is about, both as JPEG files, and names the alert's
// clip beside them. Every alert's files have a name of their own that is
// never reused, not even after a restart (when track ids and PTS start
// again): files are created, never overwritten, so no alert's evidence can
// replace another's.
package snapshot

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/render"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/scenedraw"
	"github.com/vigil-cctv/vigil/internal/track"
)

// Quality is the JPEG quality of both files.
const Quality = 85

const (
	// cropMargin enlarges the alert box so the crop shows some context.
	cropMargin = 1.5
	// minCrop is the smallest crop side in frame pixels.
	minCrop = 64
	// minCropShown is the shorter side a crop is scaled up to (by a whole
	// factor, at most maxUpscale): a 20-pixel-wide pedestrian far away is
	// unrecognisable at its native size on an operator's screen.
	minCropShown = 128
	maxUpscale   = 8
	// alertThickness is the alert box stroke, thicker than ordinary boxes.
	alertThickness = 4
)

var alertRed = color.RGBA{255, 0, 0, 255}

// Writer writes snapshots under Dir, one subdirectory per camera.
type Writer struct {
	Dir string
}

// Files are an alert's evidence paths, all under the Writer's Dir.
type Files struct {
	Snapshot string // full annotated frame
	Crop     string // the object, enlarged; "" when there is nothing to crop
	Clip     string // where the alert's clip goes (written later, by media)
}

// Write writes the full annotated frame and the crop of ev's track(s) from
// frame f, given every track current in f and the camera's scene (nil for
// none), and names the clip. The files are
// Dir/<camera>/<rule>-<track>-<pts_ms>-<random>.jpg, the same name ending
// in -crop.jpg, and .mp4 for the clip. The frame is not modified. The
// caller records the paths in the event (Snapshot, Crop).
func (w Writer) Write(ev *event.Event, f *decode.Frame, tracks []track.Track, sc *scene.Scene) (Files, error) {
	if ev == nil {
		return Files{}, errors.New("snapshot: no event")
	}
	if f == nil || f.Width <= 0 || f.Height <= 0 || len(f.Pix) < f.Width*f.Height*3 {
		return Files{}, errors.New("snapshot: empty or short frame")
	}
	dir, stem := names(w.Dir, ev, f)
	if err := ensureDir(dir); err != nil {
		return Files{}, err
	}
	img := annotate(ev, f, tracks, sc)
	var files Files
	for try := 0; ; try++ {
		files = filesFor(filepath.Join(dir, stem+"-"+randomSuffix()))
		err := writeJPEG(files.Snapshot, img)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) || try == 3 {
			return Files{}, err
		}
	}
	b, ok := alertBox(ev, tracks)
	r, ok := cropRect(b, ok, f.Width, f.Height)
	if !ok {
		files.Crop = ""
		return files, nil
	}
	if err := writeJPEG(files.Crop, scaleUp(render.Canvas{W: f.Width, H: f.Height, Pix: f.Pix}.RGBA(r))); err != nil {
		files.Crop = ""
		return files, err
	}
	return files, nil
}

// filesFor names an alert's files from their common base (no extension):
// the one place that says where a snapshot's crop and clip are.
func filesFor(base string) Files {
	return Files{Snapshot: base + ".jpg", Crop: base + "-crop.jpg", Clip: base + ".mp4"}
}

// ClipOf is the clip path that belongs to a snapshot written by Write.
func ClipOf(snapshot string) string {
	return filesFor(strings.TrimSuffix(snapshot, ".jpg")).Clip
}

// annotate draws the overlay on a copy of the frame: scene outlines, every
// track, then the alert's track(s) and path in red on top, then the caption.
func annotate(ev *event.Event, f *decode.Frame, tracks []track.Track, sc *scene.Scene) *image.RGBA {
	c := render.Canvas{W: f.Width, H: f.Height, Pix: append([]byte(nil), f.Pix[:f.Width*f.Height*3]...)}
	scenedraw.DrawZonesLight(c, sc)
	objs := make([]render.Object, len(tracks))
	for i, t := range tracks {
		objs[i] = render.Object{ID: t.ID, Class: t.Class, Box: t.Box, Score: t.Score}
	}
	render.DrawObjects(c, objs, nil)
	path := make([]geom.Point, 0, len(ev.Path))
	for _, p := range ev.Path {
		path = append(path, geom.Point{X: p.Image[0], Y: p.Image[1]})
	}
	c.Polyline(path, alertRed, 2)
	for _, t := range tracks {
		if isAlertTrack(ev, t.ID) {
			c.Rect(t.Box, alertRed, alertThickness)
		}
	}
	render.DrawHUD(c, caption(ev, f, c.W)...)
	return c.RGBA(image.Rect(0, 0, c.W, c.H))
}

func isAlertTrack(ev *event.Event, id int) bool {
	for _, t := range ev.Tracks {
		if t == id {
			return true
		}
	}
	return false
}

// alertBox is the union of the alert tracks' current boxes or, when none
// is current (a track lost the frame the alert fired), a minimum-size box
// on the last point of its path.
func alertBox(ev *event.Event, tracks []track.Track) (geom.Box, bool) {
	var u geom.Box
	found := false
	for _, t := range tracks {
		if !isAlertTrack(ev, t.ID) || !usable(t.Box) {
			continue
		}
		if !found {
			u, found = t.Box, true
			continue
		}
		x0, y0 := math.Min(u.X, t.Box.X), math.Min(u.Y, t.Box.Y)
		u = geom.BoxFromCorners(x0, y0, math.Max(u.X2(), t.Box.X2()), math.Max(u.Y2(), t.Box.Y2()))
	}
	if found || len(ev.Path) == 0 {
		return u, found
	}
	// Path points are foot points: the box stands on it, sized so that
	// with the margin it makes a minimum crop.
	p := ev.Path[len(ev.Path)-1].Image
	const side = minCrop / cropMargin
	b := geom.Box{X: p[0] - side/2, Y: p[1] - side, W: side, H: side}
	return b, usable(b)
}

// usable rejects boxes that would make nonsense crops: empty, NaN or huge.
func usable(b geom.Box) bool {
	const lim = 1e7
	ok := func(v float64) bool { return v > -lim && v < lim }
	return ok(b.X) && ok(b.Y) && b.W > 0 && b.H > 0 && b.W < lim && b.H < lim
}

// cropRect enlarges the box by cropMargin about its centre, grows it to at
// least minCrop on each side, and moves then clips it into the frame. The
// size is rounded up once and the origin rounded, so that a crop's size
// does not depend on where the box sits on the pixel grid.
func cropRect(b geom.Box, ok bool, w, h int) (image.Rectangle, bool) {
	if !ok {
		return image.Rectangle{}, false
	}
	cw := int(math.Ceil(math.Max(b.W*cropMargin, minCrop) - 1e-9))
	ch := int(math.Ceil(math.Max(b.H*cropMargin, minCrop) - 1e-9))
	c := b.Center()
	x0 := shiftInto(int(math.Round(c.X-float64(cw)/2)), cw, w)
	y0 := shiftInto(int(math.Round(c.Y-float64(ch)/2)), ch, h)
	r := image.Rect(x0, y0, x0+cw, y0+ch).Intersect(image.Rect(0, 0, w, h))
	return r, !r.Empty()
}

// shiftInto moves an interval [lo, lo+n) to lie inside [0, size) when it
// fits, so that an object at the frame's edge keeps its margin on the
// inside rather than losing it to clipping.
func shiftInto(lo, n, size int) int {
	if lo+n > size {
		lo = size - n
	}
	return max(lo, 0)
}

// caption is the HUD text: what fired, how bad, when, and why, wrapped to
// the frame width.
func caption(ev *event.Event, f *decode.Frame, width int) []string {
	rule := ev.Rule
	if ev.Name != "" && ev.Name != ev.Rule {
		rule = fmt.Sprintf("%s (%s)", ev.Name, ev.Rule)
	}
	head := fmt.Sprintf("%s [%s] t=%.2fs", rule, ev.Severity, f.PTS.Seconds())
	if ev.Camera != "" {
		head = ev.Camera + ": " + head
	}
	cols := max((width-16)/render.TextWidth("m"), 8)
	return append(wrap(head, cols), wrap(ev.Explanation, cols)...)
}
