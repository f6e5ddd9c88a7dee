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
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-cctv/vigil/internal/geom"
)

// Lanes of the highway, named by their side in the image. Vehicles come
// towards the camera, so the image-left lane (by the kerb and the trees) is
// the drivers' right-hand lane.
const (
	Left            = "left"
	Right           = "right"
	RightToLeft     = "right>left" // changes lanes while in view
	Towards         = "towards"    // down the image, towards the camera
	RowNear, RowFar = 160.0, 80.0  // the labelled rows (image y, pixels)
)

// Vehicle is one labelled vehicle. Frames are 1-based forward frame
// numbers; F80 and F160 are 0 when the vehicle does not reach the row
// before the sequence ends.
type Vehicle struct {
	ID          string
	Lane        string
	Direction   string
	First, Last int // first and last sampled frame with any part in view
	F80, F160   int // frames at which the box bottom crosses rows 80 and 160
	Note        string
}

// Expected reports whether the vehicle crosses both labelled rows while in
// view (80 px of road, well over 8 m): every such vehicle is one a
// direction rule must see.
func (v Vehicle) Expected() bool { return v.F80 > 0 && v.F160 > 0 }

// InLane reports whether image point (x, y) lies in the vehicle's lane.
func (v Vehicle) InLane(x, y float64) bool {
	side := LaneAt(x, y)
	return v.Lane == side || v.Lane == RightToLeft
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

// RowEnter is the row of the box bottom when a vehicle first shows at the
// top of the image (the far end of the road).
const RowEnter = 10.0

// keys are the labelled (frame, row) points of the box bottom.
func (v Vehicle) keys() [][2]float64 {
	k := [][2]float64{{float64(v.First), RowEnter}}
	if v.F80 > 0 && v.F80 > v.First {
		k = append(k, [2]float64{float64(v.F80), RowFar})
	}
	if v.F160 > 0 {
		k = append(k, [2]float64{float64(v.F160), RowNear})
	}
	return k
}

// RowAt estimates the row of the box bottom at frame f, piecewise linear
// through the labelled points and extended beyond the last by its segment
// (farSlope, rows per frame, for a vehicle seen only at the far end).
// Perspective makes vehicles speed up down the image, so the estimate can
// be tens of pixels off near the bottom: callers must allow for it.
func (v Vehicle) RowAt(f int, farSlope float64) float64 {
	k := v.keys()
	if len(k) == 1 {
		return RowEnter + farSlope*(float64(f)-k[0][0])
	}
	i := 1
	for i < len(k)-1 && float64(f) > k[i][0] {
		i++
	}
	a, b := k[i-1], k[i]
	return a[1] + (b[1]-a[1])/(b[0]-a[0])*(float64(f)-a[0])
}

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
// lane and direction, first ≤ f80 < f160 ≤ last, unique ids.
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
	v := Vehicle{ID: rec[0], Lane: rec[1], Direction: rec[2], Note: rec[7]}
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
	case v.Lane != Left && v.Lane != Right && v.Lane != RightToLeft:
		return v, fmt.Errorf("lane %q (want %s, %s or %s)", v.Lane, Left, Right, RightToLeft)
	case v.Direction != Towards:
		return v, fmt.Errorf("direction %q (want %s)", v.Direction, Towards)
	case v.F160 > 0 && v.F80 == 0:
		return v, fmt.Errorf("crosses row 160 without crossing row 80")
	case !ordered(v):
		return v, fmt.Errorf("frames out of order: first %d, f80 %d, f160 %d, last %d", v.First, v.F80, v.F160, v.Last)
	}
	return v, nil
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

// SpeedKMH is the vehicle's mean ground speed between the labelled rows:
// the ground distance between its lane's centre at row 80 and at row 160
// (h maps image pixels to metres, from the scene's calibration) over the
// frames between the crossings at fps. ok is false for a vehicle that does
// not cross both rows. It uses no tracker: a reference for measured speeds.
func (v Vehicle) SpeedKMH(h geom.Homography, fps float64) (kmh float64, ok bool) {
	if !v.Expected() || fps <= 0 {
		return 0, false
	}
	a, okA := h.Apply(laneCentre(v.laneAt(RowFar), RowFar))
	b, okB := h.Apply(laneCentre(v.laneAt(RowNear), RowNear))
	if !okA || !okB {
		return 0, false
	}
	seconds := float64(v.F160-v.F80) / fps
	return math.Hypot(b.X-a.X, b.Y-a.Y) / seconds * 3.6, true
}

// laneAt is the vehicle's lane at a labelled row; one changing lanes is in
// the right lane at row 80 and the left at row 160 (as v19 was), which is
// only an approximation for one (v28) that had already changed at row 80.
func (v Vehicle) laneAt(row float64) string {
	if v.Lane != RightToLeft {
		return v.Lane
	}
	if row < RowNear {
		return Right
	}
	return Left
}

// laneCentre is the image point half a lane from the centre line.
func laneCentre(lane string, row float64) geom.Point {
	half := laneWidth(row) / 2
	if lane == Left {
		half = -half
	}
	return geom.Point{X: CentreLineX(row) + half, Y: row}
}

// laneWidth is a lane's width in pixels at row y, from the calibration
// rectangle (3.5 m): 68 px at row 96, 124 px at row 216.
func laneWidth(y float64) float64 { return 68 + (124.0-68)*(y-96)/120 }
