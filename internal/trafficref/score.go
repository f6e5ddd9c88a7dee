package trafficref

import (
	"fmt"
	"math"
	"sort"

	"github.com/vigil-cctv/vigil/internal/event"
)

// Playback says how alert times map to the reference's forward frames.
type Playback struct {
	Frames   int     // frames in the sequence (1700 for the highway)
	FPS      float64 // frame rate the analysis assumed for the images
	Reversed bool    // the frames were played last to first
}

// Frame is the 1-based forward frame shown at playback time pts (seconds).
func (p Playback) Frame(pts float64) int {
	i := int(math.Round(pts * p.FPS)) // 0-based index in playback order
	if p.Reversed {
		return p.Frames - i
	}
	return i + 1
}

// Options tunes the matching.
type Options struct {
	// Slack widens each vehicle's [First, Last] span, in frames: the
	// labels come from every tenth frame.
	Slack int
	// MaxRowError is how far (pixels) an alert's foot point may be from
	// where the vehicle is expected at that frame.
	MaxRowError float64
}

// DefaultOptions fit the highway labels: ±10 frames of sampling, and the
// linear row model's error near the bottom of the image.
var DefaultOptions = Options{Slack: 10, MaxRowError: 60}

// Report is the outcome of Score.
type Report struct {
	Expected  int              // vehicles that cross both labelled rows
	Matched   map[string][]int // vehicle id → indexes of its alerts
	Missed    []string         // expected vehicles with no alert
	Twice     []string         // vehicles with more than one alert
	Unmatched []int            // alerts that match no vehicle
	Recall    float64          // matched expected vehicles / Expected
}

func (r Report) String() string {
	return fmt.Sprintf("recall %.3f (%d of %d expected vehicles), missed %v, alerted twice %v, %d alerts matching no vehicle",
		r.Recall, r.Expected-len(r.Missed), r.Expected, r.Missed, r.Twice, len(r.Unmatched))
}

// Score matches alerts to vehicles. Each foot point of an alert's path (at
// least one is needed) votes for the vehicle that is in view at that frame,
// in that lane, and whose expected row is nearest within MaxRowError; the
// alert goes to the vehicle with most votes if it has at least half of
// them, else to none. Vehicles that do not cross both
// rows (at the ends of the sequence) may be matched but are not expected.
func Score(ref []Vehicle, alerts []event.Event, p Playback, opt Options) Report {
	slope := farSlope(ref)
	rep := Report{Matched: map[string][]int{}}
	for i, a := range alerts {
		if v := matchAlert(ref, a, p, opt, slope); v != "" {
			rep.Matched[v] = append(rep.Matched[v], i)
		} else {
			rep.Unmatched = append(rep.Unmatched, i)
		}
	}
	for _, v := range ref {
		if len(rep.Matched[v.ID]) > 1 {
			rep.Twice = append(rep.Twice, v.ID)
		}
		if !v.Expected() {
			continue
		}
		rep.Expected++
		if len(rep.Matched[v.ID]) == 0 {
			rep.Missed = append(rep.Missed, v.ID)
		}
	}
	if rep.Expected > 0 {
		rep.Recall = float64(rep.Expected-len(rep.Missed)) / float64(rep.Expected)
	}
	return rep
}

func matchAlert(ref []Vehicle, a event.Event, p Playback, opt Options, slope float64) string {
	votes := map[string]int{}
	for _, pt := range a.Path {
		f := p.Frame(pt.PTS)
		x, y := pt.Image[0], pt.Image[1]
		best, bestErr := "", opt.MaxRowError
		for _, v := range ref {
			if f < v.First-opt.Slack || f > v.Last+opt.Slack || !v.InLane(x, y) {
				continue
			}
			if e := math.Abs(v.RowAt(f, slope) - y); e <= bestErr {
				best, bestErr = v.ID, e
			}
		}
		if best != "" {
			votes[best]++
		}
	}
	ids := make([]string, 0, len(votes))
	for id := range votes {
		ids = append(ids, id)
	}
	sort.Strings(ids) // ties go to the earlier id, deterministically
	winner := ""
	for _, id := range ids {
		if winner == "" || votes[id] > votes[winner] {
			winner = id
		}
	}
	if winner == "" || 2*votes[winner] < len(a.Path) {
		return ""
	}
	return winner
}

// farSlope is the median rows-per-frame from entering at the top to row
// 80, for vehicles seen only at the far end when the sequence ends.
func farSlope(ref []Vehicle) float64 {
	var s []float64
	for _, v := range ref {
		if v.F80 > v.First {
			s = append(s, (RowFar-RowEnter)/float64(v.F80-v.First))
		}
	}
	if len(s) == 0 {
		return 0.5
	}
	sort.Float64s(s)
	return s[len(s)/2]
}
