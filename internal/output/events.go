package output

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/vigil-cctv/vigil/internal/baseline"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/pipeline"
	"github.com/vigil-cctv/vigil/internal/rules"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/snapshot"
)

// Events applies a scene's rules to each frame's tracks and writes the
// alerts as JSON lines, with a snapshot and crop per alert when frames
// carry pixels and a snapshot directory is set.
type Events struct {
	engine    *rules.Engine
	base      *baseline.Model
	scene     *scene.Scene
	out       *event.Writer
	snaps     *snapshot.Writer
	countsTo  string
	log       *slog.Logger
	last      time.Duration
	Raised    int
	ByRule    map[string]int
	Snapshots int
}

// EventsConfig configures an Events sink.
type EventsConfig struct {
	Scene     *scene.Scene
	Rules     rules.Options
	Path      string // JSON-lines file for alerts
	Snapshots string // directory for alert images ("" for none)
	Counts    string // JSON file for line-crossing counters ("" for none)
	Log       *slog.Logger
	// Baseline, when set, also raises the learned baseline's anomaly
	// alerts, and keeps learning from the tracks.
	Baseline *baseline.Model
}

// NewEvents builds the rule engine and opens the events file.
func NewEvents(cfg EventsConfig) (*Events, error) {
	eng, err := rules.New(cfg.Scene, cfg.Rules)
	if err != nil {
		return nil, err
	}
	out, err := event.Create(cfg.Path)
	if err != nil {
		return nil, err
	}
	ev := &Events{engine: eng, base: cfg.Baseline, scene: cfg.Scene, out: out, countsTo: cfg.Counts, log: cfg.Log, ByRule: map[string]int{}}
	if cfg.Snapshots != "" {
		ev.snaps = &snapshot.Writer{Dir: cfg.Snapshots}
	}
	if ev.log == nil {
		ev.log = slog.New(slog.DiscardHandler)
	}
	return ev, nil
}

// Write runs the rules on one frame and records what they raise.
func (s *Events) Write(r *pipeline.Result) error {
	s.last = r.Frame.PTS
	evs := s.engine.Update(r.Frame.PTS, r.Tracks)
	if s.base != nil {
		evs = append(evs, s.base.Update(r.Frame.PTS, r.Frame.Width, r.Frame.Height, r.Tracks)...)
	}
	for _, ev := range evs {
		if ev.Camera == "" {
			ev.Camera = s.scene.Camera
		}
		if err := s.record(&ev, r); err != nil {
			return err
		}
	}
	return nil
}

func (s *Events) record(ev *event.Event, r *pipeline.Result) error {
	if s.snaps != nil && r != nil && r.Frame.Pix != nil {
		full, crop, err := s.snaps.Write(ev, r.Frame, r.Tracks, s.scene)
		if err != nil {
			// A lost picture must not lose the alert itself.
			s.log.Warn("alert snapshot failed", "rule", ev.Name, "err", err)
		} else {
			ev.Snapshot, ev.Crop = full, crop
			s.Snapshots++
		}
	}
	s.Raised++
	s.ByRule[ev.Rule]++
	s.log.Info("alert", "rule", ev.Name, "camera", ev.Camera, "tracks", ev.Tracks, "start", ev.Start, "explanation", ev.Explanation)
	if err := s.out.Write(*ev); err != nil {
		return fmt.Errorf("events output: %w", err)
	}
	return nil
}

// Close raises what is pending at the end of the stream, writes the
// counters and closes the file.
func (s *Events) Close() error {
	var errs []error
	for _, ev := range s.engine.Close(s.last) {
		errs = append(errs, s.record(&ev, nil))
	}
	if s.base != nil {
		s.base.Close(s.last)
	}
	if s.countsTo != "" {
		errs = append(errs, writeCounts(s.countsTo, s.engine.Counts()))
	}
	errs = append(errs, s.out.Close())
	return errors.Join(errs...)
}

// countRecord is the JSON form of one line-crossing counter bucket.
type countRecord struct {
	Rule      string  `json:"rule"`
	Line      string  `json:"line"`
	Class     string  `json:"class"`
	Direction string  `json:"direction"`
	Start     float64 `json:"start"`
	Bucket    float64 `json:"bucket_s"`
	N         int     `json:"n"`
}

func writeCounts(path string, counts []rules.Count) error {
	recs := make([]countRecord, len(counts))
	for i, c := range counts {
		recs[i] = countRecord{Rule: c.Rule, Line: c.Line, Class: c.Class, Direction: c.Direction,
			Start: c.Start.Seconds(), Bucket: c.Bucket.Seconds(), N: c.N}
	}
	data, err := json.MarshalIndent(recs, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("counts output: %w", err)
	}
	return nil
}
