package cli

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/vigil-cctv/vigil/internal/analysis"
	"github.com/vigil-cctv/vigil/internal/attrs"
	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/pipeline"
	"github.com/vigil-cctv/vigil/internal/reid"
	"github.com/vigil-cctv/vigil/internal/track"
)

type benchCmd struct {
	Input  string `arg:"" optional:"" help:"Footage to measure on." default:"/usr/share/doc/opencv-doc/examples/data/vtest.avi"`
	Frames int    `help:"Frames per measurement (0: the whole input)." default:"300"`
	JSON   bool   `name:"json" help:"Print the report as JSON."`
	// Describe measures what the suspect search costs the analysis: the
	// same pipeline run again with every track described.
	Describe bool `help:"Run the full pipeline a second time describing every track (colours, carried objects, heading, best crops and OSNet embeddings from --reid-model) and report what that adds, in CPU time and fps."`
	modelFlags
	reidFlags
}

// benchReport is what `vigil bench` measures, in one run on one input.
type benchReport struct {
	Input            string             `json:"input"`
	Frames           int                `json:"frames"`
	CPUs             int                `json:"cpus"`
	Threads          int                `json:"threads"`
	ModelInput       string             `json:"model_input"`
	DecodeFPS        float64            `json:"decode_fps"`
	DetectorFPS      float64            `json:"detector_fps"`
	DetectorMS       float64            `json:"detector_ms_per_frame"`
	PrepareMS        float64            `json:"prepare_ms_per_frame"`
	PipelineFPS      float64            `json:"pipeline_fps"`
	PipelineRatio    float64            `json:"pipeline_to_detector_ratio"`
	PipelineCPU      float64            `json:"pipeline_cpu_seconds"` // this process and its decoder, user + system
	Described        *describedRun      `json:"described,omitempty"`
	TrackerMSByCount map[string]float64 `json:"tracker_ms_per_frame"`
	PeakRSSMiB       float64            `json:"peak_rss_mib"`
}

func (b *benchCmd) Run(e *env) error {
	rep := benchReport{Input: b.Input, CPUs: runtime.NumCPU(), Threads: b.Threads, TrackerMSByCount: map[string]float64{}}
	frames, info, err := b.decodeOnly(e.ctx, &rep)
	if err != nil {
		return err
	}
	if err := b.detectorOnly(frames, info, &rep); err != nil {
		return err
	}
	if err := b.fullPipeline(e.ctx, info, &rep); err != nil {
		return err
	}
	rep.PipelineRatio = rep.PipelineFPS / rep.DetectorFPS
	for _, n := range []int{10, 50, 200} {
		rep.TrackerMSByCount[strconv.Itoa(n)] = trackerMS(n)
	}
	rep.PeakRSSMiB = peakRSSMiB()
	if b.JSON {
		return printJSON(e.stdout, rep)
	}
	return rep.write(e)
}

func (b *benchCmd) open(ctx context.Context) (*decode.Source, error) {
	return decode.Open(ctx, b.Input, decode.Options{MaxFrames: b.Frames})
}

// decodeOnly times decoding alone and keeps up to 16 frames for the
// detector measurement.
func (b *benchCmd) decodeOnly(ctx context.Context, rep *benchReport) ([]*decode.Frame, decode.Info, error) {
	src, err := b.open(ctx)
	if err != nil {
		return nil, decode.Info{}, err
	}
	start := time.Now()
	ch, err := src.Start(ctx)
	if err != nil {
		return nil, decode.Info{}, err
	}
	var keep []*decode.Frame
	n := 0
	for f := range ch {
		if len(keep) < 16 {
			keep = append(keep, f)
		}
		n++
	}
	if err := src.Wait(); err != nil {
		return nil, decode.Info{}, err
	}
	if n == 0 {
		return nil, decode.Info{}, fmt.Errorf("%s: no frames decoded", b.Input)
	}
	rep.Frames = n
	rep.DecodeFPS = float64(n) / time.Since(start).Seconds()
	return keep, src.Info, nil
}

// detectorOnly runs inference on ready tensors: the ceiling the full
// pipeline is compared against.
func (b *benchCmd) detectorOnly(frames []*decode.Frame, info decode.Info, rep *benchReport) error {
	d, err := b.modelFlags.open(info.Width, info.Height)
	if err != nil {
		return err
	}
	defer d.Close()
	w, h := d.InputSize()
	rep.ModelInput = fmt.Sprintf("%dx%d", w, h)
	tensors := make([][]float32, len(frames))
	start := time.Now()
	for i, f := range frames {
		tensors[i] = d.NewInput()
		if err := d.Prepare(tensors[i], f); err != nil {
			return err
		}
	}
	rep.PrepareMS = msSince(start, len(frames))
	if _, err := d.Infer(tensors[0], info.Width, info.Height); err != nil { // warm-up
		return err
	}
	start = time.Now()
	for i := 0; i < rep.Frames; i++ {
		if _, err := d.Infer(tensors[i%len(tensors)], info.Width, info.Height); err != nil {
			return err
		}
	}
	rep.DetectorMS = msSince(start, rep.Frames)
	rep.DetectorFPS = 1000 / rep.DetectorMS
	return nil
}

