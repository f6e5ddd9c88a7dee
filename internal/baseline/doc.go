// Package baseline learns, per camera and online, what normal traffic looks
// like and flags tracks and frames that fall outside it. Every alert
// explains itself with numbers, and thresholds are calibrated to a target
// false-alarm budget.
//
// # Time
//
// Time inside the model is the frames' PTS, never the wall clock, so a
// replay gives identical answers. Model time advances by each frame's PTS
// step clamped to [0, 10 s], so stream gaps and restarts do not age what
// was learned; it is persisted. Hour-of-week buckets (Monday 00:00 is 0, in
// Config.Epoch's location) exist only when Config.Epoch is set.
//
// # What is learned
//
// Positions are smoothed foot points (0.5 s moving average, as in
// internal/rules) on a grid: ground cells of CellMetres when the scene is
// calibrated (points farther than 500 m or not finite are ignored), image
// cells of CellPixels otherwise. A track is sampled every 0.5 s of PTS. Per
// (cell, class, hour bucket), and per (cell, class) over all hours:
//
//   - tracks through the cell (one per track): the class mix of the place;
//   - heading, 16 bins of 22.5°, for samples moving faster than 0.3 m/s
//     (0.2 box heights/s uncalibrated), measured over the last 1 s;
//   - speed, 24 log-spaced bins from 0.1 m/s (box heights/s uncalibrated)
//     by ×1.3;
//   - box height, 32 log-spaced bins from 4 px by ×1.2;
//   - dwell: each track's total time in the cell, 24 log-spaced bins from
//     0.5 s by ×1.6.
//
// Per (zone, class, hour bucket), for every scene zone and the whole view:
// the object count, sampled every 0.5 s (bins 0..15, then four per
// doubling). The grid is sparse and bounded (50 000 cells, 120 000
// statistics, hour buckets giving way first).
//
// A track is learned when it ends (unseen for 2 s, or Close): its samples
// are added with weight 1 at the current model time, and every count
// decays with half-life HalfLife of model time. Occupancy samples are
// learned a minute at a time. Tracks that raised an alert, and occupancy
// samples of a zone while its alert is open, are quarantined instead (the
// 256 most recent units) until Feedback.
//
// # Surprise
//
// Surprise is −log10 of a smoothed probability of the observation at its
// place, with a Dirichlet pseudo-count of 1 sample:
//
//   - class: P(class | place) = (n_c + g_c)/(N + 1), where g_c is the
//     whole view's class mix, itself smoothed uniformly over the kept
//     classes, so a class never seen anywhere is rarer than one common
//     elsewhere;
//   - direction: P(heading bin), counts smoothed with a circular geometric
//     kernel (ratio 0.2 per bin) plus the pseudo-count spread uniformly;
//   - speed: the upper tail P(speed ≥ v); size: the two-sided tail
//     2·min(P(≤ h), P(≥ h)); dwell: the upper tail P(dwell ≥ d) of the
//     time so far; occupancy: the upper tail P(count ≥ n). These
//     histograms are smoothed with a geometric kernel (ratio 0.1 per bin,
//     0.3 for counts), so a value far beyond everything seen is much rarer
//     than one just beyond. The pseudo-count of speed, size and dwell is
//     spread by the class's whole-view histogram (itself smoothed the
//     same way towards uniform), so that a speed nobody of the class ever
//     reached anywhere is rarer than one merely new to this place; for
//     occupancy it is spread uniformly.
//
// Scoring backs off from the hour bucket to the all-hours aggregate to the
// 3×3 neighbourhood until it finds 20 effective samples (tracks, for class
// and dwell); with less evidence anywhere the feature is not scored. This
// is what keeps a young model quiet.
//
// # Alerts and thresholds
//
// A track's surprise for a kind must stay at or above the threshold for 3
// consecutive samples (≥ 1 s); a track raises at most one alert per kind.
// An occupancy alert needs the same persistence and re-arms after 30 s of
// calm. No alert is raised before Warmup of model time.
//
// From half way through warm-up on, each track that ends contributes its
// held-out (scored before it is learned) peak persistent surprise per kind
// to calibration; occupancy contributes each (zone, class) minute's peak.
// Every 5 minutes of model time (and when warm-up ends), each kind's
// threshold is fitted to the last 24 h of scores by peaks over threshold:
// with u the (k+1)-th largest of n scores (k = 2 per observed hour, within
// [10, 500]), β the mean excess of the top k over u (at least 0.25) and
// λ = k per observed hour, threshold = max(MinThreshold, u + β·ln(λ/b)),
// where b is BudgetPerHour shared evenly among the enabled kinds. With
// fewer than 20 scores the threshold is one unit above the larger of
// MinThreshold and the highest score. The threshold used in a zone is this
// times the (zone, kind) feedback multiplier. In the first hours the
// held-out scores come from a model still gaining evidence, whose
// surprises run lower than it will later give; MinThreshold is what keeps
// those hours within budget.
//
// # Feedback
//
// Alerts carry Values["alert_id"], which Feedback uses to find what raised
// them. A false alarm learns the quarantined unit, multiplies the (zone,
// kind) multiplier by 1.15 (at most 3) and records a suppression: the same
// kind and class within 1.5 cells of the alert's last path point (or, for
// occupancy, in the same zone) does not alert for SuppressFor of model
// time. A confirmation drops the unit, multiplies the multiplier by 0.95
// (at least 0.8; the multiplier applies after the MinThreshold floor) and
// removes matching suppressions. A verdict on a track still open applies
// when it ends.
//
// # Persistence
//
// MarshalBinary writes format version 1: "VGBL", a uint16 version, then
// little-endian sections: the grid signature (calibrated, cell size, the
// normalised homography, zone names), clocks and counters (half-life,
// model time, decay origin), the statistics, occupancy histograms,
// held-out scores and thresholds, multipliers, suppressions, verdicts and
// the quarantine, each in a fixed order so equal models give equal bytes.
// Open tracks and the stream's PTS are not saved: Close, then marshal, and
// a restored model continues exactly as the original would.
package baseline
