package output

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/pipeline"
	"github.com/vigil-cctv/vigil/internal/rules"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/snapshot"
)

// Events writes the events the analysis chain raised as JSON lines, with
// a snapshot and crop per event when frames carry pixels and a snapshot
// directory is set, and the line counts as JSON at the end.
type Events struct {
	scene     *scene.Scene
	out       *event.Writer
	snaps     *snapshot.Writer
	countsTo  string
	counts    map[rules.Count]int // by everything but N
	log       *slog.Logger
	Raised    int
	ByRule    map[string]int
	Snapshots int
}

// EventsConfig configures an Events sink.
type EventsConfig struct {
	Scene     *scene.Scene // drawn on snapshots (may be nil)
	Path      string       // JSON-lines file for events
	Snapshots string       // directory for event images ("" for none)
	Counts    string       // JSON file for line-crossing counters ("" for none)
	Log       *slog.Logger
}

// NewEvents opens the events file.
func NewEvents(cfg EventsConfig) (*Events, error) {
	out, err := event.Create(cfg.Path)
	if err != nil {
		return nil, err
	}
	ev := &Events{scene: cfg.Scene, out: out, countsTo: cfg.Counts, log: cfg.Log, ByRule: map[string]int{}, counts: map[rules.Count]int{}}
	if cfg.Snapshots != "" {
		ev.snaps = &snapshot.Writer{Dir: cfg.Snapshots}
	}
	if ev.log == nil {
		ev.log = slog.New(slog.DiscardHandler)
	}
	return ev, nil
}

// Write records the frame's events and counts.
func (s *Events) Write(r *pipeline.Result) error {
	return s.take(r, r.Frame != nil && r.Frame.Pix != nil)
}

// End records what the chain raised at the end of the stream (no frame
// to draw it on).
func (s *Events) End(r *pipeline.Result) error { return s.take(r, false) }

func (s *Events) take(r *pipeline.Result, pictures bool) error {
	for _, c := range r.Counts {
		n := c.N
		c.N = 0
		s.counts[c] += n
	}
	for _, ev := range r.Events {
		if err := s.record(&ev, r, pictures); err != nil {
			return err
		}
	}
	return nil
}

func (s *Events) record(ev *event.Event, r *pipeline.Result, pictures bool) error {
	if s.snaps != nil && pictures {
		files, err := s.snaps.Write(ev, r.Frame, r.Tracks, s.scene)
		if err != nil {
			// A lost picture must not lose the event itself.
			s.log.Warn("event snapshot failed", "rule", ev.Name, "err", err)
		} else {
			ev.Snapshot, ev.Crop = files.Snapshot, files.Crop
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

// Close writes the counters and closes the file.
func (s *Events) Close() error {
	var errs []error
	if s.countsTo != "" {
		errs = append(errs, writeCounts(s.countsTo, s.counts))
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

func writeCounts(path string, counts map[rules.Count]int) error {
	recs := make([]countRecord, 0, len(counts))
	for c, n := range counts {
		recs = append(recs, countRecord{Rule: c.Rule, Line: c.Line, Class: c.Class, Direction: c.Direction,
			Start: c.Start.Seconds(), Bucket: c.Bucket.Seconds(), N: n})
	}
	slices.SortFunc(recs, func(a, b countRecord) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Class, b.Class), cmp.Compare(a.Direction, b.Direction))
	})
	data, err := json.MarshalIndent(recs, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("counts output: %w", err)
	}
	return nil
}
