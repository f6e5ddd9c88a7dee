package cli

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-cctv/vigil/internal/analysis"
	"github.com/vigil-cctv/vigil/internal/attrs"
	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/search"
	"github.com/vigil-cctv/vigil/internal/track"
)

// vehicleLabel is one hand-labelled vehicle: a point on it in one frame
// of one source, and what it is.
type vehicleLabel struct {
	Source  string
	ID      string
	Frame   int // 1-based
	X, Y    float64
	Types   []string // any of these is right (a van may be a car or a truck)
	Colours []string // most present first; any of these is right
}

func (l vehicleLabel) key() string { return l.Source + "/" + l.ID }

// vehicleReport is the accuracy of vehicle type and colour.
type vehicleReport struct {
	Vehicles      int      `json:"vehicles"`
	Found         int      `json:"found"` // a track covered the labelled point
	TypeCorrect   int      `json:"type_correct"`
	ColourCorrect int      `json:"colour_correct"`
	Type          float64  `json:"type_accuracy"`   // over all labelled vehicles; a missed one is wrong
	Colour        float64  `json:"colour_accuracy"` // likewise
	Wrong         []string `json:"wrong,omitempty"`
}

// vehicleSighting is what the chain made of one labelled vehicle.
type vehicleSighting struct {
	Found   bool
	Class   string
	Colours []string
}

// readVehicleLabels reads source,id,frame,x,y,type,colours[,note].
func readVehicleLabels(r io.Reader, name string) ([]vehicleLabel, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var out []vehicleLabel
	for i, rec := range recs {
		if i == 0 && rec[0] == "source" {
			continue
		}
		l, err := parseVehicleLabel(rec)
		if err != nil {
			return nil, fmt.Errorf("%s: record %d: %w", name, i+1, err)
		}
		out = append(out, l)
	}
	return out, nil
}

func parseVehicleLabel(rec []string) (vehicleLabel, error) {
	if len(rec) < 7 {
		return vehicleLabel{}, fmt.Errorf("want source,id,frame,x,y,type,colours, got %d fields", len(rec))
	}
	l := vehicleLabel{Source: rec[0], ID: rec[1], Types: strings.Split(rec[5], "|"), Colours: strings.Split(rec[6], "|")}
	var err error
	if l.Frame, err = strconv.Atoi(rec[2]); err != nil || l.Frame < 1 {
		return l, fmt.Errorf("frame %q: want a 1-based frame number", rec[2])
	}
	l.X, err = strconv.ParseFloat(rec[3], 64)
	if err == nil {
		l.Y, err = strconv.ParseFloat(rec[4], 64)
	}
	if err != nil {
		return l, fmt.Errorf("x,y %q,%q: %v", rec[3], rec[4], err)
	}
	for _, t := range l.Types {
		if c, ok := detect.ClassByName(t); !ok || !c.IsVehicle() {
			return l, fmt.Errorf("type %q is not a vehicle class", t)
		}
	}
	for _, c := range l.Colours {
		if !slices.Contains(search.Colours, c) {
			return l, fmt.Errorf("colour %q is not one of %s", c, strings.Join(search.Colours, ", "))
		}
	}
	return l, nil
}

// runVehicles describes the vehicles of every source the labels name and
// scores them.
func (c *evalAttributesCmd) runVehicles(e *env) error {
	f, err := os.Open(c.Vehicles)
	if err != nil {
		return err
	}
	labels, err := readVehicleLabels(f, c.Vehicles)
	f.Close()
	if err != nil {
		return err
	}
	got := map[string]vehicleSighting{}
	var sources []string
	for _, l := range labels {
		if !slices.Contains(sources, l.Source) {
			sources = append(sources, l.Source)
		}
	}
	for _, src := range sources {
		if err := c.sightVehicles(e, src, labels, got); err != nil {
			return fmt.Errorf("%s: %w", src, err)
		}
	}
	rep := scoreVehicles(labels, got)
	if c.JSON {
		return printJSON(e.stdout, rep)
	}
	fmt.Fprintf(e.stdout, "vehicles: %d labelled, %d found by a track; type %.2f (%d), colour %.2f (%d)\n",
		rep.Vehicles, rep.Found, rep.Type, rep.TypeCorrect, rep.Colour, rep.ColourCorrect)
	for _, w := range rep.Wrong {
		fmt.Fprintln(e.stdout, "  ", w)
	}
	return nil
}

