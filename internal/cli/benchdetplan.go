package cli

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/detect/onnx"
	"github.com/vigil-cctv/vigil/internal/detplan"
	"github.com/vigil-cctv/vigil/internal/ingest"
	"github.com/vigil-cctv/vigil/internal/ingest/rtsptest"
	"github.com/vigil-cctv/vigil/internal/moteval"
	"github.com/vigil-cctv/vigil/internal/motfile"
	"github.com/vigil-cctv/vigil/internal/track"
)

// benchDetplanCmd measures what the detection policy (package detplan)
// saves and costs: the same footage at the same analysed rate, once with
// the detector on every analysed frame and once with the policy (crops
// around motion and tracks, frames carried by the tracker), reporting
// analysed frames per CPU-second and, with --gt, MOTA on the analysed
// frames.
type benchDetplanCmd struct {
	Input   string  `arg:"" help:"Footage: a video file or image directory."`
	FPS     float64 `help:"Analysed frames per second (selected on the timestamp grid)." default:"5"`
	Classes string  `help:"Classes tracked." default:"person,vehicle"`
	GT      string  `name:"gt" help:"MOTChallenge ground truth of the input; scored on the analysed frames." type:"existingfile"`
	SeqFPS  float64 `name:"seq-fps" help:"Frame rate the ground truth is numbered at (frame = round(PTS·seq-fps)+1)." default:"10"`
	Static  float64 `help:"Instead of the input, seconds of a static view: its first frame frozen, with fresh noise in every frame, H.264 at 25 fps."`
	JSON    bool    `name:"json" help:"Print the report as JSON."`
	// TracksOut keeps each pass's tracks so the scene rules can be run on
	// them (vigil analyze --tracks-from): what the plan costs the alerts.
	TracksOut string    `name:"tracks-out" help:"Folder to write each pass's tracks to (every-frame.txt, policy.txt, MOTChallenge rows numbered as --seq-fps)." type:"path"`
	Plan      planFlags `embed:"" prefix:"plan-"`
	modelFlags
}

// planFlags tune the detection plan (detplan.Config; 0: its default).
type planFlags struct {
	FullEvery   time.Duration `help:"Whole-frame pass at least this often (0: the plan's default)."`
	MaxCarry    int           `help:"Most analysed frames carried in a row while tracks are live (0: default)."`
	ManyTracks  int           `help:"Live tracks from which every frame is detected (0: default)."`
	MaxRegions  int           `help:"Most crops per frame (0: default)."`
	RegionSize  int           `help:"Side of the region detector's square input: a crop up to it runs at the frame's scale." default:"320"`
	AnySize     bool          `help:"Crops sized to what they hold, each run at its own size (as serve does); --no-plan-any-size: squares of the region size." default:"true" negatable:""`
	LargeMotion float64       `help:"Share of the frame that, covered by what the crops hold, makes the whole frame the choice (0: default)."`
}

func (f planFlags) config() detplan.Config {
	return detplan.Config{FullEvery: f.FullEvery, MaxCarry: f.MaxCarry, ManyTracks: f.ManyTracks, MaxRegions: f.MaxRegions,
		RegionSize: f.RegionSize, LargeMotion: f.LargeMotion, AnySize: f.AnySize}
}

// detplanPass is one run over the footage.
type detplanPass struct {
	Mode          string         `json:"mode"`
	Frames        int            `json:"analysed_frames"`
	CPUSeconds    float64        `json:"cpu_seconds"`
	FPSPerCore    float64        `json:"analysed_fps_per_core"`
	Counts        detplan.Counts `json:"decisions"`
	MOTA          *float64       `json:"mota,omitempty"`
	IDF1          *float64       `json:"idf1,omitempty"`
	GTFrames      int            `json:"gt_frames,omitempty"`
	WallFPS       float64        `json:"wall_fps"`
	DetectorCalls int            `json:"detector_calls"`
}

