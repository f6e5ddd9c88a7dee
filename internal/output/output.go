// Package output writes pipeline results to files: MOTChallenge track
// files, per-frame JSON lines and annotated MP4 video. Every writer streams
// frame by frame and flushes on Close, so a run that fails midway keeps all
// frames before the failure.
package output

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sync"
	"time"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/motfile"
	"github.com/vigil-cctv/vigil/internal/pipeline"
	"github.com/vigil-cctv/vigil/internal/render"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/scenedraw"
	"github.com/vigil-cctv/vigil/internal/videoout"
)

// MOT writes tracks as `frame,id,x,y,w,h,conf,-1,-1,-1`, frame = index+1.
type MOT struct {
	f *os.File
	w *motfile.Writer
}

// NewMOT creates (truncates) path.
func NewMOT(path string) (*MOT, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("mot output: %w", err)
	}
	return &MOT{f: f, w: motfile.NewWriter(f)}, nil
}

// Write appends the frame's tracks.
func (m *MOT) Write(r *pipeline.Result) error {
	for _, t := range r.Tracks {
		row := motfile.Row{Frame: r.Frame.Index + 1, ID: t.ID, Box: t.Box, Conf: float64(t.Score), X: -1, Y: -1, Z: -1}
		if err := m.w.Write(row); err != nil {
			return fmt.Errorf("mot output: %w", err)
		}
	}
	return nil
}

// Close flushes and closes the file.
func (m *MOT) Close() error {
	return errors.Join(m.w.Flush(), m.f.Close())
}

// JSONL writes one JSON object per frame.
type JSONL struct {
	f   *os.File
	buf *bufio.Writer
	enc *json.Encoder
}

// Record is the JSON-lines schema of one frame.
type Record struct {
	Frame      int         `json:"frame"`
	PTS        float64     `json:"pts"`
	Detections []Detection `json:"detections"`
	Tracks     []Track     `json:"tracks"`
}

// Detection is one detector output in a Record.
type Detection struct {
	Class string     `json:"class"`
	BBox  [4]float64 `json:"bbox"`
	Score float64    `json:"score"`
}

// Track is one tracked object in a Record.
type Track struct {
	ID    int        `json:"id"`
	Class string     `json:"class"`
	BBox  [4]float64 `json:"bbox"`
	Score float64    `json:"score"`
}

// NewJSONL creates (truncates) path.
func NewJSONL(path string) (*JSONL, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("jsonl output: %w", err)
	}
	buf := bufio.NewWriterSize(f, 64*1024)
	return &JSONL{f: f, buf: buf, enc: json.NewEncoder(buf)}, nil
}

// NewRecord converts a result; pts is in seconds, frame is 1-based like MOT.
func NewRecord(r *pipeline.Result) Record {
	rec := Record{Frame: r.Frame.Index + 1, PTS: r.Frame.PTS.Seconds(),
		Detections: make([]Detection, len(r.Detections)), Tracks: make([]Track, len(r.Tracks))}
	for i, d := range r.Detections {
		rec.Detections[i] = Detection{Class: d.Class.String(), BBox: bbox(d.Box.X, d.Box.Y, d.Box.W, d.Box.H), Score: round(float64(d.Score), 3)}
	}
	for i, t := range r.Tracks {
		rec.Tracks[i] = Track{ID: t.ID, Class: t.Class.String(), BBox: bbox(t.Box.X, t.Box.Y, t.Box.W, t.Box.H), Score: round(float64(t.Score), 3)}
	}
	return rec
}

func bbox(x, y, w, h float64) [4]float64 {
	return [4]float64{round(x, 2), round(y, 2), round(w, 2), round(h, 2)}
}

func round(v float64, places int) float64 {
	p := math.Pow10(places)
	return math.Round(v*p) / p
}

// Write appends one line.
func (j *JSONL) Write(r *pipeline.Result) error {
	if err := j.enc.Encode(NewRecord(r)); err != nil {
		return fmt.Errorf("jsonl output: %w", err)
	}
	return nil
}

// Close flushes and closes the file.
func (j *JSONL) Close() error {
	return errors.Join(j.buf.Flush(), j.f.Close())
}

// Video draws boxes, ids and trails on each frame and encodes an MP4. Drawing
// and encoding run on their own goroutine behind a bounded queue so that
// they overlap with inference; the queue blocks rather than drops, because a
// file's video must have every frame.
type Video struct {
	out    *videoout.Writer
	queue  chan *pipeline.Result
	done   chan struct{}
	mu     sync.Mutex
	err    error
	trails *render.Trails
	name   string
	scene  *scene.Scene
}

// NewVideo opens an encoder for w×h frames at fps; sc (may be nil) adds
// the scene's zones and lines to every frame.
func NewVideo(ctx context.Context, path string, w, h int, fps float64, name string, sc *scene.Scene) (*Video, error) {
	out, err := videoout.Open(ctx, path, w, h, fps)
	if err != nil {
		return nil, fmt.Errorf("video output: %w", err)
	}
	v := &Video{out: out, queue: make(chan *pipeline.Result, 4), done: make(chan struct{}),
		trails: render.NewTrails(24, int(math.Max(fps, 1))), name: name, scene: sc}
	go v.loop()
	return v, nil
}

func (v *Video) loop() {
	defer close(v.done)
	for r := range v.queue {
		if v.failed() != nil {
			continue // keep draining so Write never blocks forever
		}
		if err := v.draw(r); err != nil {
			v.mu.Lock()
			v.err = err
			v.mu.Unlock()
		}
	}
}

func (v *Video) failed() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.err
}

func (v *Video) draw(r *pipeline.Result) error {
	f := r.Frame
	if f.Pix == nil {
		return fmt.Errorf("video output: frame %d has no pixels", f.Index)
	}
	// Draw on a copy: other sinks may still read the decoded frame.
	pix := append([]byte(nil), f.Pix...)
	c := render.FromFrame(&decode.Frame{Width: f.Width, Height: f.Height, Pix: pix})
	objs := make([]render.Object, len(r.Tracks))
	for i, t := range r.Tracks {
		objs[i] = render.Object{ID: t.ID, Class: t.Class, Box: t.Box, Score: t.Score}
	}
	if v.scene != nil {
		scenedraw.DrawZonesLight(c, v.scene)
	}
	v.trails.Add(f.Index, objs)
	render.DrawObjects(c, objs, v.trails)
	render.DrawHUD(c, v.name, fmt.Sprintf("frame %d  %s  tracks %d", f.Index+1, fmtPTS(f.PTS), len(r.Tracks)))
	return v.out.WriteFrame(pix)
}

func fmtPTS(d time.Duration) string {
	d = d.Round(time.Millisecond)
	return fmt.Sprintf("%02d:%02d.%03d", int(d.Minutes()), int(d.Seconds())%60, d.Milliseconds()%1000)
}

// Write queues a frame for drawing and encoding.
func (v *Video) Write(r *pipeline.Result) error {
	if err := v.failed(); err != nil {
		return err
	}
	v.queue <- r
	return nil
}

// Close drains the queue and finishes the MP4.
func (v *Video) Close() error {
	close(v.queue)
	<-v.done
	return errors.Join(v.failed(), v.out.Close())
}
