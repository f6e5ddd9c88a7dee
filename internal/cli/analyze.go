package cli

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/vigil-cctv/vigil/internal/baseline"
	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/detect/onnx"
	"github.com/vigil-cctv/vigil/internal/motfile"
	"github.com/vigil-cctv/vigil/internal/output"
	"github.com/vigil-cctv/vigil/internal/pipeline"
	"github.com/vigil-cctv/vigil/internal/rules"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/track"
)

type analyzeCmd struct {
	Input string `arg:"" optional:"" help:"Video file, directory of images, or rtsp:// URL. Optional with --public-dets."`

	MOT        string  `name:"mot" help:"Write tracks in MOTChallenge format to this file." type:"path"`
	JSONL      string  `name:"jsonl" help:"Write one JSON record per frame (detections and tracks) to this file." type:"path"`
	Video      string  `help:"Write an annotated MP4 (boxes, ids, trails) to this file." type:"path"`
	Classes    string  `help:"Classes to track: comma-separated names, or vehicle, carried, all." default:"all"`
	MaxFrames  int     `name:"max-frames" help:"Stop after this many frames (0: all)."`
	FPS        float64 `help:"Analyse at this frame rate, chosen by timestamp (0: every frame)."`
	ImageFPS   float64 `name:"image-fps" help:"Frame rate of an image-sequence input." default:"25"`
	Reverse    bool    `help:"Play an image sequence backwards."`
	PublicDets string  `name:"public-dets" help:"Skip the detector: track these MOT-format detections (frame,-1,x,y,w,h,score)." type:"existingfile"`
	DetClass   string  `name:"public-dets-class" help:"Class given to --public-dets detections and --tracks-from tracks." default:"person"`
	TracksFrom string  `name:"tracks-from" help:"Skip detection and tracking: use these MOT-format tracks (e.g. ground truth); rows with flag 0 are dropped." type:"existingfile"`
	SeqFPS     float64 `name:"seq-fps" help:"Frame rate assumed for --public-dets/--tracks-from without an input." default:"25"`
	Scene      string  `help:"Scene file: apply its rules to the tracks (needs --events)." type:"existingfile"`
	Events     string  `help:"Write alerts raised by the scene's rules as JSON lines to this file." type:"path"`
	Snapshots  string  `help:"Directory for alert snapshots (full frame with overlay + crop)." type:"path"`
	Counts     string  `help:"Write line-crossing counters (per line, class, direction, time bucket) as JSON to this file." type:"path"`
	Baseline   string  `help:"Learned baseline file: raise its anomaly alerts into --events too, keep learning, and save it back at the end (created when missing)." type:"path"`
	Epoch      string  `help:"Wall-clock time of the input's first frame (RFC 3339), for rule schedules; without it schedules are always active."`
	Progress   string  `help:"Progress display: auto (bar on a terminal, logs otherwise), bar, log, none." default:"auto" enum:"auto,bar,log,none"`

	RTSPTransport string        `name:"rtsp-transport" help:"RTSP transport: tcp or udp." default:"tcp" enum:"tcp,udp"`
	Timeout       time.Duration `help:"Stream connect/read timeout." default:"10s"`

	Track trackFlags `embed:"" prefix:"track-"`
	modelFlags
}

// trackFlags expose the ByteTrack settings; zero means the default.
type trackFlags struct {
	High    float32 `help:"Score above which detections are first-stage (default 0.5)."`
	New     float32 `help:"Score needed to start a track (default 0.6)."`
	Buffer  float64 `help:"Seconds a lost track is kept (default 1)."`
	MatchIo float64 `name:"match-iou" help:"Minimum IoU for first-stage matching (default 0.2)."`
}

func (t trackFlags) config(fps float64) track.Config {
	c := track.DefaultConfig(fps)
	if t.High > 0 {
		c.HighThresh = t.High
	}
	if t.New > 0 {
		c.NewTrackThresh = t.New
	}
	if t.Buffer > 0 {
		c.BufferSeconds = t.Buffer
	}
	if t.MatchIo > 0 {
		c.MatchIoU = t.MatchIo
	}
	return c
}

func (a *analyzeCmd) Run(e *env) error {
	classes, err := detect.ParseClassSet(a.Classes)
	if err != nil {
		return fmt.Errorf("--classes: %w", err)
	}
	if a.Input == "" && a.PublicDets == "" && a.TracksFrom == "" {
		return fmt.Errorf("no input: give a video, image directory or rtsp:// URL (or --public-dets, --tracks-from)")
	}
	if a.PublicDets != "" && a.TracksFrom != "" {
		return fmt.Errorf("--public-dets and --tracks-from exclude each other")
	}
	if (a.Scene == "") != (a.Events == "") {
		return fmt.Errorf("--scene and --events go together")
	}
	if a.Baseline != "" && a.Scene == "" {
		return fmt.Errorf("--baseline needs --scene and --events")
	}
	if a.MOT == "" && a.JSONL == "" && a.Video == "" && a.Events == "" {
		e.log.Warn("no output requested (--mot, --jsonl, --video); tracking will only be counted")
	}
	run, err := a.build(e, classes)
	if err != nil {
		return err
	}
	defer run.close()
	return run.execute(e, a.Progress)
}

