package cli

import (
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"time"

	"github.com/vigil-cctv/vigil/internal/analysis"
	"github.com/vigil-cctv/vigil/internal/baseline"
	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/output"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/track"
)

type evalAnomalyCmd struct {
	Scene  string        `help:"Scene file of the camera (calibration and zones); without it the baseline uses an image grid." type:"existingfile"`
	Learn  string        `required:"" help:"Tracks of normal footage to learn from: JSON lines written by analyze --jsonl." type:"existingfile"`
	Hours  float64       `help:"Replay the learn tracks in a loop for this many hours of stream time." default:"1"`
	Score  []string      `help:"Tracks to score after learning, each played once (e.g. the same camera played in reverse)." type:"existingfile"`
	Warmup time.Duration `help:"Stream time observed before the first anomaly alert." default:"10m"`
	Budget float64       `help:"Target anomaly alerts per camera-hour." default:"2"`
	Load   string        `help:"Start from this saved baseline instead of an empty one." type:"existingfile"`
	Save   string        `help:"Write the learned baseline to this file." type:"path"`
	Events string        `help:"Write every anomaly alert as JSON lines to this file." type:"path"`
	JSON   bool          `name:"json" help:"Print the report as JSON."`
}

// anomalyPlay is what one replayed file raised.
type anomalyPlay struct {
	File     string         `json:"file"`
	Loops    int            `json:"loops"`
	Hours    float64        `json:"hours"`
	Tracks   int            `json:"tracks"`
	Alerts   int            `json:"alerts"`
	Alerted  []int          `json:"alerted_tracks"` // track ids of the first loop
	ByKind   map[string]int `json:"by_kind"`
	PerHour  float64        `json:"alerts_per_hour"`
	AfterFor float64        `json:"hours_counted"` // hours after warm-up the alerts were counted over
}

type anomalyReport struct {
	Learn anomalyPlay    `json:"learn"`
	Score []anomalyPlay  `json:"score"`
	State baseline.State `json:"state"`
}

func (c *evalAnomalyCmd) Run(e *env) error {
	var sc *scene.Scene
	if c.Scene != "" {
		var err error
		if sc, err = scene.Load(c.Scene); err != nil {
			return err
		}
	}
	bcfg := baseline.Config{Warmup: c.Warmup, BudgetPerHour: c.Budget}.Defaults()
	cfg := analysis.Config{Scene: sc, NoRules: true, Baseline: &bcfg}
	if c.Load != "" {
		b, err := os.ReadFile(c.Load)
		if err != nil {
			return err
		}
		cfg.SavedBaseline = b
	}
	var sink *event.Writer
	if c.Events != "" {
		var err error
		if sink, err = event.Create(c.Events); err != nil {
			return err
		}
		defer sink.Close()
	}
	rp, err := newReplayer(cfg, sink)
	if err != nil {
		return err
	}
	var rep anomalyReport
	if rep.Learn, err = rp.play(c.Learn, c.Hours, c.Warmup); err != nil {
		return err
	}
	for _, f := range c.Score {
		p, err := rp.play(f, 0, 0)
		if err != nil {
			return err
		}
		rep.Score = append(rep.Score, p)
	}
	if rep.State, err = rp.chain.BaselineState(); err != nil {
		return err
	}
	for _, n := range rp.notices {
		e.log.Warn(n)
	}
	if c.Save != "" {
		data, err := rp.chain.SaveBaseline(true)
		if err != nil {
			return err
		}
		if err := os.WriteFile(c.Save, data, 0o644); err != nil {
			return err
		}
	}
	if c.JSON {
		return printJSON(e.stdout, rep)
	}
	rep.writeTable(e.stdout)
	return nil
}

// replayer plays track files through one camera's analysis chain (the
// baseline alone, no scene rule), keeping stream time running from one
// file (and loop) to the next as a live camera would.
type replayer struct {
	chain   *analysis.Chain
	replay  *track.Replay
	sink    *event.Writer
	offset  time.Duration // stream time of the next file's first frame
	idBase  int           // added to track ids so loops never reuse one
	frame   int           // frames replayed so far: the next frame's index
	notices []string
}

