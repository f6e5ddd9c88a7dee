package cli

import (
	"fmt"
	"math"
	"time"

	"github.com/vigil-cctv/vigil/internal/analysis"
	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/motion"
	"github.com/vigil-cctv/vigil/internal/output"
)

type evalMotionCmd struct {
	Input  string        `required:"" help:"Video or image directory of normal footage." type:"path"`
	Tracks string        `required:"" help:"Its tracks: JSON lines written by analyze --jsonl on the same input (every frame)." type:"existingfile"`
	Hours  float64       `help:"Loop the footage for this many hours of stream time." default:"1"`
	Warmup time.Duration `help:"Stream time the motion cue only learns." default:"5m"`
	JSON   bool          `name:"json" help:"Print the report as JSON."`
}

// motionReport is what looping normal footage through the motion cue gave.
type motionReport struct {
	Input      string   `json:"input"`
	Loops      int      `json:"loops"`
	Hours      float64  `json:"hours_counted"` // after warm-up
	Alerts     int      `json:"alerts"`
	PerHour    float64  `json:"alerts_per_hour"`
	MSPerFrame float64  `json:"ms_per_frame"` // the whole chain, motion cue included
	Examples   []string `json:"examples,omitempty"`
}

// Run loops the footage with its tracks through a chain that runs only
// the motion cue, as vigil serve does, and counts its alerts after the
// warm-up: on normal footage every one is a false alarm.
func (c *evalMotionCmd) Run(e *env) error {
	recs, err := output.ReadRecordsFile(c.Tracks)
	if err != nil {
		return err
	}
	rp, err := newReplayer(analysis.Config{Motion: &motion.ModelOptions{Warmup: c.Warmup}}, nil)
	if err != nil {
		return err
	}
	src, err := decode.Open(e.ctx, c.Input, decode.Options{})
	if err != nil {
		return err
	}
	span := time.Duration(float64(len(recs)) / src.Info.FPS * float64(time.Second))
	rep := motionReport{Input: c.Input, Loops: int(math.Ceil(c.Hours * float64(time.Hour) / float64(span)))}
	start, steps := time.Now(), 0
	for range rep.Loops {
		n, err := c.loop(e, rp, recs, &rep)
		if err != nil {
			return err
		}
		steps += n
		rp.offset += span
		rp.idBase += 1 << 20
	}
	rep.Hours = max(0, (rp.offset - c.Warmup).Hours())
	if rep.Hours > 0 {
		rep.PerHour = float64(rep.Alerts) / rep.Hours
	}
	rep.MSPerFrame = float64(time.Since(start).Milliseconds()) / float64(max(steps, 1))
	if c.JSON {
		return printJSON(e.stdout, rep)
	}
	fmt.Fprintf(e.stdout, "motion cue on %s: %d alerts in %.2f h after a %s warm-up (%.2f per camera-hour), %.1f ms/frame\n",
		c.Input, rep.Alerts, rep.Hours, c.Warmup, rep.PerHour, rep.MSPerFrame)
	for _, x := range rep.Examples {
		fmt.Fprintln(e.stdout, "  ", x)
	}
	return nil
}

// loop decodes the footage once more and steps it through the chain with
// its tracks.
func (c *evalMotionCmd) loop(e *env, rp *replayer, recs []output.Record, rep *motionReport) (int, error) {
	src, err := decode.Open(e.ctx, c.Input, decode.Options{})
	if err != nil {
		return 0, err
	}
	frames, err := src.Start(e.ctx)
	if err != nil {
		return 0, err
	}
	timeline := rp.addLoop(recs, recs[0].PTS, map[int]bool{})
	n := 0
	for f := range frames {
		if n < len(timeline) {
			f.Index, f.PTS = timeline[n].Index, timeline[n].PTS
			c.count(rp.chain.Step(f, nil), rep)
		}
		n++
	}
	if err := src.Wait(); err != nil {
		return n, err
	}
	if n != len(recs) {
		return n, fmt.Errorf("%s has %d frames but %s has %d records: give the tracks of every frame of this input", c.Input, n, c.Tracks, len(recs))
	}
	return n, nil
}

func (c *evalMotionCmd) count(out analysis.Output, rep *motionReport) {
	for _, ev := range out.Events {
		if out.Frame.PTS < c.Warmup {
			continue
		}
		rep.Alerts++
		if len(rep.Examples) < 5 {
			rep.Examples = append(rep.Examples, fmt.Sprintf("at %s: %s", out.Frame.PTS.Round(time.Second), ev.Explanation))
		}
	}
}
