// Package rules turns tracks into alerts: it evaluates a scene's rules
// (wrong way, jaywalking, vehicle in a pedestrian zone, intrusion,
// loitering, stopped vehicle, crowd, dispersal, speeding, line crossing)
// frame by frame and counts line crossings in time buckets.
//
// Every rule works on a track's foot point (bottom centre of its box),
// smoothed by a moving average over the last Options.Smoothing of frame
// time against box jitter, and projected to ground metres when the scene
// is calibrated. Time is always the frame's PTS, never the wall clock, so
// a replay gives the same alerts.
//
// Hysteresis everywhere: a condition starts an episode the first frame it
// holds, an alert needs the episode confirmed (≥ 2 observations and at
// least 0.2 s or the rule's own duration), and an episode only ends after
// the condition has been observed false for a hold time (1 s for zone
// presence), so a foot point flickering on a zone edge or a track missing
// for a few frames keeps one episode and raises one alert. Frames where a
// track is not seen count neither way. A track's state is forgotten when
// End reports the track ended: the tracker decides that once (its lost
// buffer), and every consumer follows the same report.
//
// Exact criteria, per rule type:
//
//   - vehicle_in_pedestrian_zone, intrusion, loitering: the smoothed foot
//     point is in the zone for max(min_dwell, 0.2 s) since the episode
//     began, with ≥ 2 observations; exits shorter than 1 s do not end the
//     episode.
//   - stopped_vehicle: in the carriageway zone with speed over the last
//     1 s below 0.5 m/s (uncalibrated: below max(3, 0.05·box height)
//     px/s) for min_dwell; moving for ≥ 1 s ends the episode.
//   - speeding: in the zone with ground speed, measured as displacement
//     over the last `smoothing` (≥ 1 s) of smoothed positions, above
//     speed_limit_kmh on every frame for at least `smoothing`.
//   - wrong_way: while in the lane's zone, a = ground position · lane
//     direction; the turn point is where a was highest so far. Alert when
//     maxA − a ≥ min_distance_m and the displacement from the turn point
//     has cosine < −0.5 with the lane direction. One alert per track id.
//   - jaywalking: an excursion is time on the carriageway outside every
//     crosswalk zone of the scene (exits < 1 s tolerated). Alert when,
//     within one excursion, the straight-line displacement from the entry
//     point reaches D and the person has been at least 1 m from the
//     zone's edge at some point, after max(min_dwell, 0.2 s). D is
//     min_distance_m when set, else 40% of the zone's chord from the entry
//     point along the direction of travel (at least 1 m). Someone standing
//     at the kerb moves little and stays < 1 m inside the edge, so never
//     alerts. Uncalibrated, metres are estimated from the person's box
//     height (1.7 m).
//   - crowd: count of allowed tracks in the zone > max_count, or count /
//     zone area > max_density_per_m2, held for max(min_dwell, 1 s); one
//     alert per episode; the episode ends after 2 s below the limit.
//   - dispersal: among allowed tracks in the zone, count those with speed
//     (over 0.5 s) ≥ min_speed_ms that were slower than that within the
//     last `window`, and whose velocity relative to the group's mean
//     velocity points away from the group's centroid (cosine > 0.5, at
//     least half of min_speed_ms). Alert when ≥ min_tracks such tracks; one
//     alert per episode. People walking or running in parallel have no
//     relative velocity and never count.
//   - line_crossing: the smoothed foot point changes side with the move
//     from its last off-line position intersecting the line segment (not
//     its extension), and stays on the new side for 0.3 s; going back
//     sooner cancels it. A side change that goes round an end of the line
//     is adopted silently. A pending crossing of a track that disappears
//     (e.g. an id switch) is confirmed when the track is forgotten, and the
//     new id starts on the new side, so the crossing counts once.
//
// Cooldowns apply per (rule, track) and, for crowd and dispersal, per rule.
// An alert is raised at most once per episode; a new episode needs the old
// one ended (the hysteresis above) and the cooldown passed.
//
// Schedules need a wall-clock instant: the engine evaluates them at
// Options.Epoch + PTS. With a zero Epoch every rule counts as always
// active, because a replay with no known start time cannot honour
// "20:00–06:00".
package rules
