package trafficref

import (
	"fmt"
	"math"
	"sort"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/geom"
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
	// MaxGap is how far (metres along the road) an alert's foot point may
	// be from where the vehicle is expected at that frame.
	MaxGap float64
}

// DefaultOptions fit the highway labels: ±10 frames of sampling; crossings
// read to ±3 frames (±2.5 m at 60 km/h), a foot point a few pixels off (a
// metre near the camera, several far away), and speeds that are not quite
// constant.
var DefaultOptions = Options{Slack: 10, MaxGap: 10}

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
// in that lane, and nearest along the road (at most MaxGap metres from
// where it is expected, at constant speed through its labelled crossings);
// a vehicle seen only at the far end takes points above row 80 that no
// other vehicle explains. The alert goes to the vehicle with most votes if
// it has at least half of them, else to none. road places points along
// the carriageway (the scene's calibration).
func Score(ref []Vehicle, alerts []event.Event, road Road, p Playback, opt Options) Report {
	speed := medianSpeed(ref, road)
	rep := Report{Matched: map[string][]int{}}
	for i, a := range alerts {
		if v := matchAlert(ref, a, road, p, opt, speed); v != "" {
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

func matchAlert(ref []Vehicle, a event.Event, road Road, p Playback, opt Options, speed float64) string {
	votes := map[string]int{}
	for _, pt := range a.Path {
		if id := nearest(ref, pt, road, p, opt, speed); id != "" {
			votes[id]++
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

// nearest is the vehicle that best explains one foot point, or "".
func nearest(ref []Vehicle, pt event.PathPoint, road Road, p Playback, opt Options, speed float64) string {
	f := p.Frame(pt.PTS)
	x, y := pt.Image[0], pt.Image[1]
	d := road.Dist(geom.Point{X: x, Y: y})
	best, bestGap := "", opt.MaxGap
	for _, v := range ref {
		if f < v.First-opt.Slack || f > v.Last+opt.Slack || !v.InLane(x, y, f) {
			continue
		}
		at, ok := v.DistAt(f, road, speed)
		gap := math.Abs(at - d)
		if !ok { // seen only at the far end: any point up there, as a last resort
			gap = math.Inf(1)
			if y < RowFar {
				gap = opt.MaxGap
			}
		}
		if gap <= bestGap && (best == "" || gap < bestGap) {
			best, bestGap = v.ID, gap
		}
	}
	return best
}

// medianSpeed is the median metres per frame between the labelled rows,
// for vehicles that cross row 80 only.
func medianSpeed(ref []Vehicle, road Road) float64 {
	var s []float64
	for _, v := range ref {
		if mpf, ok := v.metresPerFrame(road); ok {
			s = append(s, mpf)
		}
	}
	if len(s) == 0 {
		return 0.75 // 67 km/h at 25 fps
	}
	sort.Float64s(s)
	return s[len(s)/2]
}
