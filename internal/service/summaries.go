package service

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/rules"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/track"
)

// Track summaries and line counters are written in the background of the
// camera loop: tracks once they end, counters every flushEvery of frame time.
const (
	trackGone   = 3 * time.Second  // unseen this long (PTS): the track ended
	flushEvery  = 10 * time.Second // counters and ended tracks are flushed this often
	maxPathLen  = 50               // points kept per track summary
	minTrackLen = 3                // frames; shorter tracks are noise
)

// trackAcc accumulates one live track.
type trackAcc struct {
	class      string
	start, end time.Time
	lastPTS    time.Duration
	frames     int
	path       []event.PathPoint
}

// summaries turns a camera's per-frame tracks into stored track summaries
// and its rules' line counters into stored counters.
type summaries struct {
	camera    string
	open      map[int]*trackAcc
	counted   map[string]int // counter key → N already stored
	lastFlush time.Duration
	// wallBase maps frame time to wall time: wall = wallBase + PTS.
	wallBase time.Time
}

func newSummaries(camera string) *summaries {
	return &summaries{camera: camera, open: map[int]*trackAcc{}, counted: map[string]int{}}
}

// observe records a frame; due reports whether it is time to flush.
func (s *summaries) observe(pts time.Duration, received time.Time, tracks []track.Track) bool {
	if s.wallBase.IsZero() {
		if received.IsZero() {
			received = time.Now()
		}
		s.wallBase = received.Add(-pts)
	}
	wall := s.wallBase.Add(pts)
	for _, t := range tracks {
		a := s.open[t.ID]
		if a == nil {
			a = &trackAcc{class: t.Class.String(), start: wall}
			s.open[t.ID] = a
		}
		a.end, a.lastPTS = wall, pts
		a.frames++
		foot := t.Box.Foot()
		a.path = append(a.path, event.PathPoint{PTS: pts.Seconds(), Image: [2]float64{foot.X, foot.Y}})
		if len(a.path) > 2*maxPathLen {
			a.path = thin(a.path)
		}
	}
	return pts-s.lastFlush >= flushEvery
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

// ended removes and returns tracks unseen for trackGone (all when final).
func (s *summaries) ended(pts time.Duration, final bool) []store.TrackSummary {
	var out []store.TrackSummary
	for id, a := range s.open {
		if !final && pts-a.lastPTS < trackGone {
			continue
		}
		delete(s.open, id)
		if a.frames < minTrackLen {
			continue
		}
		path := a.path
		for len(path) > maxPathLen {
			path = thin(path)
		}
		out = append(out, store.TrackSummary{Camera: s.camera, TrackID: id, Class: a.class, Start: a.start, End: a.end, Path: path})
	}
	return out
}

// newCounts returns what the rules counted since the last call.
func (s *summaries) newCounts(counts []rules.Count) []store.Count {
	var out []store.Count
	for _, c := range counts {
		key := fmt.Sprintf("%s|%s|%s|%d", c.Line, c.Class, c.Direction, c.Start)
		if d := c.N - s.counted[key]; d > 0 {
			s.counted[key] = c.N
			out = append(out, store.Count{Camera: s.camera, Name: c.Line, Class: c.Class, Direction: c.Direction,
				Bucket: s.wallBase.Add(c.Start), N: int64(d)})
		}
	}
	return out
}

// flush writes ended tracks and new counts; failures are logged, never
// fatal to the camera.
func (p *processor) flush(ctx context.Context, pts time.Duration, final bool) {
	s := p.summ
	s.lastFlush = pts
	for _, t := range s.ended(pts, final) {
		if err := p.sinks.Store.AddTrack(ctx, t); err != nil {
			p.sinks.Log.Warn("storing track summary failed", "camera", p.id, "err", err)
		}
	}
	if sr := p.rules.Load(); sr != nil {
		if cs := s.newCounts(sr.engine.Counts()); len(cs) > 0 {
			if err := p.sinks.Store.AddCounts(ctx, cs); err != nil {
				p.sinks.Log.Warn("storing counts failed", "camera", p.id, "err", err)
			}
		}
	}
}
