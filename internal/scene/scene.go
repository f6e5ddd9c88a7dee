// Package scene reads and validates a camera's scene file: the YAML that
// names the zones, tripwires and lanes drawn on one camera's image, its
// ground-plane calibration, time schedules, and the rules that turn tracks
// into alerts. Validation is strict and complete: every problem is reported
// at once with file:line:column and the field path, because a scene file is
// edited by hand and a rule engine fed a half-valid scene fails silently.
//
// Coordinates in the file are image pixels of the camera's native frame;
// calibration adds a homography to ground-plane metres, from which the
// package derives zone areas and lane directions on the ground.
package scene

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"
	// Schedules name IANA time zones; embedding the database keeps them
	// loadable on minimal camera-side images that ship no zoneinfo.
	_ "time/tzdata"

	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/geom"
)

// Version is the only scene file format version this package reads.
const Version = 1

// Scene is one camera's validated scene.
type Scene struct {
	File    string // the name given to Parse, used in error messages
	Version int
	Camera  string
	Image   Size

	// Calibration is nil when the file has none; Homography is then nil too
	// and every ground-plane quantity is unavailable.
	Calibration *Calibration
	Homography  *geom.Homography // image pixels → ground metres

	Zones     []*Zone
	Lines     []*Line
	Lanes     []*Lane
	Schedules []*Schedule
	Rules     []*Rule
}

// Size is the camera frame size in pixels.
type Size struct{ Width, Height int }

// Calibration is the ground-plane calibration as written and as fitted.
type Calibration struct {
	// Pairs are the correspondences the homography was fitted to; a
	// rectangle calibration is expanded to its four corners.
	Pairs     []Pair
	Rectangle *Rectangle // nil for pair calibrations

	H geom.Homography
	// RMSError and MaxError are the reprojection errors of Pairs through H,
	// in metres. With exactly four pairs the fit is exact and both are ~0,
	// so they only say something with five or more pairs.
	RMSError, MaxError float64
	// MaxErrorLimit is max_error_m from the file, 0 when not set.
	MaxErrorLimit float64
}

// Pair is one image point with its known ground position in metres.
type Pair struct{ Image, Ground geom.Point }

// Rectangle is a ground rectangle of known size seen in the image, for
// sites where nobody surveyed coordinates but a lane width and a marking
// length are known. Image lists the corners in order around the rectangle;
// the edge Image[0]→Image[1] is WidthM long and Image[1]→Image[2] is
// LengthM long. The ground frame has its origin at Image[0], X along the
// first edge and Y along the second.
type Rectangle struct {
	Image           [4]geom.Point
	WidthM, LengthM float64
}

// pairs expands the rectangle into its four corner correspondences.
func (r *Rectangle) pairs() []Pair {
	g := [4]geom.Point{{X: 0, Y: 0}, {X: r.WidthM, Y: 0}, {X: r.WidthM, Y: r.LengthM}, {X: 0, Y: r.LengthM}}
	out := make([]Pair, 4)
	for i := range out {
		out[i] = Pair{Image: r.Image[i], Ground: g[i]}
	}
	return out
}

// ZoneType says what a zone is, which decides which rules may use it.
type ZoneType string

// Zone types.
const (
	Carriageway ZoneType = "carriageway" // road surface for vehicles (lanes live here)
	Crosswalk   ZoneType = "crosswalk"
	Sidewalk    ZoneType = "sidewalk"
	Restricted  ZoneType = "restricted"
	Parking     ZoneType = "parking"
	Custom      ZoneType = "custom"
)

var zoneTypes = []string{"carriageway", "crosswalk", "sidewalk", "restricted", "parking", "custom"}

// Zone is a named polygon on the image.
type Zone struct {
	Name    string
	Type    ZoneType
	Polygon geom.Polygon // image pixels
	// Ground is the polygon on the ground plane in metres and AreaM2 its
	// area; nil and 0 when the scene is uncalibrated or part of the zone
	// lies at or beyond the horizon (where ground positions do not exist).
	Ground geom.Polygon
	AreaM2 float64
}

// Contains reports whether the image point p is in the zone (edges count).
func (z *Zone) Contains(p geom.Point) bool { return z.Polygon.Contains(p) }

// LineSide names a side of a directed line as seen on screen.
type LineSide string

// Sides of a line, as seen on screen standing at the first point and facing
// the second.
const (
	Left  LineSide = "left"
	Right LineSide = "right"
)

// Line is a tripwire from A to B on the image. In is the side that counts
// as "in": a track crossing from the other side to this one crosses in.
type Line struct {
	Name string
	A, B geom.Point
	In   LineSide
}

// Side is +1 when p is on the line's "in" side, −1 on the "out" side and 0
// on the line itself. Image y grows downwards, so screen-left of A→B is a
// negative geom.Side.
func (l *Line) Side(p geom.Point) int {
	s := geom.Side(l.A, l.B, p)
	if l.In == Left {
		s = -s
	}
	switch {
	case s > 0:
		return 1
	case s < 0:
		return -1
	}
	return 0
}

// Crossing reports a move from one image point to the next across the line
// segment: +1 for out→in, −1 for in→out, 0 when the move does not cross
// (touching the line without passing it is not a crossing).
func (l *Line) Crossing(from, to geom.Point) int {
	sf, st := l.Side(from), l.Side(to)
	if sf == st || sf == 0 || st == 0 {
		return 0
	}
	if _, ok := geom.SegmentsIntersect(l.A, l.B, from, to); !ok {
		return 0
	}
	return st
}

