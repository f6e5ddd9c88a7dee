package scene

import "github.com/vigil-cctv/vigil/internal/geom"

// NearRule reports whether the image point p (a track's foot point) is
// within radius pixels of an edge where a rule decides something at a
// moment: a counted or guarded line, or the boundary of a rule's zone
// of a zone whose rule turns on entering it (intrusion, jaywalking,
// loitering, a vehicle in a pedestrian zone, crowding). A tracker's
// prediction there could put the moment a frame early or late, or on the
// wrong side, so such tracks are detected rather than carried (package
// detplan). Lanes, speeding, stopped vehicles and dispersal are left out:
// they read the whole path or a dwell, which prediction keeps.
func (s *Scene) NearRule(p geom.Point, radius float64) bool {
	for _, r := range s.Rules {
		switch {
		case r.Line != nil && geom.SegmentDist(r.Line.A, r.Line.B, p) <= radius:
			return true
		case r.Zone != nil && entryRules[r.Type] && r.Zone.Polygon.EdgeDist(p) <= radius:
			return true
		}
	}
	return false
}

// entryRules decide at the moment a track enters their zone.
var entryRules = map[RuleType]bool{Intrusion: true, Jaywalking: true, Loitering: true,
	VehicleInPedestrianZone: true, Crowd: true}
