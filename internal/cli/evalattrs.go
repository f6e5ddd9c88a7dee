package cli

import (
	"encoding/csv"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-cctv/vigil/internal/attrs"
	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/detect/onnx"
	"github.com/vigil-cctv/vigil/internal/motfile"
	"github.com/vigil-cctv/vigil/internal/search"
	"github.com/vigil-cctv/vigil/internal/track"
)

// evalAttributesCmd scores the attribute extractor against hand labels.
type evalAttributesCmd struct {
	Input  string `help:"Footage." default:"/usr/share/doc/opencv-doc/examples/data/vtest.avi"`
	GT     string `name:"gt" help:"MOTChallenge ground truth whose boxes are the tracks." default:"../shared/data/mot/PETS09-S2L1/gt.txt"`
	Labels string `help:"Hand labels (id,upper,lower,carried)." default:"testdata/attributes/pets09.csv"`
	Detect bool   `help:"Run the detector for carried objects (backpack, handbag, suitcase, umbrella) and score them."`
	// Vehicles switches to the vehicle set: the detector and tracker find
	// them (there is no vehicle ground truth to take boxes from).
	Vehicles string `help:"Score vehicle type and colour instead, against these hand labels (source,id,frame,x,y,type,colours), e.g. testdata/attributes/vehicles.csv; runs the detector and tracker over each source."`
	Data     string `help:"Folder the vehicle labels' sources are relative to." default:"../shared/data"`
	JSON     bool   `name:"json" help:"Print the report as JSON."`
	modelFlags
}

// attrLabel is one labelled identity.
type attrLabel struct {
	upper, lower, carried []string
}

// attrReport is the accuracy per attribute.
type attrReport struct {
	Identities   int               `json:"identities"`
	UpperCorrect int               `json:"upper_correct"`
	LowerCorrect int               `json:"lower_correct"`
	Upper        float64           `json:"upper_accuracy"`
	Lower        float64           `json:"lower_accuracy"`
	Carried      *carriedScore     `json:"carried,omitempty"`
	Wrong        []string          `json:"wrong,omitempty"`
	Predicted    map[int][2]string `json:"-"`
}

type carriedScore struct {
	TP, FP, FN int
	Precision  float64 `json:"precision"`
	Recall     float64 `json:"recall"`
}

func (c *evalAttributesCmd) Run(e *env) error {
	if c.Vehicles != "" {
		return c.runVehicles(e)
	}
	labels, err := readAttrLabels(c.Labels)
	if err != nil {
		return err
	}
	rows, err := motfile.ReadFile(c.GT)
	if err != nil {
		return err
	}
	byFrame := map[int][]motfile.Row{}
	for _, r := range rows {
		if r.Conf != 0 {
			byFrame[r.Frame] = append(byFrame[r.Frame], r)
		}
	}
	got, err := c.describe(e, byFrame)
	if err != nil {
		return err
	}
	rep := scoreAttributes(labels, got, c.Detect)
	if c.JSON {
		return printJSON(e.stdout, rep)
	}
	fmt.Fprintf(e.stdout, "attributes of %d identities: upper-body colour %.2f (%d), lower-body colour %.2f (%d)\n",
		rep.Identities, rep.Upper, rep.UpperCorrect, rep.Lower, rep.LowerCorrect)
	if cs := rep.Carried; cs != nil {
		fmt.Fprintf(e.stdout, "carried objects: precision %.2f recall %.2f (tp %d, fp %d, fn %d)\n", cs.Precision, cs.Recall, cs.TP, cs.FP, cs.FN)
	} else {
		fmt.Fprintln(e.stdout, "carried objects: not scored (run with --detect)")
	}
	for _, w := range rep.Wrong {
		fmt.Fprintln(e.stdout, "  ", w)
	}
	return nil
}

