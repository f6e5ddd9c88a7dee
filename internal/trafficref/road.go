package trafficref

import (
	"math"

	"github.com/vigil-cctv/vigil/internal/geom"
)

// Road measures positions along the carriageway in metres, through the
// scene's calibration (image pixels to ground metres; the highway scene's
// ground y runs along the road, away from the camera).
type Road struct {
	H geom.Homography
}

// Dist is how far along the road image point p lies, in metres; NaN where
// the calibration cannot place it (above the horizon).
func (r Road) Dist(p geom.Point) float64 {
	g, ok := r.H.Apply(p)
	if !ok {
		return math.NaN()
	}
	return g.Y
}

// rowDist is the distance along the road of a lane's centre at row y.
func (r Road) rowDist(lane string, y float64) float64 {
	half := LaneWidth(y) / 2
	if lane == Left {
		half = -half
	}
	return r.Dist(geom.Point{X: CentreLineX(y) + half, Y: y})
}

// metresPerFrame is the vehicle's speed between the labelled rows; ok is
// false unless it crosses both.
func (v Vehicle) metresPerFrame(r Road) (float64, bool) {
	if !v.Expected() {
		return 0, false
	}
	far := r.rowDist(v.LaneAtFrame(v.F80), RowFar)
	near := r.rowDist(v.LaneAtFrame(v.F160), RowNear)
	return (far - near) / float64(v.F160-v.F80), true
}

// SpeedKMH is the vehicle's mean ground speed between the labelled rows at
// fps; ok is false for a vehicle that does not cross both. It uses no
// tracker: a reference for measured speeds.
func (v Vehicle) SpeedKMH(r Road, fps float64) (kmh float64, ok bool) {
	mpf, ok := v.metresPerFrame(r)
	return mpf * fps * 3.6, ok && fps > 0
}

// DistAt estimates where the vehicle is along the road at frame f, at
// constant speed through its labelled crossings (speed, in metres per
// frame, for one that crosses row 80 only). ok is false for a vehicle never
// labelled at a row (seen only at the far end, where a pixel spans metres).
func (v Vehicle) DistAt(f int, r Road, speed float64) (float64, bool) {
	if mpf, ok := v.metresPerFrame(r); ok {
		speed = mpf
	}
	if v.F80 == 0 {
		return 0, false
	}
	return r.rowDist(v.LaneAtFrame(v.F80), RowFar) - speed*float64(f-v.F80), true
}
