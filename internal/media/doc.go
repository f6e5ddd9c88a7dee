// Package media keeps the video evidence behind alerts and bounds the disk it
// uses.
//
//   - Ring holds a camera's most recent frames (bounded by both time span and
//     bytes) so an alert clip can start a few seconds before the alert.
//   - Clipper turns an alert into a short MP4: the ring's pre-roll plus the
//     frames that follow until the post-roll is reached, encoded off the
//     camera's goroutine with a bounded number of concurrent encoders.
//   - Janitor applies retention to the media directory by age and total size.
//
// Frames are shared, not copied: once a frame is handed to Ring.Add or
// Clipper.Add it must never be modified, because a ring and any number of
// clips may hold the same *decode.Frame.
package media
