package cli

import (
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"time"

	"github.com/vigil-cctv/vigil/internal/baseline"
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
	m, err := baseline.New(baseline.Config{Warmup: c.Warmup, BudgetPerHour: c.Budget}.Defaults(), sc)
	if err != nil {
		return err
	}
	if c.Load != "" {
		if err := loadBaseline(m, c.Load); err != nil {
			return err
		}
	}
	var sink *event.Writer
	if c.Events != "" {
		if sink, err = event.Create(c.Events); err != nil {
			return err
		}
		defer sink.Close()
	}
	rp := &replayer{m: m, sink: sink, camera: cameraOf(sc)}
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
	rep.State = m.State()
	if c.Save != "" {
		if err := saveBaseline(m, c.Save); err != nil {
			return err
		}
	}
	if c.JSON {
		return printJSON(e.stdout, rep)
	}
	rep.writeTable(e.stdout)
	return nil
}

func cameraOf(sc *scene.Scene) string {
	if sc != nil {
		return sc.Camera
	}
	return ""
}

// replayer plays track files through one baseline, keeping stream time
// running from one file (and loop) to the next as a live camera would.
type replayer struct {
	m      *baseline.Model
	sink   *event.Writer
	camera string
	offset time.Duration // stream time of the next file's first frame
	idBase int           // added to track ids so loops never reuse one
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
	for loop := 0; loop < loops; loop++ {
		for _, rec := range recs {
			pts := r.offset + time.Duration((rec.PTS-first)*float64(time.Second))
			tracks := rec.TrackList()
			for i := range tracks {
				ids[tracks[i].ID] = true
				tracks[i].ID += r.idBase
			}
			for _, ev := range r.m.Update(pts, frameW(tracks), frameH(tracks), tracks) {
				if err := r.record(&p, ev, pts-start >= skip, alerted); err != nil {
					return p, err
				}
			}
		}
		r.offset += span
		r.idBase += 1 << 20
	}
	r.m.Close(r.offset)
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

func (r *replayer) record(p *anomalyPlay, ev event.Event, counted bool, alerted map[int]bool) error {
	ev.Camera = r.camera
	if r.sink != nil {
		if err := r.sink.Write(ev); err != nil {
			return err
		}
	}
	if !counted {
		return nil
	}
	p.Alerts++
	p.ByKind[ev.Name]++
	for _, id := range ev.Tracks {
		alerted[id%(1<<20)] = true
	}
	return nil
}

// frameW and frameH are not known from a tracks file; the scene's image
// size is used by the model when it has one, and 0 tells it so.
func frameW([]track.Track) int { return 0 }
func frameH([]track.Track) int { return 0 }

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

func saveBaseline(m *baseline.Model, path string) error {
	b, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