func (b *benchDetplanCmd) Run(e *env) error {
	input := b.Input
	if b.Static > 0 {
		dir, err := os.MkdirTemp("", "vigil-static-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		input = filepath.Join(dir, "static.mp4")
		if err := rtsptest.MakeStaticClip(e.ctx, b.Input, input, b.Static, 25); err != nil {
			return err
		}
	}
	classes, err := detect.ParseClassSet(b.Classes)
	if err != nil {
		return err
	}
	var passes []detplanPass
	for _, policy := range []bool{false, true} {
		p, err := b.pass(e.ctx, input, classes, policy)
		if err != nil {
			return err
		}
		passes = append(passes, p)
	}
	if b.JSON {
		return printJSON(e.stdout, passes)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "mode\tanalysed\tcpu s\tfps/core\tfull\tregions\tcarry\tdetector calls\tMOTA\tIDF1\n")
	for _, p := range passes {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%d\t%d\t%d\t%d\t%s\t%s\n", p.Mode, p.Frames, p.CPUSeconds, p.FPSPerCore,
			p.Counts.Full, p.Counts.Regions, p.Counts.Carry, p.DetectorCalls, pctOf(p.MOTA), pctOf(p.IDF1))
	}
	return tw.Flush()
}

func pctOf(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f", 100**v)
}

// cpuTime is this process's CPU time plus that of its reaped children
// (ffmpeg decoding).
func cpuTime() time.Duration {
	var self, kids syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
	return time.Duration(self.Utime.Nano() + self.Stime.Nano() + kids.Utime.Nano() + kids.Stime.Nano())
}

// detplanRun is the state of one pass.
type detplanRun struct {
	full, region *onnx.Detector
	classes      detect.ClassSet
	tracker      *track.Tracker
	gate         *ingest.MotionGate
	policy       *detplan.Policy
	wholeRef     ingest.Thumb // the frame the last whole-frame pass read
	calls        int
}

func (b *benchDetplanCmd) pass(ctx context.Context, input string, classes detect.ClassSet, usePolicy bool) (detplanPass, error) {
	src, err := decode.Open(ctx, input, decode.Options{FPS: b.FPS, ImageFPS: b.SeqFPS})
	if err != nil {
		return detplanPass{}, err
	}
	r, err := b.newRun(src.Info, classes, usePolicy)
	if err != nil {
		return detplanPass{}, err
	}
	defer r.close()
	cpu0, wall0 := cpuTime(), time.Now()
	ch, err := src.Start(ctx)
	if err != nil {
		return detplanPass{}, err
	}
	var rows []motfile.Row
	analysed := map[int]bool{}
	n := 0
	for f := range ch {
		tracks, err := r.frame(f, usePolicy)
		if err != nil {
			for range ch {
			}
			_ = src.Wait()
			return detplanPass{}, err
		}
		frame := int(math.Round(f.PTS.Seconds()*b.SeqFPS)) + 1
		analysed[frame] = true
		for _, t := range tracks {
			rows = append(rows, motfile.Row{Frame: frame, ID: t.ID, Box: t.Box, Conf: float64(t.Score), X: -1, Y: -1, Z: -1})
		}
		n++
	}
	if err := src.Wait(); err != nil {
		return detplanPass{}, err
	}
	cpu := cpuTime() - cpu0
	p := detplanPass{Mode: "every frame", Frames: n, CPUSeconds: cpu.Seconds(), FPSPerCore: float64(n) / cpu.Seconds(),
		WallFPS: float64(n) / time.Since(wall0).Seconds(), DetectorCalls: r.calls}
	if usePolicy {
		p.Mode, p.Counts = "policy", r.policy.Counts()
	} else {
		p.Counts = detplan.Counts{Full: int64(n)}
	}
	if err := b.keepTracks(p.Mode, rows); err != nil {
		return p, err
	}
	return p, b.score(&p, rows, analysed)
}

