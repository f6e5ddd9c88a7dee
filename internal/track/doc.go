// Package track follows detected objects from frame to frame and gives each
// one a stable id, using ByteTrack (Zhang et al., "ByteTrack: Multi-Object
// Tracking by Associating Every Detection Box", ECCV 2022).
//
// ByteTrack's point is that low-score detections are not noise to discard
// but mostly occluded or blurred true objects: it first matches confident
// detections to every live track, then offers the leftover tracks the
// low-score detections, so an occluded person keeps their id instead of
// being dropped and re-born. Motion is a constant-velocity Kalman filter in
// (centre x, centre y, aspect ratio, height) space and association is by
// box IoU, solved per independent cluster with the Hungarian solver in
// package assign so that crowded frames stay cheap.
//
// Vigil adds one rule to the paper: a detection only ever joins a track of
// the same class group (see detect.Class.Group), so a person never inherits
// a car's id, while a car briefly labelled truck keeps its own.
package track