// sightVehicles runs one source through the detector and the analysis
// chain (vehicle classes, attributes on) and finds, for each label of
// that source, the track whose box holds its point in its frame.
func (c *evalAttributesCmd) sightVehicles(e *env, source string, labels []vehicleLabel, got map[string]vehicleSighting) error {
	src, err := decode.Open(e.ctx, filepath.Join(c.Data, source), decode.Options{ImageFPS: 25})
	if err != nil {
		return err
	}
	det, err := c.modelFlags.open(src.Info.Width, src.Info.Height)
	if err != nil {
		return err
	}
	defer det.Close()
	classes, _ := detect.ParseClassSet("vehicle")
	chain, err := analysis.New(analysis.Config{Classes: classes, Track: track.DefaultConfig(src.Info.FPS), NoRules: true, Attributes: &attrs.Config{}})
	if err != nil {
		return err
	}
	byFrame := map[int][]*vehicleLabel{}
	for i := range labels {
		if labels[i].Source == source {
			byFrame[labels[i].Frame] = append(byFrame[labels[i].Frame], &labels[i])
		}
	}
	owner := map[string]int{} // label id → track id
	summaries := map[int]analysis.Summary{}
	frames, err := src.Start(e.ctx)
	if err != nil {
		return err
	}
	for f := range frames {
		ds, err := det.Detect(f)
		if err != nil {
			return err
		}
		out := chain.Step(f, ds)
		for _, l := range byFrame[f.Index+1] {
			if id, ok := trackAt(out.Tracks, l.X, l.Y); ok {
				owner[l.key()] = id
			}
		}
		keepSummaries(summaries, out.Summaries)
	}
	if err := src.Wait(); err != nil {
		return err
	}
	keepSummaries(summaries, chain.Close().Summaries)
	for _, l := range byFrame {
		for _, v := range l {
			got[v.key()] = sighting(owner, summaries, v.key())
		}
	}
	return nil
}

func keepSummaries(into map[int]analysis.Summary, sums []analysis.Summary) {
	for _, s := range sums {
		into[s.TrackID] = s
	}
}

func sighting(owner map[string]int, sums map[int]analysis.Summary, label string) vehicleSighting {
	id, ok := owner[label]
	if !ok {
		return vehicleSighting{}
	}
	s := sums[id]
	v := vehicleSighting{Found: true, Class: s.Class}
	if s.Appearance != nil {
		v.Colours = s.Appearance.Colours
	}
	return v
}

// trackAt is the track whose box holds (x, y), the one whose centre is
// nearest when boxes overlap there.
func trackAt(ts []track.Track, x, y float64) (int, bool) {
	best, bestD := 0, math.Inf(1)
	for _, t := range ts {
		b := t.Box
		if x < b.X || x > b.X2() || y < b.Y || y > b.Y2() {
			continue
		}
		c := b.Center()
		if d := math.Hypot(c.X-x, c.Y-y); d < bestD {
			best, bestD = t.ID, d
		}
	}
	return best, best != 0
}

func scoreVehicles(labels []vehicleLabel, got map[string]vehicleSighting) vehicleReport {
	var rep vehicleReport
	for _, l := range labels {
		rep.Vehicles++
		s := got[l.key()]
		if !s.Found {
			rep.Wrong = append(rep.Wrong, fmt.Sprintf("%s %s: no track at (%.0f,%.0f) in frame %d", l.Source, l.ID, l.X, l.Y, l.Frame))
			continue
		}
		rep.Found++
		if slices.Contains(l.Types, s.Class) {
			rep.TypeCorrect++
		} else {
			rep.Wrong = append(rep.Wrong, fmt.Sprintf("%s %s type: got %s, labelled %v", l.Source, l.ID, s.Class, l.Types))
		}
		if slices.Contains(l.Colours, first(s.Colours)) {
			rep.ColourCorrect++
		} else {
			rep.Wrong = append(rep.Wrong, fmt.Sprintf("%s %s colour: got %v, labelled %v", l.Source, l.ID, s.Colours, l.Colours))
		}
	}
	if rep.Vehicles > 0 {
		rep.Type = float64(rep.TypeCorrect) / float64(rep.Vehicles)
		rep.Colour = float64(rep.ColourCorrect) / float64(rep.Vehicles)
	}
	return rep
}
