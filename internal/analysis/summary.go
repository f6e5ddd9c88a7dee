package analysis

import (
	"time"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/search"
	"github.com/vigil-cctv/vigil/internal/track"
)

// Track summaries keep a bounded path and skip flickers.
const (
	maxPathLen  = 50 // points kept per summary
	minTrackLen = 3  // frames; a shorter track is noise, not summarised
)

// Summary is an ended track as stored: class, span on the camera clock
// and a simplified path of its foot point.
type Summary struct {
	TrackID    int
	Class      string
	Start, End time.Time
	Frames     int
	Path       []event.PathPoint
	// Appearance is set when the chain describes tracks
	// (Config.Attributes) and this is a person or vehicle.
	Appearance *search.Appearance
}

// trackAcc accumulates one open track.
type trackAcc struct {
	class       string
	first, last time.Duration
	frames      int
	path        []event.PathPoint
}

// summaries follows the open tracks until they end.
type summaries struct {
	open map[int]*trackAcc
}

func newSummaries() *summaries { return &summaries{open: map[int]*trackAcc{}} }

// observe records one frame's tracks.
func (s *summaries) observe(pts time.Duration, tracks []track.Track) {
	for _, t := range tracks {
		a := s.open[t.ID]
		if a == nil {
			a = &trackAcc{first: pts}
			s.open[t.ID] = a
		}
		a.class, a.last = t.Class.String(), pts
		a.frames++
		foot := t.Box.Foot()
		a.path = append(a.path, event.PathPoint{PTS: pts.Seconds(), Image: [2]float64{foot.X, foot.Y}})
		if len(a.path) > 2*maxPathLen {
			a.path = thin(a.path)
		}
	}
}

// end closes the tracks ids and returns the summaries worth keeping.
func (s *summaries) end(ids []int, clock Clock) []Summary {
	var out []Summary
	for _, id := range ids {
		a := s.open[id]
		delete(s.open, id)
		if a == nil || a.frames < minTrackLen {
			continue
		}
		path := a.path
		for len(path) > maxPathLen {
			path = thin(path)
		}
		out = append(out, Summary{TrackID: id, Class: a.class, Start: clock.At(a.first), End: clock.At(a.last),
			Frames: a.frames, Path: path})
	}
	return out
}

// thin halves a path, keeping its end points.
func thin(p []event.PathPoint) []event.PathPoint {
	out := p[:0:0]
	for i := 0; i < len(p); i += 2 {
		out = append(out, p[i])
	}
	if last := p[len(p)-1]; out[len(out)-1].PTS != last.PTS {
		out = append(out, last)
	}
	return out
}
