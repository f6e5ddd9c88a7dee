package analysis

import (
	"fmt"
	"image"
	"time"

	"github.com/vigil-cctv/vigil/internal/baseline"
	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/motion"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/track"
)

// MotionKind is the Name of the motion cue's anomaly events (their Rule
// is baseline.Rule, "anomaly").
const MotionKind = "motion"

// Episode shape of the motion cue: strong untracked motion must show in
// motionFrames frames over at least motionHold before it alerts (a single
// flicker or a passing shadow edge does not), an episode ends after
// motionQuiet without it, and a camera raises at most one motion alert
// per motionCooldown, which bounds the cue's share of the false-alarm
// budget whatever the scene does.
const (
	motionFrames   = 3
	motionHold     = time.Second
	motionQuiet    = 3 * time.Second
	motionCooldown = 10 * time.Minute
)

// motionCue watches what the detector may miss: motion far beyond what is
// normal at that place that no tracked object explains (motion.Model,
// the streaming form of the model evaluated on UCSD Ped2).
type motionCue struct {
	m    *motion.Model
	w, h int
	grey []uint8

	on         bool
	since      time.Duration // start of the episode
	lastSeen   time.Duration // last frame with untracked motion
	frames     int
	area       image.Rectangle // union of the episode's cells
	peak       float64
	fired      bool
	lastAlert  time.Duration
	everAlerts bool
}

func newMotionCue(w, h int, opt motion.ModelOptions) *motionCue {
	return &motionCue{m: motion.NewModel(w, h, opt), w: w, h: h, grey: make([]uint8, w*h)}
}

// observe feeds one analysed frame; it returns an alert when an episode of
// unexplained motion has lasted long enough.
func (c *motionCue) observe(f *decode.Frame, tracks []track.Track, sc *scene.Scene) (event.Event, bool) {
	if f.Width != c.w || f.Height != c.h || len(f.Pix) < c.w*c.h*3 {
		return event.Event{}, false
	}
	toGrey(c.grey, f.Pix)
	boxes := make([]image.Rectangle, len(tracks))
	for i, t := range tracks {
		boxes[i] = image.Rect(int(t.Box.X), int(t.Box.Y), int(t.Box.X2()+1), int(t.Box.Y2()+1))
	}
	res := c.m.Observe(f.PTS, c.grey, boxes)
	pts := f.PTS
	if len(res.Cells) == 0 {
		if c.on && pts-c.lastSeen > motionQuiet {
			c.on = false
		}
		return event.Event{}, false
	}
	if !c.on {
		c.on, c.since, c.frames, c.area, c.peak, c.fired = true, pts, 0, image.Rectangle{}, 0, false
	}
	c.lastSeen = pts
	c.frames++
	c.peak = max(c.peak, res.Score)
	for _, r := range res.Cells {
		c.area = c.area.Union(r)
	}
	if c.fired || c.frames < motionFrames || pts-c.since < motionHold || (c.everAlerts && pts-c.lastAlert < motionCooldown) {
		return event.Event{}, false
	}
	c.fired, c.lastAlert, c.everAlerts = true, pts, true
	return c.event(pts, len(res.Cells), sc), true
}

func (c *motionCue) event(pts time.Duration, cells int, sc *scene.Scene) event.Event {
	mid := geom.Point{X: float64(c.area.Min.X+c.area.Max.X) / 2, Y: float64(c.area.Min.Y+c.area.Max.Y) / 2}
	ev := event.Event{
		Rule: baseline.Rule, Name: MotionKind, Start: event.Seconds(c.since), End: event.Seconds(pts), Severity: event.Low,
		Explanation: fmt.Sprintf("strong motion that no tracked object explains, over %dx%d px around (%.0f, %.0f) for %.1f s: "+
			"momentum %.1f standard deviations above what is normal at this height of the view (alerts from 5)",
			c.area.Dx(), c.area.Dy(), mid.X, mid.Y, (pts - c.since).Seconds(), c.peak),
		Values: map[string]float64{"score": c.peak, "threshold": 5, "cells": float64(cells), "duration_s": (pts - c.since).Seconds()},
		Path:   []event.PathPoint{{PTS: event.Seconds(pts), Image: [2]float64{mid.X, mid.Y}}},
	}
	if sc != nil {
		if zs := sc.ZoneAt(mid); len(zs) > 0 {
			ev.Zone = zs[0].Name
		}
	}
	return ev
}

// toGrey converts packed RGB24 to 8-bit luma (BT.601 weights).
func toGrey(dst, rgb []uint8) {
	for i := range dst {
		p := rgb[3*i : 3*i+3 : 3*i+3]
		dst[i] = uint8((77*int(p[0]) + 150*int(p[1]) + 29*int(p[2])) >> 8)
	}
}
