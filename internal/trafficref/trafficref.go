// Package trafficref loads hand-labelled vehicle references for road
// footage and scores alerts against them, so that an acceptance test does
// not judge the analysis by the analysis's own criteria.
//
// The reference for the CDnet 2014 highway sequence
// (testdata/highway/vehicles.csv, made by eye as its README describes) lists
// every vehicle with its lane, its direction of travel and the frames at
// which the bottom of its box crosses image rows 80 and 160. Score matches
// wrong-way alerts from the sequence played forwards or in reverse to those
// vehicles by time, lane and position along the road: recall over the
// vehicles that cross both rows, alerts that match no vehicle, vehicles
// alerted twice.
package trafficref

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Lanes of the highway, named by their side in the image. Vehicles come
// towards the camera, so the image-left lane (by the kerb and the trees) is
// the drivers' right-hand lane.
const (
	Left    = "left"
	Right   = "right"
	Towards = "towards" // down the image, towards the camera
)

// The labelled rows (image y, pixels): 33.4 m of road apart on the highway.
const RowNear, RowFar = 160.0, 80.0

// changeSlack is how many frames either side of a labelled lane change a
// vehicle counts as in both lanes: it straddles the line for a while.
const changeSlack = 20

// Vehicle is one labelled vehicle. Frames are 1-based forward frame
// numbers; F80 and F160 are 0 when the vehicle does not reach the row
// before the sequence ends.
type Vehicle struct {
	ID          string
	Lane        string // lane at First
	NewLane     string // lane after ChangeAt, for a vehicle changing lanes in view
	ChangeAt    int
	Direction   string
	First, Last int // first and last sampled frame with any part in view
	F80, F160   int // frames at which the box bottom crosses rows 80 and 160
	Note        string
}

// Expected reports whether the vehicle crosses both labelled rows while in
// view (33 m of road): every such vehicle is one a direction rule must see.
func (v Vehicle) Expected() bool { return v.F80 > 0 && v.F160 > 0 }

// LaneAtFrame is the vehicle's lane at frame f.
func (v Vehicle) LaneAtFrame(f int) string {
	if v.NewLane != "" && f >= v.ChangeAt {
		return v.NewLane
	}
	return v.Lane
}

// InLane reports whether image point (x, y) at frame f lies in the
// vehicle's lane (either lane close to a lane change).
func (v Vehicle) InLane(x, y float64, f int) bool {
	side := LaneAt(x, y)
	if v.NewLane != "" && f >= v.ChangeAt-changeSlack && f <= v.ChangeAt+changeSlack {
		return side == v.Lane || side == v.NewLane
	}
	return side == v.LaneAtFrame(f)
}

// LaneAt says which lane image point (x, y) is in: left or right of the
// dashed centre line. The line is the left edge of the scene's calibration
// rectangle (scenes/cdnet-highway.yaml), which was drawn on the dashes:
// from (128, 216) to (195, 96).
func LaneAt(x, y float64) string {
	if x < CentreLineX(y) {
		return Left
	}
	return Right
}

// CentreLineX is the image x of the dashed centre line at row y.
func CentreLineX(y float64) float64 { return 128 + (195.0-128)/(216-96)*(216-y) }

// LaneWidth is a lane's width in pixels at row y, from the calibration
// rectangle (3.5 m): 68 px at row 96, 124 px at row 216.
func LaneWidth(y float64) float64 { return 68 + (124.0-68)*(y-96)/120 }

// Load reads a reference file (CSV with the header
// id,lane,direction,first,f80,f160,last,note; # starts a comment line).
func Load(path string) ([]Vehicle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	vs, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return vs, nil
}

var header = []string{"id", "lane", "direction", "first", "f80", "f160", "last", "note"}

// Read parses a reference and checks each vehicle is consistent: a known
// lane ("left", "right", or "right>left@FRAME" for a change at FRAME) and
// direction, first ≤ f80 < f160 ≤ last, unique ids.
func Read(r io.Reader) ([]Vehicle, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = len(header)
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 || !slices.Equal(recs[0], header) {
		return nil, fmt.Errorf("want header %s", strings.Join(header, ","))
	}
	var out []Vehicle
	seen := map[string]bool{}
	for i, rec := range recs[1:] {
		v, err := parseVehicle(rec)
		if err != nil {
			return nil, fmt.Errorf("vehicle %d (%s): %w", i+1, rec[0], err)
		}
		if seen[v.ID] {
			return nil, fmt.Errorf("vehicle %s listed twice", v.ID)
		}
		seen[v.ID] = true
		out = append(out, v)
	}
	return out, nil
}

func parseVehicle(rec []string) (Vehicle, error) {
	v := Vehicle{ID: rec[0], Direction: rec[2], Note: rec[7]}
	if err := v.parseLane(rec[1]); err != nil {
		return v, err
	}
	ints := []*int{&v.First, &v.F80, &v.F160, &v.Last}
	for k, s := range rec[3:7] {
		if s == "" && (k == 1 || k == 2) {
			continue // row not reached
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return v, fmt.Errorf("%s %q is not a frame number", header[3+k], s)
		}
		*ints[k] = n
	}
	switch {
	case v.ID == "":
		return v, fmt.Errorf("no id")
	case v.Direction != Towards:
		return v, fmt.Errorf("direction %q (want %s)", v.Direction, Towards)
	case v.F160 > 0 && v.F80 == 0:
		return v, fmt.Errorf("crosses row 160 without crossing row 80")
	case !ordered(v):
		return v, fmt.Errorf("frames out of order: first %d, f80 %d, f160 %d, last %d", v.First, v.F80, v.F160, v.Last)
	case v.NewLane != "" && (v.ChangeAt < v.First || v.ChangeAt > v.Last):
		return v, fmt.Errorf("lane change at frame %d, outside %d-%d", v.ChangeAt, v.First, v.Last)
	}
	return v, nil
}

func (v *Vehicle) parseLane(s string) error {
	lanes, at, changes := strings.Cut(s, "@")
	from, to, _ := strings.Cut(lanes, ">")
	for _, l := range []string{from, to} {
		if l != "" && l != Left && l != Right {
			return fmt.Errorf("lane %q (want %s, %s or FROM>TO@FRAME)", s, Left, Right)
		}
	}
	v.Lane = from
	switch {
	case from == "":
		return fmt.Errorf("no lane")
	case changes != (to != ""), to == from:
		return fmt.Errorf("lane %q: a change is written FROM>TO@FRAME", s)
	case changes:
		n, err := strconv.Atoi(at)
		if err != nil {
			return fmt.Errorf("lane %q: change frame %q", s, at)
		}
		v.NewLane, v.ChangeAt = to, n
	}
	return nil
}

// ordered checks first ≤ f80 < f160 ≤ last over the crossings present.
func ordered(v Vehicle) bool {
	seq := []int{v.First}
	for _, f := range []int{v.F80, v.F160} {
		if f > 0 {
			seq = append(seq, f)
		}
	}
	seq = append(seq, v.Last)
	return slices.IsSorted(seq) && (v.F160 == 0 || v.F80 < v.F160)
}