// describe runs the collector over the footage with the ground-truth
// boxes as tracks (and the detector's carried objects with --detect).
func (c *evalAttributesCmd) describe(e *env, byFrame map[int][]motfile.Row) (map[int]search.Appearance, error) {
	src, err := decode.Open(e.ctx, c.Input, decode.Options{})
	if err != nil {
		return nil, err
	}
	var det *onnx.Detector
	if c.Detect {
		if det, err = c.modelFlags.open(src.Info.Width, src.Info.Height); err != nil {
			return nil, err
		}
		defer det.Close()
	}
	frames, err := src.Start(e.ctx)
	if err != nil {
		return nil, err
	}
	col := attrs.New(attrs.Config{})
	seen := map[int]bool{}
	for f := range frames {
		var dets []detect.Detection
		var tracks []track.Track
		for _, r := range byFrame[f.Index+1] {
			tracks = append(tracks, track.Track{ID: r.ID, Class: detect.Person, Box: r.Box, DetIndex: len(dets)})
			dets = append(dets, detect.Detection{Box: r.Box, Class: detect.Person, Score: 1})
			seen[r.ID] = true
		}
		if det != nil {
			ds, err := det.Detect(f)
			if err != nil {
				return nil, err
			}
			for _, d := range ds {
				if slices.Contains(search.Carried, d.Class.String()) {
					dets = append(dets, d)
				}
			}
		}
		col.Observe(f, tracks, dets)
	}
	if err := src.Wait(); err != nil {
		return nil, err
	}
	out := map[int]search.Appearance{}
	for id := range seen {
		if a, ok := col.End(id); ok {
			out[id] = a
		}
	}
	return out, nil
}

func scoreAttributes(labels map[int]attrLabel, got map[int]search.Appearance, carried bool) attrReport {
	rep := attrReport{}
	var cs carriedScore
	ids := slices.Sorted(func(yield func(int) bool) {
		for id := range labels {
			if !yield(id) {
				return
			}
		}
	})
	for _, id := range ids {
		l, a := labels[id], got[id]
		rep.Identities++
		up, lo := first(a.Upper), first(a.Lower)
		if slices.Contains(l.upper, up) {
			rep.UpperCorrect++
		} else {
			rep.Wrong = append(rep.Wrong, fmt.Sprintf("id %d upper: got %v, labelled %v", id, a.Upper, l.upper))
		}
		if slices.Contains(l.lower, lo) {
			rep.LowerCorrect++
		} else {
			rep.Wrong = append(rep.Wrong, fmt.Sprintf("id %d lower: got %v, labelled %v", id, a.Lower, l.lower))
		}
		for _, k := range search.Carried {
			has, want := slices.Contains(a.Carried, k), slices.Contains(l.carried, k)
			switch {
			case has && want:
				cs.TP++
			case has:
				cs.FP++
				rep.Wrong = append(rep.Wrong, fmt.Sprintf("id %d carried: got %s, not labelled", id, k))
			case want:
				cs.FN++
				rep.Wrong = append(rep.Wrong, fmt.Sprintf("id %d carried: %s missed", id, k))
			}
		}
	}
	if rep.Identities > 0 {
		rep.Upper = float64(rep.UpperCorrect) / float64(rep.Identities)
		rep.Lower = float64(rep.LowerCorrect) / float64(rep.Identities)
	}
	if carried {
		cs.Precision = float64(cs.TP) / float64(max(cs.TP+cs.FP, 1))
		cs.Recall = float64(cs.TP) / float64(max(cs.TP+cs.FN, 1))
		rep.Carried = &cs
	} else {
		rep.Wrong = slices.DeleteFunc(rep.Wrong, func(s string) bool { return strings.Contains(s, " carried: ") })
	}
	return rep
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func readAttrLabels(path string) (map[int]attrLabel, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comment = '#'
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := map[int]attrLabel{}
	split := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, "|")
	}
	for i, rec := range recs {
		if i == 0 && rec[0] == "id" {
			continue
		}
		if len(rec) < 4 {
			return nil, fmt.Errorf("%s: line %d: want id,upper,lower,carried", path, i+1)
		}
		id, err := strconv.Atoi(rec[0])
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: id %q", path, i+1, rec[0])
		}
		out[id] = attrLabel{upper: split(rec[1]), lower: split(rec[2]), carried: split(rec[3])}
	}
	return out, nil
}
