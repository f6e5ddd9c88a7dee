package service

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-cctv/vigil/internal/analysis"
	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/track"
)

// Preview replay: stored track summaries are played back at previewFPS.
// A summary keeps the foot point's path, not the box, so each track gets
// a box of previewBox size standing on its path: the rules work on the
// foot point, which is what matters; the line rules' band around a line
// scales with the box height, so a preview may differ at the margin.
const (
	previewFPS      = 5
	maxPreviewTrack = 20000
)

var previewBox = map[bool][2]float64{false: {24, 60}, true: {90, 50}} // person-like, vehicle-like: w, h

// PreviewScene replays a camera's stored tracks between since and until
// through the analysis chain with an edited scene, and returns the events
// it would have raised; nothing is stored or published
// (httpapi.ScenePreviewer). Only the scene's rules run: the learned
// baseline belongs to the camera, not to a draft scene.
func (s *Service) PreviewScene(ctx context.Context, camera string, sc *scene.Scene, since, until time.Time) ([]event.Event, error) {
	sums, err := s.store.ListTracks(ctx, camera, since, until, maxPreviewTrack)
	if err != nil {
		return nil, err
	}
	step := time.Second / previewFPS
	n := int(until.Sub(since) / step)
	byFrame := map[int][]track.Track{}
	for i, t := range sums {
		// Stored ids repeat across camera restarts: number them afresh.
		placeTrack(byFrame, i+1, t.Class, t.Start, t.Path, since, step, n)
	}
	chain, err := analysis.New(analysis.Config{Camera: camera, Scene: sc, Epoch: since,
		Tracker: analysis.Recorded{R: track.NewReplay(byFrame, track.DefaultConfig(previewFPS))}})
	if err != nil {
		return nil, fmt.Errorf("preview: %w", err)
	}
	var out []event.Event
	for i := range n {
		if i%1000 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		f := &decode.Frame{Index: i, PTS: time.Duration(i) * step, Width: sc.Image.Width, Height: sc.Image.Height}
		out = append(out, chain.Step(f, nil).Events...)
	}
	return append(out, chain.Close().Events...), nil
}

// placeTrack puts one stored track on the preview's frames, interpolating
// its foot point between the path's points.
func placeTrack(byFrame map[int][]track.Track, id int, class string, start time.Time, path []event.PathPoint,
	since time.Time, step time.Duration, frames int) {
	if len(path) == 0 {
		return
	}
	cls, _ := detect.ClassByName(class)
	size := previewBox[cls.Group() != detect.Person.Group()]
	wallOf := func(p event.PathPoint) time.Time {
		return start.Add(time.Duration((p.PTS - path[0].PTS) * float64(time.Second)))
	}
	first := max(0, int((wallOf(path[0]).Sub(since)+step-1)/step))
	for i, j := first, 0; i < frames; i++ {
		at := since.Add(time.Duration(i) * step)
		for j+1 < len(path) && !wallOf(path[j+1]).After(at) {
			j++
		}
		if j == len(path)-1 && at.After(wallOf(path[j])) {
			return
		}
		x, y := path[j].Image[0], path[j].Image[1]
		if j+1 < len(path) {
			a, b := wallOf(path[j]), wallOf(path[j+1])
			if k := float64(at.Sub(a)) / float64(b.Sub(a)); b.After(a) {
				x += k * (path[j+1].Image[0] - x)
				y += k * (path[j+1].Image[1] - y)
			}
		}
		box := geom.Box{X: x - size[0]/2, Y: y - size[1], W: size[0], H: size[1]}
		byFrame[i] = append(byFrame[i], track.Track{ID: id, Class: cls, Box: box, Score: 1, DetIndex: -1})
	}
}
