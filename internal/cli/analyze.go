package cli

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/vigil-cctv/vigil/internal/analysis"
	"github.com/vigil-cctv/vigil/internal/baseline"
	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/detect/onnx"
	"github.com/vigil-cctv/vigil/internal/ingest"
	"github.com/vigil-cctv/vigil/internal/motfile"
	"github.com/vigil-cctv/vigil/internal/motion"
	"github.com/vigil-cctv/vigil/internal/output"
	"github.com/vigil-cctv/vigil/internal/pipeline"
	"github.com/vigil-cctv/vigil/internal/reid"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/track"
)

type analyzeCmd struct {
	Input string `arg:"" optional:"" help:"Video file, directory of images, or rtsp:// URL. Optional with --public-dets."`

	MOT        string        `name:"mot" help:"Write tracks in MOTChallenge format to this file." type:"path"`
	JSONL      string        `name:"jsonl" help:"Write one JSON record per frame (detections and tracks) to this file." type:"path"`
	Video      string        `help:"Write an annotated MP4 (boxes, ids, trails) to this file." type:"path"`
	Classes    string        `help:"Classes to track: comma-separated names, or vehicle, carried, all." default:"all"`
	MaxFrames  int           `name:"max-frames" help:"Stop after this many frames (0: all)."`
	FPS        float64       `help:"Analyse at this frame rate, chosen by timestamp (0: every frame)."`
	ImageFPS   float64       `name:"image-fps" help:"Frame rate of an image-sequence input." default:"25"`
	Reverse    bool          `help:"Play an image sequence backwards."`
	PublicDets string        `name:"public-dets" help:"Skip the detector: track these MOT-format detections (frame,-1,x,y,w,h,score)." type:"existingfile"`
	DetClass   string        `name:"public-dets-class" help:"Class given to --public-dets detections and --tracks-from tracks." default:"person"`
	TracksFrom string        `name:"tracks-from" help:"Skip detection and tracking: replay these tracks (MOTChallenge file, e.g. ground truth, rows with flag 0 dropped; or JSON lines from --jsonl) through the analysis." type:"existingfile"`
	SeqFPS     float64       `name:"seq-fps" help:"Frame rate assumed for --public-dets/--tracks-from without an input." default:"25"`
	Scene      string        `help:"Scene file: apply its rules to the tracks (needs --events)." type:"existingfile"`
	Events     string        `help:"Write alerts raised by the scene's rules as JSON lines to this file." type:"path"`
	Snapshots  string        `help:"Directory for alert snapshots (full frame with overlay + crop)." type:"path"`
	Counts     string        `help:"Write line-crossing counters (per line, class, direction, time bucket) as JSON to this file." type:"path"`
	Baseline   string        `help:"Learned baseline file: raise its anomaly alerts into --events too, keep learning, and save it back at the end (created when missing)." type:"path"`
	Motion     bool          `help:"Run the motion cue (strong motion no track explains) as vigil serve does; needs a video input."`
	Warmup     time.Duration `help:"Stream time the baseline and motion cue observe before their first alert (default 30m, as vigil serve)."`
	Epoch      string        `help:"Wall-clock time of the input's first frame (RFC 3339): the camera clock of rule schedules, hour-of-week buckets and track times; without it schedules are always active."`
	Progress   string        `help:"Progress display: auto (bar on a terminal, logs otherwise), bar, log, none." default:"auto" enum:"auto,bar,log,none"`

	RTSPTransport string        `name:"rtsp-transport" help:"RTSP transport: tcp or udp." default:"tcp" enum:"tcp,udp"`
	Timeout       time.Duration `help:"Stream connect/read timeout." default:"10s"`

	Track      trackFlags `embed:"" prefix:"track-"`
	Appearance bool       `help:"Track with appearance: OSNet embeddings decide ambiguous matches and let a track that ended or was lost take its id back (see --reid-model)."`
	AppSim     float32    `name:"appearance-sim" help:"With --appearance: cosine similarity a re-link needs (default 0.5, BoT-SORT's threshold)."`
	AppKalman  bool       `name:"appearance-kalman-boxes" help:"With --appearance: report the Kalman filter's box, as without it, instead of the matched detection's."`
	modelFlags
	reidFlags
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
	if err := a.check(); err != nil {
		return err
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

func (a *analyzeCmd) check() error {
	switch {
	case a.Input == "" && a.PublicDets == "" && a.TracksFrom == "":
		return fmt.Errorf("no input: give a video, image directory or rtsp:// URL (or --public-dets, --tracks-from)")
	case ingest.IsReplay(a.Input):
		// A replay source only keeps a served camera's chain moving; here
		// recorded detections replay without any picture.
		return fmt.Errorf("%s: a replay: location is a camera source for vigil serve; to replay recorded detections here, give --public-dets or --tracks-from and no input", a.Input)
	case a.PublicDets != "" && a.TracksFrom != "":
		return fmt.Errorf("--public-dets and --tracks-from exclude each other")
	case (a.Scene == "") != (a.Events == ""):
		return fmt.Errorf("--scene and --events go together")
	case a.Baseline != "" && a.Scene == "":
		return fmt.Errorf("--baseline needs --scene and --events")
	case a.Motion && (a.Input == "" || a.Scene == ""):
		return fmt.Errorf("--motion needs a video input, --scene and --events")
	}
	return nil
}

// run is an assembled analysis: source, detector, chain, sinks, pipeline.
type run struct {
	src      pipeline.Source
	info     decode.Info
	name     string
	pipe     *pipeline.Pipeline
	chain    *analysis.Chain
	model    *onnx.Detector
	reid     *reid.Embedder
	app      *analysis.Appearance
	outputs  []string
	scene    *scene.Scene
	events   *output.Events
	baseFile string
}

func (r *run) close() {
	if r.model != nil {
		_ = r.model.Close()
	}
	if r.reid != nil {
		_ = r.reid.Close()
	}
}

func (a *analyzeCmd) build(e *env, classes detect.ClassSet) (*run, error) {
	r := &run{}
	if a.Scene != "" {
		sc, err := scene.Load(a.Scene)
		if err != nil {
			return nil, fmt.Errorf("%s is not valid:\n%w", a.Scene, err)
		}
		r.scene = sc
	}
	det, err := a.openInput(e, r)
	if err != nil {
		return nil, err
	}
	fps := r.info.FPS
	if a.FPS > 0 {
		fps = a.FPS
	}
	if r.chain, err = a.newChain(r, classes, fps); err != nil {
		r.close()
		return nil, err
	}
	sinks, err := a.openSinks(e, r)
	if err != nil {
		r.close()
		return nil, err
	}
	r.pipe = pipeline.New(r.src, det, r.chain, sinks)
	return r, nil
}

// openInput opens the frames and what detects in them: a video and the
// model, or the replayed detections or tracks (on their own time line
// when there is no video).
func (a *analyzeCmd) openInput(e *env, r *run) (pipeline.Detector, error) {
	var det pipeline.Detector
	switch {
	case a.PublicDets != "":
		pd, frames, err := loadPublicDets(a.PublicDets, a.DetClass)
		if err != nil {
			return nil, err
		}
		det, r.src, r.info = pd, &pipeline.Clock{Frames: frames, FPS: a.SeqFPS}, decode.Info{FPS: a.SeqFPS, Frames: frames}
	case a.TracksFrom != "":
		det = pipeline.PublicDetections{}
	}
	if r.src != nil || (a.TracksFrom != "" && a.Input == "") {
		r.name = a.PublicDets + a.TracksFrom
		if a.Video != "" {
			return nil, fmt.Errorf("--video needs an input to draw on")
		}
		return det, nil
	}
	if err := a.openSource(e, r); err != nil {
		return nil, err
	}
	if r.scene != nil && (r.scene.Image.Width != r.info.Width || r.scene.Image.Height != r.info.Height) {
		return nil, fmt.Errorf("scene %s is drawn for %dx%d frames but %s has %dx%d", a.Scene, r.scene.Image.Width, r.scene.Image.Height, r.name, r.info.Width, r.info.Height)
	}
	if det != nil {
		return det, nil
	}
	m, err := a.open(r.info.Width, r.info.Height)
	if err != nil {
		return nil, err
	}
	r.model = m
	return pipeline.NewModelDetector(m, 4), nil
}

// newChain assembles the camera's analysis chain as vigil serve would:
// tracker (or the replayed tracks), scene rules, baseline, motion cue.
func (a *analyzeCmd) newChain(r *run, classes detect.ClassSet, fps float64) (*analysis.Chain, error) {
	cfg := analysis.Config{Classes: classes, Track: a.Track.config(fps), Scene: r.scene}
	if a.Epoch != "" {
		t, err := time.Parse(time.RFC3339, a.Epoch)
		if err != nil {
			return nil, fmt.Errorf("--epoch: %v", err)
		}
		cfg.Epoch = t
	}
	if a.TracksFrom != "" {
		rec, err := a.loadRecorded(r, cfg.Track)
		if err != nil {
			return nil, err
		}
		cfg.Tracker = rec
	} else if a.Appearance {
		if err := a.appearance(r, cfg.Track, fps); err != nil {
			return nil, err
		}
		cfg.Tracker = r.app
	}
	if a.Baseline != "" {
		cfg.Baseline = &baseline.Config{Warmup: a.Warmup}
		if b, err := os.ReadFile(a.Baseline); err == nil {
			cfg.SavedBaseline = b
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		r.baseFile = a.Baseline
	}
	if a.Motion {
		cfg.Motion = &motion.ModelOptions{Warmup: cmp.Or(a.Warmup, 30*time.Minute)}
	}
	return analysis.New(cfg)
}

// appearance loads the ReID model and wraps ByteTrack with it.
func (a *analyzeCmd) appearance(r *run, tc track.Config, fps float64) error {
	if a.Input == "" {
		return fmt.Errorf("--appearance needs a video input to crop people from")
	}
	t, err := track.New(tc)
	if err != nil {
		return err
	}
	emb, err := reid.New(reid.Config{Model: a.reidFlags.modelPath(), Library: a.libPath(), Threads: 1})
	if err != nil {
		return err
	}
	r.reid = emb
	cfg := analysis.DefaultAppearance(fps)
	cfg.MinSim, cfg.FilteredBoxes = a.AppSim, a.AppKalman // zero: the default
	r.app = analysis.NewAppearance(t, emb, cfg)
	return nil
}

// loadRecorded reads --tracks-from; without a video, its frames are the
// source too.
func (a *analyzeCmd) loadRecorded(r *run, tc track.Config) (analysis.Recorded, error) {
	cls, ok := detect.ClassByName(a.DetClass)
	if !ok {
		return analysis.Recorded{}, fmt.Errorf("--public-dets-class: unknown class %q", a.DetClass)
	}
	rec, err := readRecorded(a.TracksFrom, cls, a.SeqFPS)
	if err != nil {
		return analysis.Recorded{}, err
	}
	if r.src == nil {
		r.src = &pipeline.Frames{List: rec.frames}
		r.info = decode.Info{FPS: a.SeqFPS, Frames: len(rec.frames)}
		if r.scene != nil {
			for _, f := range rec.frames {
				f.Width, f.Height = r.scene.Image.Width, r.scene.Image.Height
			}
		}
	}
	return analysis.Recorded{R: track.NewReplay(rec.byFrame, tc)}, nil
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
	if a.Events != "" {
		s, err := output.NewEvents(output.EventsConfig{Scene: r.scene, Path: a.Events, Snapshots: a.Snapshots, Counts: a.Counts, Log: e.log})
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

func (r *run) execute(e *env, mode string) error {
	total := r.info.Frames
	start := time.Now()
	stop := startProgress(e, mode, r.name, total, &r.pipe.Stats)
	err := r.pipe.Run(e.ctx)
	stop()
	n := r.pipe.Stats.Frames.Load()
	secs := time.Since(start).Seconds()
	e.log.Info("analysis finished", "input", r.name, "frames", n, "seconds", fmt.Sprintf("%.1f", secs),
		"fps", fmt.Sprintf("%.1f", float64(n)/secs), "analysis_ms_per_frame", fmt.Sprintf("%.3f", msPerFrame(r.pipe.Stats.TrackNanos.Load(), n)))
	for _, o := range r.outputs {
		fmt.Fprintln(e.stdout, o)
	}
	if r.events != nil {
		fmt.Fprintf(e.stdout, "alerts raised: %d %v\n", r.events.Raised, r.events.ByRule)
	}
	if r.app != nil {
		fmt.Fprintf(e.stdout, "appearance: %d ids taken back, %d swaps undone, %d re-found tracks split, %d crops embedded\n", r.app.Relinks, r.app.Swaps, r.app.Splits, r.app.Crops)
		if aerr := r.app.Err(); aerr != nil && err == nil {
			err = fmt.Errorf("appearance embedding: %w", aerr)
		}
	}
	if r.baseFile != "" {
		if serr := r.saveBaseline(e); serr != nil {
			return fmt.Errorf("saving baseline: %w", serr)
		}
	}
	if err != nil {
		return fmt.Errorf("%w (results for the %d frames before this are written)", err, n)
	}
	return nil
}

// saveBaseline writes the chain's baseline back (the pipeline has ended
// the stream, so every track is learned).
func (r *run) saveBaseline(e *env) error {
	data, err := r.chain.SaveBaseline(true)
	if err != nil {
		return err
	}
	if err := os.WriteFile(r.baseFile, data, 0o644); err != nil {
		return err
	}
	st, err := r.chain.BaselineState()
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "baseline: %s (%d tracks learned, %.1f min of stream time, warm: %v)\n", r.baseFile, st.LearnedTracks, st.ModelTime.Minutes(), st.Warm)
	return nil
}

func msPerFrame(nanos, frames int64) float64 {
	if frames == 0 {
		return 0
	}
	return float64(nanos) / float64(frames) / 1e6
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