// Lane is the allowed direction of travel within a carriageway zone.
type Lane struct {
	Name string
	Zone *Zone
	// Arrow is the direction as drawn: from Arrow[0] towards Arrow[1].
	Arrow [2]geom.Point
	// ImageDir is the unit arrow direction in the image.
	ImageDir geom.Point
	// GroundDir is the unit direction on the ground plane, the one wrong-way
	// detection should compare ground velocities with; zero when the scene
	// is uncalibrated (HasGround is then false).
	GroundDir geom.Point
	HasGround bool
}

// Severity ranks an alert; it is the alert record's own type, so a rule's
// severity reaches its alerts unchanged.
type Severity = event.Severity

// Severities, lowest first.
const (
	Info     = event.Info
	Low      = event.Low
	Medium   = event.Medium
	High     = event.High
	Critical = event.Critical
)

var severities = []string{"info", "low", "medium", "high", "critical"}

// RuleType is what a rule detects.
type RuleType string

// Rule types.
const (
	WrongWay                RuleType = "wrong_way"
	Jaywalking              RuleType = "jaywalking"
	VehicleInPedestrianZone RuleType = "vehicle_in_pedestrian_zone"
	Intrusion               RuleType = "intrusion"
	Loitering               RuleType = "loitering"
	StoppedVehicle          RuleType = "stopped_vehicle"
	Crowd                   RuleType = "crowd"
	Dispersal               RuleType = "dispersal"
	Speeding                RuleType = "speeding"
	LineCrossing            RuleType = "line_crossing"
)

// Rule is one validated rule. Exactly one of Zone, Line and Lane is set,
// as the rule type requires; parameters not used by the type are zero.
// Defaults are already filled in (see the package's rule table).
type Rule struct {
	Name     string // unique; defaults to "<type>-<zone|line|lane name>"
	Type     RuleType
	Zone     *Zone
	Line     *Line
	Lane     *Lane
	Schedule *Schedule // nil: always active

	Classes  []string        // as written, e.g. ["person", "vehicle"]
	ClassSet detect.ClassSet // Classes resolved; aliases expanded
	Severity Severity
	Cooldown time.Duration // minimum time between two alerts of this rule

	MinDwell        time.Duration // loitering, stopped_vehicle; optional elsewhere
	MinDistanceM    float64       // wrong_way (default 8), jaywalking (optional)
	SpeedLimitKmh   float64       // speeding
	Smoothing       time.Duration // speeding: speed averaging window, ≥ 1 s
	MaxCount        int           // crowd: alert above this many tracks
	MaxDensityPerM2 float64       // crowd: alert above this many per m²
	MinTracks       int           // dispersal
	MinSpeedMS      float64       // dispersal: m/s
	Window          time.Duration // dispersal: time to reach MinSpeedMS
	Bucket          time.Duration // line_crossing: count interval
}

// Active reports whether the rule applies at t (its schedule, if any).
func (r *Rule) Active(t time.Time) bool { return r.Schedule == nil || r.Schedule.Active(t) }

// Load reads and parses a scene file.
func Load(path string) (*Scene, error) {
	return LoadContext(context.Background(), path)
}

// LoadContext is Load with validation bounded by ctx (see ParseContext).
// A file larger than MaxBytes is refused without reading all of it.
func LoadContext(ctx context.Context, path string) (*Scene, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("scene: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("scene: %w", err)
	}
	return ParseContext(ctx, data, path)
}

// ToGround maps an image point to ground metres. It returns false when the
// scene is uncalibrated or p is at or above the horizon: callers must not
// treat pixels as metres.
func (s *Scene) ToGround(p geom.Point) (geom.Point, bool) {
	if s.Homography == nil {
		return geom.Point{}, false
	}
	return s.Homography.Apply(p)
}

// ZoneAt lists the zones containing the image point p, in file order
// (zones may overlap, e.g. a crosswalk on a carriageway).
func (s *Scene) ZoneAt(p geom.Point) []*Zone {
	var out []*Zone
	for _, z := range s.Zones {
		if z.Contains(p) {
			out = append(out, z)
		}
	}
	return out
}

// Zone finds a zone by name.
func (s *Scene) Zone(name string) *Zone {
	return find(s.Zones, name, func(z *Zone) string { return z.Name })
}

// Line finds a line by name.
func (s *Scene) Line(name string) *Line {
	return find(s.Lines, name, func(l *Line) string { return l.Name })
}

// Lane finds a lane by name.
func (s *Scene) Lane(name string) *Lane {
	return find(s.Lanes, name, func(l *Lane) string { return l.Name })
}

// Schedule finds a schedule by name.
func (s *Scene) Schedule(name string) *Schedule {
	return find(s.Schedules, name, func(c *Schedule) string { return c.Name })
}

// Rule finds a rule by name.
func (s *Scene) Rule(name string) *Rule {
	return find(s.Rules, name, func(r *Rule) string { return r.Name })
}

func find[T any](xs []*T, name string, key func(*T) string) *T {
	for _, x := range xs {
		if key(x) == name {
			return x
		}
	}
	return nil
}
