package scene

import (
	"fmt"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/vigil-cctv/vigil/internal/geom"
)

// The file* types mirror the file format for writing: Marshal is the
// inverse of Parse, for tools that edit scenes (a zone editor) and to test
// that nothing Parse accepts is lost. Points are written in flow style,
// [x, y], as people write them.
type (
	filePoint [2]float64
	fileScene struct {
		Version     int              `yaml:"version"`
		Camera      string           `yaml:"camera"`
		Image       fileImage        `yaml:"image,flow"`
		Calibration *fileCalibration `yaml:"calibration,omitempty"`
		Zones       []fileZone       `yaml:"zones,omitempty"`
		Lines       []fileLine       `yaml:"lines,omitempty"`
		Lanes       []fileLane       `yaml:"lanes,omitempty"`
		Schedules   []fileSchedule   `yaml:"schedules,omitempty"`
		Rules       []fileRule       `yaml:"rules,omitempty"`
	}
	fileImage struct {
		Width  int `yaml:"width"`
		Height int `yaml:"height"`
	}
	fileCalibration struct {
		Pairs     []filePair     `yaml:"pairs,omitempty"`
		Rectangle *fileRectangle `yaml:"rectangle,omitempty"`
		MaxError  float64        `yaml:"max_error_m,omitempty"`
	}
	filePair struct {
		Image  filePoint `yaml:"image,flow"`
		Ground filePoint `yaml:"ground,flow"`
	}
	fileRectangle struct {
		Image   []filePoint `yaml:"image,flow"`
		WidthM  float64     `yaml:"width_m"`
		LengthM float64     `yaml:"length_m"`
	}
	fileZone struct {
		Name    string      `yaml:"name"`
		Type    string      `yaml:"type"`
		Polygon []filePoint `yaml:"polygon,flow"`
	}
	fileLine struct {
		Name   string      `yaml:"name"`
		Points []filePoint `yaml:"points,flow"`
		In     string      `yaml:"in"`
	}
	fileLane struct {
		Name      string      `yaml:"name"`
		Zone      string      `yaml:"zone"`
		Direction []filePoint `yaml:"direction,flow"`
	}
	fileSchedule struct {
		Name     string       `yaml:"name"`
		Timezone string       `yaml:"timezone,omitempty"`
		Windows  []fileWindow `yaml:"windows"`
	}
	fileWindow struct {
		Days []string `yaml:"days,flow"`
		From string   `yaml:"from"`
		To   string   `yaml:"to"`
	}
	fileRule struct {
		Name            string   `yaml:"name"`
		Type            string   `yaml:"type"`
		Zone            string   `yaml:"zone,omitempty"`
		Line            string   `yaml:"line,omitempty"`
		Lane            string   `yaml:"lane,omitempty"`
		Schedule        string   `yaml:"schedule,omitempty"`
		Classes         []string `yaml:"classes,flow"`
		Severity        string   `yaml:"severity"`
		Cooldown        string   `yaml:"cooldown"`
		MinDwell        string   `yaml:"min_dwell,omitempty"`
		MinDistanceM    float64  `yaml:"min_distance_m,omitempty"`
		SpeedLimitKmh   float64  `yaml:"speed_limit_kmh,omitempty"`
		Smoothing       string   `yaml:"smoothing,omitempty"`
		MaxCount        int      `yaml:"max_count,omitempty"`
		MaxDensityPerM2 float64  `yaml:"max_density_per_m2,omitempty"`
		MinTracks       int      `yaml:"min_tracks,omitempty"`
		MinSpeedMS      float64  `yaml:"min_speed_ms,omitempty"`
		Window          string   `yaml:"window,omitempty"`
		Bucket          string   `yaml:"bucket,omitempty"`
	}
)

// Marshal writes a scene back as a scene file that Parse reads to an equal
// Scene. Rule defaults are written out explicitly.
func Marshal(s *Scene) ([]byte, error) {
	f := fileScene{Version: s.Version, Camera: s.Camera, Image: fileImage{s.Image.Width, s.Image.Height}}
	f.Calibration = marshalCalibration(s.Calibration)
	for _, z := range s.Zones {
		f.Zones = append(f.Zones, fileZone{z.Name, string(z.Type), pts(z.Polygon)})
	}
	for _, l := range s.Lines {
		f.Lines = append(f.Lines, fileLine{l.Name, pts([]geom.Point{l.A, l.B}), string(l.In)})
	}
	for _, l := range s.Lanes {
		f.Lanes = append(f.Lanes, fileLane{l.Name, l.Zone.Name, pts(l.Arrow[:])})
	}
	for _, c := range s.Schedules {
		f.Schedules = append(f.Schedules, marshalSchedule(c))
	}
	for _, r := range s.Rules {
		f.Rules = append(f.Rules, marshalRule(r))
	}
	return yaml.Marshal(f)
}

func pts(ps []geom.Point) []filePoint {
	out := make([]filePoint, len(ps))
	for i, p := range ps {
		out[i] = filePoint{p.X, p.Y}
	}
	return out
}

func marshalCalibration(c *Calibration) *fileCalibration {
	if c == nil {
		return nil
	}
	out := &fileCalibration{MaxError: c.MaxErrorLimit}
	if r := c.Rectangle; r != nil {
		out.Rectangle = &fileRectangle{pts(r.Image[:]), r.WidthM, r.LengthM}
		return out
	}
	for _, p := range c.Pairs {
		out.Pairs = append(out.Pairs, filePair{filePoint{p.Image.X, p.Image.Y}, filePoint{p.Ground.X, p.Ground.Y}})
	}
	return out
}

var weekdayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func marshalSchedule(c *Schedule) fileSchedule {
	out := fileSchedule{Name: c.Name}
	if c.Location != nil {
		out.Timezone = c.Location.String()
	}
	for _, w := range c.Windows {
		fw := fileWindow{From: clockString(w.From), To: clockString(w.To)}
		for d, on := range w.Days {
			if on {
				fw.Days = append(fw.Days, weekdayNames[d])
			}
		}
		out.Windows = append(out.Windows, fw)
	}
	return out
}

func clockString(d time.Duration) string {
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	if s != 0 {
		return fmt.Sprintf("%02d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%02d:%02d", h, m)
}

func marshalRule(r *Rule) fileRule {
	out := fileRule{
		Name: r.Name, Type: string(r.Type), Classes: r.Classes,
		Severity: string(r.Severity), Cooldown: r.Cooldown.String(),
		MinDistanceM: r.MinDistanceM, SpeedLimitKmh: r.SpeedLimitKmh,
		MaxCount: r.MaxCount, MaxDensityPerM2: r.MaxDensityPerM2,
		MinTracks: r.MinTracks, MinSpeedMS: r.MinSpeedMS,
		MinDwell: durString(r.MinDwell), Smoothing: durString(r.Smoothing),
		Window: durString(r.Window), Bucket: durString(r.Bucket),
	}
	switch {
	case r.Zone != nil:
		out.Zone = r.Zone.Name
	case r.Line != nil:
		out.Line = r.Line.Name
	case r.Lane != nil:
		out.Lane = r.Lane.Name
	}
	if r.Schedule != nil {
		out.Schedule = r.Schedule.Name
	}
	return out
}

// durString is "" for zero so that omitempty drops unused parameters.
func durString(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}
