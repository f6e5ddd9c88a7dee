// Package footpath follows one track's foot point over frame time: the
// raw point and its ground projection, a moving-average smoothing, the
// velocity over a window and the recorded path an alert carries. The rule
// engine and the learned baseline share it, so both measure where an
// object is and how fast it moves in the same way.
package footpath

import (
	"sort"
	"time"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/geom"
)

// Sample is one frame's foot point: raw, and smoothed by History.Add.
type Sample struct {
	PTS       time.Duration
	Raw, RawG geom.Point // raw foot point in the image, and on the ground
	RawOK     bool       // RawG exists
	Img, G    geom.Point // smoothed foot point in the image and on the ground
	GOK       bool       // G exists
}

// History is a track's recent samples in increasing PTS.
type History []Sample

// Add appends a raw observation and sets its smoothed points to the mean
// of the raw points within the last window of frame time: a moving
// average is cheap and removes the frame-to-frame box jitter that would
// otherwise read as speed or as zone-edge flicker.
func (h *History) Add(pts time.Duration, raw, rawG geom.Point, rawOK bool, window time.Duration) {
	*h = append(*h, Sample{PTS: pts, Raw: raw, RawG: rawG, RawOK: rawOK})
	hs := *h
	var si, sg geom.Point
	ni, ng := 0, 0
	for i := len(hs) - 1; i >= 0 && pts-hs[i].PTS < window; i-- {
		s := &hs[i]
		si, ni = si.Add(s.Raw), ni+1
		if s.RawOK {
			sg, ng = sg.Add(s.RawG), ng+1
		}
	}
	s := &hs[len(hs)-1]
	s.Img = si.Scale(1 / float64(ni))
	s.GOK = ng > 0
	if s.GOK {
		s.G = sg.Scale(1 / float64(ng))
	}
}

// Cur is the latest sample; the history must not be empty.
func (h History) Cur() *Sample { return &h[len(h)-1] }

// Trim drops samples older than the one just before from, in batches so
// that the copy is amortised over many frames.
func (h *History) Trim(from time.Duration) {
	hs := *h
	i := 0
	for i+1 < len(hs) && hs[i+1].PTS <= from {
		i++
	}
	if i > 0 && i >= len(hs)/2 {
		*h = hs[:copy(hs, hs[i:])]
	}
}

// Velocity is the mean velocity over the last window of frame time before
// now: the smoothed displacement from the latest sample at least window
// old to the latest one, per second. It is ground m/s when ground is set
// (false if either end has no ground point) and image px/s otherwise;
// false while the track is younger than window.
func (h History) Velocity(now, window time.Duration, ground bool) (geom.Point, bool) {
	n := len(h)
	j := sort.Search(n, func(i int) bool { return h[i].PTS > now-window }) - 1
	if j < 0 {
		return geom.Point{}, false
	}
	a, b := &h[j], &h[n-1]
	dt := (b.PTS - a.PTS).Seconds()
	if dt <= 0 {
		return geom.Point{}, false
	}
	if !ground {
		return b.Img.Sub(a.Img).Scale(1 / dt), true
	}
	if !a.GOK || !b.GOK {
		return geom.Point{}, false
	}
	return b.G.Sub(a.G).Scale(1 / dt), true
}

// Point is one point of a recorded path.
type Point struct {
	PTS    time.Duration
	Img, G geom.Point
	GOK    bool
}

// PointOf is the path point of a sample's smoothed position.
func PointOf(s *Sample) Point { return Point{PTS: s.PTS, Img: s.Img, G: s.G, GOK: s.GOK} }

// EventPath is the recorded path from `from` on (all of it if it starts
// later), ending at cur, evenly thinned to at most maxN points, as an
// alert carries it.
func EventPath(path []Point, cur *Sample, from time.Duration, maxN int) []event.PathPoint {
	for len(path) > 1 && path[0].PTS < from {
		path = path[1:]
	}
	all := make([]Point, len(path), len(path)+1)
	copy(all, path)
	if len(all) == 0 || all[len(all)-1].PTS != cur.PTS {
		all = append(all, PointOf(cur))
	}
	n := min(len(all), maxN)
	out := make([]event.PathPoint, n)
	for i := range out {
		j := i
		if n > 1 {
			j = i * (len(all) - 1) / (n - 1)
		}
		p := all[j]
		out[i] = event.PathPoint{PTS: event.Seconds(p.PTS), Image: [2]float64{p.Img.X, p.Img.Y}}
		if p.GOK {
			out[i].Ground = &[2]float64{p.G.X, p.G.Y}
		}
	}
	return out
}