// keepTracks writes a pass's tracks under --tracks-out.
func (b *benchDetplanCmd) keepTracks(mode string, rows []motfile.Row) error {
	if b.TracksOut == "" {
		return nil
	}
	if err := os.MkdirAll(b.TracksOut, 0o755); err != nil {
		return err
	}
	name := map[string]string{"every frame": "every-frame.txt", "policy": "policy.txt"}[mode]
	f, err := os.Create(filepath.Join(b.TracksOut, name))
	if err != nil {
		return err
	}
	if err := motfile.Write(f, rows); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// score compares with the ground truth subsampled at the analysed frames:
// a gt row counts when its frame number is one the pass analysed.
func (b *benchDetplanCmd) score(p *detplanPass, rows []motfile.Row, analysed map[int]bool) error {
	if b.GT == "" {
		return nil
	}
	gt, err := motfile.ReadFile(b.GT)
	if err != nil {
		return err
	}
	var kept []motfile.Row
	frames := map[int]bool{}
	for _, g := range gt {
		if analysed[g.Frame] {
			kept = append(kept, g)
			frames[g.Frame] = true
		}
	}
	res, err := moteval.Evaluate(kept, rows, moteval.Options{IoU: 0.5})
	if err != nil {
		return err
	}
	p.MOTA, p.IDF1, p.GTFrames = &res.MOTA, &res.IDF1, len(frames)
	return nil
}

func (b *benchDetplanCmd) newRun(info decode.Info, classes detect.ClassSet, usePolicy bool) (*detplanRun, error) {
	full, err := b.open(info.Width, info.Height)
	if err != nil {
		return nil, err
	}
	tr, err := track.New(track.DefaultConfig(b.FPS))
	if err != nil {
		full.Close()
		return nil, err
	}
	r := &detplanRun{full: full, classes: classes, tracker: tr}
	if !usePolicy {
		return r, nil
	}
	cfg := b.Plan.config()
	cfg.FullW, cfg.FullH = full.InputSize()
	r.gate, r.policy = ingest.NewMotionGate(ingest.GateOptions{}), detplan.New(cfg)
	if r.region, err = b.modelFlags.openRegion(b.Plan.RegionSize, b.Plan.AnySize); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

func (r *detplanRun) close() {
	r.full.Close()
	if r.region != nil {
		r.region.Close()
	}
}

// frame analyses one frame: every frame detected, or as the policy says.
func (r *detplanRun) frame(f *decode.Frame, usePolicy bool) ([]track.Track, error) {
	if !usePolicy {
		dets, err := r.full.Detect(f)
		r.calls++
		if err != nil {
			return nil, err
		}
		return r.tracker.Update(r.keep(dets)), nil
	}
	r.gate.Check(f.PTS, f.Width, f.Height, f.Pix)
	motion, global := r.gate.Boxes()
	thumb := r.gate.Thumb()
	st := detplan.State{PTS: f.PTS, Width: f.Width, Height: f.Height, Motion: motion, MotionGlobal: global,
		Unchanged: thumb.Same(r.wholeRef)}
	for _, m := range r.tracker.Motions() {
		st.Tracks = append(st.Tracks, detplan.Track{Box: m.Box, VX: m.VX, VY: m.VY})
	}
	d := r.policy.Decide(st)
	if d.Whole {
		r.wholeRef = thumb
	}
	switch {
	case d.Mode == detplan.Carry:
		return r.tracker.Predict(), nil
	case d.Mode == detplan.Regions && r.region != nil:
		var parts []detect.RegionDetections
		for _, reg := range d.Regions {
			dets, err := r.region.DetectRegion(f, reg.Rect, reg.Input)
			r.calls++
			if err != nil {
				return nil, err
			}
			parts = append(parts, detect.RegionDetections{Rect: reg.Rect, Dets: dets})
		}
		return r.tracker.Update(r.keep(detect.MergeRegions(parts, f.Width, f.Height, 0.6))), nil
	}
	dets, err := r.full.Detect(f)
	r.calls++
	if err != nil {
		return nil, err
	}
	return r.tracker.Update(r.keep(dets)), nil
}

func (r *detplanRun) keep(dets []detect.Detection) []detect.Detection {
	out := dets[:0]
	for _, d := range dets {
		if r.classes.Allows(d.Class) {
			out = append(out, d)
		}
	}
	return out
}
