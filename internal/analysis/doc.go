// Package analysis is the one per-camera analysis chain of Vigil. Every
// way of analysing a camera — `vigil analyze` on a file, `vigil serve` on a
// live stream, `vigil eval anomaly` and any replay of stored tracks — feeds
// frames through the same Chain, so they raise the same alerts for the
// same input.
//
// A Chain holds, for one camera: the class filter, the tracker (or a
// replay of recorded tracks), the scene's rules, the learned baseline, the
// motion cue and the suppression check. Step takes one frame's time (and
// pixels, for the motion cue) with its detections and returns the tracks,
// the tracks that ended, the events raised (and those suppressed), the
// line counts and the summaries of ended tracks. Sinks — files, the store,
// the event stream, snapshots and clips — consume that output; the chain
// itself starts no goroutine, does no I/O and reads no wall clock, so a
// given input always gives the same output.
//
// Time is the frame's PTS. One camera clock maps it to wall time: Epoch +
// PTS, where the epoch is fixed (a recording's start, `--epoch`) or, for a
// live camera, taken once from the first frame's arrival (Received − PTS).
// Rule schedules, the baseline's hour-of-week buckets, suppression expiry
// and track summaries all read that one clock, and a scene reload keeps it.
//
// A track ends exactly once, when the tracker (track.Tracker, or
// track.Replay for recorded tracks) gives up on it after its lost buffer;
// the rules, the baseline and the summaries all end it on that report and
// keep no timer of their own.
package analysis