func (b *benchCmd) fullPipeline(ctx context.Context, info decode.Info, rep *benchReport) error {
	fps, cpu, _, err := b.runPipeline(ctx, info, nil)
	if err != nil {
		return err
	}
	rep.PipelineFPS, rep.PipelineCPU = fps, cpu
	if !b.Describe {
		return nil
	}
	emb, err := reid.New(reid.Config{Model: b.reidFlags.modelPath(), Library: b.libPath(), Threads: 1})
	if err != nil {
		return fmt.Errorf("--describe: %w", err)
	}
	defer emb.Close()
	fps, cpu, tracks, err := b.runPipeline(ctx, info, &attrs.Config{Embedder: emb})
	if err != nil {
		return err
	}
	rep.Described = &describedRun{FPS: fps, CPU: cpu, AddedCPU: (cpu - rep.PipelineCPU) / rep.PipelineCPU, Tracks: tracks, Embeddings: true}
	return nil
}

// runPipeline runs decode, detector and chain over the input once and
// returns its fps, the CPU time it took and how many tracks it described.
func (b *benchCmd) runPipeline(ctx context.Context, info decode.Info, describe *attrs.Config) (fps, cpu float64, described int, err error) {
	src, err := b.open(ctx)
	if err != nil {
		return 0, 0, 0, err
	}
	d, err := b.modelFlags.open(info.Width, info.Height)
	if err != nil {
		return 0, 0, 0, err
	}
	defer d.Close()
	chain, err := analysis.New(analysis.Config{Track: track.DefaultConfig(info.FPS), Attributes: describe})
	if err != nil {
		return 0, 0, 0, err
	}
	count := &describedCount{}
	p := pipeline.New(src, pipeline.NewModelDetector(d, 4), chain, []pipeline.Sink{count})
	start, cpu0 := time.Now(), cpuSeconds()
	if err := p.Run(ctx); err != nil {
		return 0, 0, 0, err
	}
	return float64(p.Stats.Frames.Load()) / time.Since(start).Seconds(), cpuSeconds() - cpu0, count.n, nil
}

// describedCount counts the described track summaries a run makes.
type describedCount struct{ n int }

func (c *describedCount) Write(r *pipeline.Result) error {
	for _, s := range r.Summaries {
		if s.Appearance != nil {
			c.n++
		}
	}
	return nil
}

func (c *describedCount) End(r *pipeline.Result) error { return c.Write(r) }
func (c *describedCount) Close() error                 { return nil }

// describedRun is the full pipeline with tracks described (--describe).
type describedRun struct {
	FPS        float64 `json:"fps"`
	CPU        float64 `json:"cpu_seconds"`
	AddedCPU   float64 `json:"added_cpu_fraction"` // (CPU − plain CPU) / plain CPU
	Tracks     int     `json:"tracks_described"`
	Embeddings bool    `json:"embeddings"`
}

// cpuSeconds is the user and system time of this process and of its
// children that have ended (the decoder's ffmpeg, once waited for).
func cpuSeconds() float64 {
	var total float64
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if syscall.Getrusage(who, &ru) == nil {
			total += time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
		}
	}
	return total
}

// trackerMS times tracker updates on a synthetic scene of n objects.
func trackerMS(n int) float64 {
	s := track.NewSynthetic(n)
	tr, err := track.New(track.DefaultConfig(30))
	if err != nil {
		return 0
	}
	const frames = 600
	batches := make([][]detect.Detection, frames)
	for i := range batches {
		batches[i] = append([]detect.Detection(nil), s.Frame(i)...)
	}
	start := time.Now()
	for _, dets := range batches {
		tr.Update(dets)
	}
	return msSince(start, frames)
}

func msSince(start time.Time, n int) float64 {
	return float64(time.Since(start).Microseconds()) / 1000 / float64(max(n, 1))
}

// peakRSSMiB reads the process's high-water resident memory (Linux).
func peakRSSMiB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

func (r benchReport) write(e *env) error {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "input\t%s (%d frames, %d CPUs, %d inference threads, model input %s)\n", r.Input, r.Frames, r.CPUs, r.Threads, r.ModelInput)
	fmt.Fprintf(tw, "decode only\t%.1f fps\n", r.DecodeFPS)
	fmt.Fprintf(tw, "letterbox (prepare)\t%.2f ms/frame\n", r.PrepareMS)
	fmt.Fprintf(tw, "detector only\t%.1f fps (%.1f ms/frame)\n", r.DetectorFPS, r.DetectorMS)
	fmt.Fprintf(tw, "full pipeline\t%.1f fps (%.2f of detector-only), %.1f s CPU\n", r.PipelineFPS, r.PipelineRatio, r.PipelineCPU)
	if d := r.Described; d != nil {
		fmt.Fprintf(tw, "describing tracks\t%.1f fps, %.1f s CPU: %+.1f %% CPU (%d tracks described, embeddings %v)\n", d.FPS, d.CPU, 100*d.AddedCPU, d.Tracks, d.Embeddings)
	}
	for _, n := range []string{"10", "50", "200"} {
		fmt.Fprintf(tw, "tracker, %s objects\t%.3f ms/frame\n", n, r.TrackerMSByCount[n])
	}
	fmt.Fprintf(tw, "peak RSS\t%.0f MiB\n", r.PeakRSSMiB)
	return tw.Flush()
}