func newReplayer(cfg analysis.Config, sink *event.Writer) (*replayer, error) {
	// The recorded tracks end as the live tracker would end them.
	rep := track.NewReplay(nil, track.DefaultConfig(10))
	cfg.Tracker = analysis.Recorded{R: rep}
	chain, err := analysis.New(cfg)
	if err != nil {
		return nil, err
	}
	return &replayer{chain: chain, replay: rep, sink: sink}, nil
}

// play replays file for hours of stream time (once when hours is 0) and
// counts the alerts raised after skip of stream time (the warm-up).
func (r *replayer) play(file string, hours float64, skip time.Duration) (anomalyPlay, error) {
	recs, err := output.ReadRecordsFile(file)
	if err != nil {
		return anomalyPlay{}, err
	}
	if len(recs) < 2 {
		return anomalyPlay{}, fmt.Errorf("%s: need at least two frames of tracks", file)
	}
	first, last := recs[0].PTS, recs[len(recs)-1].PTS
	step := (last - first) / float64(len(recs)-1)
	span := time.Duration((last - first + step) * float64(time.Second))
	loops := 1
	if hours > 0 {
		loops = int(math.Ceil(hours * float64(time.Hour) / float64(span)))
	}
	p := anomalyPlay{File: file, Loops: loops, ByKind: map[string]int{}}
	start := r.offset
	ids := map[int]bool{}
	alerted := map[int]bool{}
	for range loops {
		frames := r.addLoop(recs, first, ids)
		for _, f := range frames {
			out := r.chain.Step(f, nil)
			if err := r.record(&p, out, f.PTS-start >= skip, alerted); err != nil {
				return p, err
			}
		}
		r.offset += span
		r.idBase += 1 << 20
	}
	if err := r.record(&p, r.chain.Close(), true, alerted); err != nil {
		return p, err
	}
	p.Tracks = len(ids)
	p.Hours = (r.offset - start).Hours()
	p.AfterFor = max(0, (r.offset - start - skip).Hours())
	if p.AfterFor > 0 {
		p.PerHour = float64(p.Alerts) / p.AfterFor
	}
	for id := range alerted {
		p.Alerted = append(p.Alerted, id)
	}
	sort.Ints(p.Alerted)
	return p, nil
}

// addLoop hands one loop of the recording to the replay, with ids and
// time shifted past the previous loop, and returns its frames.
func (r *replayer) addLoop(recs []output.Record, first float64, ids map[int]bool) []*decode.Frame {
	frames := make([]*decode.Frame, len(recs))
	for i, rec := range recs {
		tracks := rec.TrackList()
		for j := range tracks {
			ids[tracks[j].ID] = true
			tracks[j].ID += r.idBase
		}
		r.replay.Add(r.frame, tracks)
		frames[i] = &decode.Frame{Index: r.frame, PTS: r.offset + time.Duration((rec.PTS-first)*float64(time.Second))}
		r.frame++
	}
	return frames
}

func (r *replayer) record(p *anomalyPlay, out analysis.Output, counted bool, alerted map[int]bool) error {
	r.notices = append(r.notices, out.Notices...)
	for _, ev := range out.Events {
		if r.sink != nil {
			if err := r.sink.Write(ev); err != nil {
				return err
			}
		}
		if !counted {
			continue
		}
		p.Alerts++
		p.ByKind[ev.Name]++
		for _, id := range ev.Tracks {
			alerted[id%(1<<20)] = true
		}
	}
	return nil
}

func (rep anomalyReport) writeTable(w io.Writer) {
	l := rep.Learn
	fmt.Fprintf(w, "learn  %s: %d tracks, %d loops, %.2f h of stream time\n", l.File, l.Tracks, l.Loops, l.Hours)
	fmt.Fprintf(w, "       after warm-up: %d anomaly alerts in %.2f h = %.2f per camera-hour %v\n", l.Alerts, l.AfterFor, l.PerHour, l.ByKind)
	for _, s := range rep.Score {
		fmt.Fprintf(w, "score  %s: %d tracks, %d anomaly alerts on %d tracks %v\n", s.File, s.Tracks, s.Alerts, len(s.Alerted), s.ByKind)
	}
}

func loadBaseline(m *baseline.Model, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := m.UnmarshalBinary(b); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