// run is an assembled analysis: source, detector, sinks and pipeline.
type run struct {
	src      pipeline.Source
	info     decode.Info
	name     string
	pipe     *pipeline.Pipeline
	model    *onnx.Detector
	outputs  []string
	scene    *scene.Scene
	events   *output.Events
	base     *baseline.Model
	baseFile string
}

func (r *run) close() {
	if r.model != nil {
		_ = r.model.Close()
	}
}

func (a *analyzeCmd) build(e *env, classes detect.ClassSet) (*run, error) {
	r := &run{}
	det, tracker, frames, err := a.replayed()
	if err != nil {
		return nil, err
	}
	if det != nil && a.Input == "" {
		if a.Video != "" {
			return nil, fmt.Errorf("--video needs an input to draw on")
		}
		r.src = &pipeline.Clock{Frames: frames, FPS: a.SeqFPS}
		r.info = decode.Info{FPS: a.SeqFPS, Frames: frames}
		r.name = a.PublicDets + a.TracksFrom
	}
	if r.src == nil {
		if err := a.openSource(e, r); err != nil {
			return nil, err
		}
	}
	if det == nil {
		m, err := a.open(r.info.Width, r.info.Height)
		if err != nil {
			return nil, err
		}
		r.model = m
		det = pipeline.NewModelDetector(m, 4)
	}
	sinks, err := a.openSinks(e, r)
	if err != nil {
		r.close()
		return nil, err
	}
	fps := r.info.FPS
	if a.FPS > 0 {
		fps = a.FPS
	}
	r.pipe, err = pipeline.New(r.src, det, sinks, pipeline.Config{Classes: classes, Track: a.Track.config(fps), Tracker: tracker})
	if err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

func (a *analyzeCmd) openSource(e *env, r *run) error {
	opt := decode.Options{FPS: a.FPS, ImageFPS: a.ImageFPS, Reverse: a.Reverse, RTSPTransport: a.RTSPTransport,
		Timeout: a.Timeout, MaxFrames: a.MaxFrames,
		// A live stream must not build up lag behind a slow detector: drop
		// the oldest queued frame instead (counted). Files never drop.
		DropOldest: strings.Contains(a.Input, "://")}
	src, err := decode.Open(e.ctx, a.Input, opt)
	if err != nil {
		return err
	}
	r.src, r.info, r.name = src, src.Info, src.Input.String()
	return nil
}

func (a *analyzeCmd) openSinks(e *env, r *run) ([]pipeline.Sink, error) {
	var sinks []pipeline.Sink
	fail := func(err error) ([]pipeline.Sink, error) {
		for _, s := range sinks {
			_ = s.Close()
		}
		return nil, err
	}
	if a.MOT != "" {
		s, err := output.NewMOT(a.MOT)
		if err != nil {
			return fail(err)
		}
		sinks, r.outputs = append(sinks, s), append(r.outputs, "tracks (MOT): "+a.MOT)
	}
	if a.JSONL != "" {
		s, err := output.NewJSONL(a.JSONL)
		if err != nil {
			return fail(err)
		}
		sinks, r.outputs = append(sinks, s), append(r.outputs, "frames (JSONL): "+a.JSONL)
	}
	if a.Scene != "" {
		s, err := a.openEvents(e, r)
		if err != nil {
			return fail(err)
		}
		sinks, r.outputs = append(sinks, s), append(r.outputs, "alerts (JSONL): "+a.Events)
		r.events = s
	}
	if a.Video != "" {
		fps := r.info.FPS
		if a.FPS > 0 {
			fps = a.FPS
		}
		s, err := output.NewVideo(e.ctx, a.Video, r.info.Width, r.info.Height, fps, r.name, r.scene)
		if err != nil {
			return fail(err)
		}
		sinks, r.outputs = append(sinks, s), append(r.outputs, "annotated video: "+a.Video)
	}
	return sinks, nil
}

func (a *analyzeCmd) openEvents(e *env, r *run) (*output.Events, error) {
	sc, err := scene.Load(a.Scene)
	if err != nil {
		return nil, fmt.Errorf("%s is not valid:\n%w", a.Scene, err)
	}
	if r.info.Width > 0 && (sc.Image.Width != r.info.Width || sc.Image.Height != r.info.Height) {
		return nil, fmt.Errorf("scene %s is drawn for %dx%d frames but %s has %dx%d", a.Scene, sc.Image.Width, sc.Image.Height, r.name, r.info.Width, r.info.Height)
	}
	var opt rules.Options
	if a.Epoch != "" {
		if opt.Epoch, err = time.Parse(time.RFC3339, a.Epoch); err != nil {
			return nil, fmt.Errorf("--epoch: %v", err)
		}
	}
	r.scene = sc
	cfg := output.EventsConfig{Scene: sc, Rules: opt, Path: a.Events, Snapshots: a.Snapshots, Counts: a.Counts, Log: e.log}
	if a.Baseline != "" {
		m, err := baseline.New(baseline.Config{Epoch: opt.Epoch}, sc)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(a.Baseline); err == nil {
			if err := loadBaseline(m, a.Baseline); err != nil {
				return nil, err
			}
		}
		cfg.Baseline, r.base, r.baseFile = m, m, a.Baseline
	}
	return output.NewEvents(cfg)
}

func (r *run) execute(e *env, mode string) error {
	total := r.info.Frames
	start := time.Now()
	stop := startProgress(e, mode, r.name, total, &r.pipe.Stats)
	err := r.pipe.Run(e.ctx)
	stop()
	n := r.pipe.Stats.Frames.Load()
	secs := time.Since(start).Seconds()
	e.log.Info("analysis finished", "input", r.name, "frames", n, "seconds", fmt.Sprintf("%.1f", secs),
		"fps", fmt.Sprintf("%.1f", float64(n)/secs), "tracker_ms_per_frame", fmt.Sprintf("%.3f", msPerFrame(r.pipe.Stats.TrackNanos.Load(), n)))
	for _, o := range r.outputs {
		fmt.Fprintln(e.stdout, o)
	}
	if r.events != nil {
		fmt.Fprintf(e.stdout, "alerts raised: %d %v\n", r.events.Raised, r.events.ByRule)
	}
	if r.base != nil {
		// The events sink has closed the model's open tracks by now.
		if serr := saveBaseline(r.base, r.baseFile); serr != nil {
			return fmt.Errorf("saving baseline: %w", serr)
		}
		st := r.base.State()
		fmt.Fprintf(e.stdout, "baseline: %s (%d tracks learned, %.1f min of stream time, warm: %v)\n", r.baseFile, st.LearnedTracks, st.ModelTime.Minutes(), st.Warm)
	}
	if err != nil {
		return fmt.Errorf("%w (results for the %d frames before this are written)", err, n)
	}
	return nil
}

func msPerFrame(nanos, frames int64) float64 {
	if frames == 0 {
		return 0
	}
	return float64(nanos) / float64(frames) / 1e6
}

// replayed loads --public-dets or --tracks-from: a detector that replays
// detections (none for tracks), a replaying tracker for tracks, and the
// last frame number in the file.
func (a *analyzeCmd) replayed() (pipeline.Detector, pipeline.Tracker, int, error) {
	switch {
	case a.PublicDets != "":
		pd, frames, err := loadPublicDets(a.PublicDets, a.DetClass)
		return pd, nil, frames, err
	case a.TracksFrom != "":
		tr, frames, err := loadTracks(a.TracksFrom, a.DetClass)
		return pipeline.PublicDetections{}, tr, frames, err
	}
	return nil, nil, 0, nil
}

// loadTracks reads a MOT track file keyed by 1-based frame, dropping rows
// flagged 0 (ignored regions in MOTChallenge ground truth).
func loadTracks(path, class string) (pipeline.ReplayTracks, int, error) {
	cls, ok := detect.ClassByName(class)
	if !ok {
		return pipeline.ReplayTracks{}, 0, fmt.Errorf("--public-dets-class: unknown class %q", class)
	}
	rows, err := motfile.ReadFile(path)
	if err != nil {
		return pipeline.ReplayTracks{}, 0, err
	}
	by := map[int][]track.Track{}
	last := 0
	for _, r := range rows {
		if r.Conf == 0 {
			continue
		}
		by[r.Frame] = append(by[r.Frame], track.Track{ID: r.ID, Class: cls, Box: r.Box, Score: 1, DetIndex: -1})
		last = max(last, r.Frame)
	}
	return pipeline.ReplayTracks{ByFrame: by}, last, nil
}

// loadPublicDets reads MOT-format detections keyed by 1-based frame.
func loadPublicDets(path, class string) (pipeline.PublicDetections, int, error) {
	cls, ok := detect.ClassByName(class)
	if !ok {
		return pipeline.PublicDetections{}, 0, fmt.Errorf("--public-dets-class: unknown class %q", class)
	}
	rows, err := motfile.ReadFile(path)
	if err != nil {
		return pipeline.PublicDetections{}, 0, err
	}
	by := map[int][]detect.Detection{}
	last := 0
	for _, r := range rows {
		by[r.Frame] = append(by[r.Frame], detect.Detection{Box: r.Box, Class: cls, Score: float32(r.Conf)})
		last = max(last, r.Frame)
	}
	return pipeline.PublicDetections{ByFrame: by}, last, nil
}
