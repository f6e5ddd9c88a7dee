package baseline

import (
	"math"
	"sort"
	"time"

	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/footpath"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/track"
)

// Track timing, in PTS. The smoothing window and path step are those of
// internal/rules, so the two agree on where a track is.
const (
	smoothing    = 500 * time.Millisecond // moving average of foot points
	speedWindow  = time.Second            // velocity is measured over this
	histKeep     = 1500 * time.Millisecond
	sampleStep   = 500 * time.Millisecond // one feature sample per track per step
	pathStep     = 200 * time.Millisecond
	pathKeep     = 10 * time.Second
	maxDwellStep = 2 * time.Second  // longest gap credited to dwell
	maxSamples   = 1200             // samples kept per track for learning (10 min)
	maxVisits    = 256              // cells kept per track
	minMovingM   = 0.3              // m/s: slower has no heading
	minMovingH   = 0.2              // box heights/s, uncalibrated
	eventPathMax = 50               // path points an alert carries
	persistN     = 3                // samples a surprise must last (≥ 1 s at 0.5 s steps)
	occStep      = sampleStep       // occupancy sampling period
	occWindow    = time.Minute      // occupancy learning and calibration unit
	occHold      = 30 * time.Second // calm this long ends an occupancy episode
)

// kindTrack follows one kind's surprise along one track.
type kindTrack struct {
	last  [persistN]float64 // recent surprises, ring
	n     int               // samples pushed
	above bool              // latest surprise at or above the threshold
	since time.Duration     // PTS when it rose above
	peak  float64           // highest persistent surprise: the calibration score
	done  bool              // alerted, or found suppressed
}

// push records a sample's surprise and returns the persistent surprise:
// the least of the last persistN, or 0 until there are that many.
func (k *kindTrack) push(s float64) float64 {
	k.last[k.n%persistN] = s
	k.n++
	if k.n < persistN {
		return 0
	}
	p := k.last[0]
	for _, v := range k.last[1:] {
		p = min(p, v)
	}
	k.peak = max(k.peak, p)
	return p
}

// trackState is what the model remembers about one open track.
type trackState struct {
	id         int
	class      detect.Class
	box        geom.Box
	last       time.Duration
	hist       footpath.History
	path       []footpath.Point
	lastSample time.Duration
	sampled    bool
	scored     bool // at least one sample was scored (calibration)
	samples    []sampleRec
	visits     []visitRec
	kinds      [numKinds]kindTrack
	alerts     []uint64 // ids of the alerts it raised
}

// cur is the latest observation.
func (t *trackState) cur() *footpath.Sample { return t.hist.Cur() }

// observe records one frame of the track: smoothing (as internal/rules
// does, so both measure motion alike) and path.
func (t *trackState) observe(pts time.Duration, tr *track.Track, g geom.Point, gOK bool) {
	t.class, t.box, t.last = tr.Class, tr.Box, pts
	t.hist.Add(pts, tr.Box.Foot(), g, gOK, smoothing)
	t.hist.Trim(pts - histKeep)
	if n := len(t.path); n == 0 || pts-t.path[n-1].PTS >= pathStep {
		if n > 0 && pts-t.path[0].PTS > pathKeep+pathKeep/2 {
			i := sort.Search(n, func(i int) bool { return pts-t.path[i].PTS <= pathKeep })
			t.path = t.path[:copy(t.path, t.path[i:])]
		}
		t.path = append(t.path, footpath.PointOf(t.cur()))
	}
}

// velocity is the smoothed displacement over the last speedWindow, per
// second: ground m/s when ground is set, image px/s otherwise; false while
// the track is younger than the window.
func (t *trackState) velocity(ground bool) (geom.Point, bool) {
	return t.hist.Velocity(t.cur().PTS, speedWindow, ground)
}

// visit returns the track's visit record for cell c, adding one (at hour
// h) if there is room.
func (t *trackState) visit(c cellXY, h int16) *visitRec {
	for i := len(t.visits) - 1; i >= 0; i-- {
		if t.visits[i].c == c {
			return &t.visits[i]
		}
	}
	if len(t.visits) >= maxVisits {
		return nil
	}
	t.visits = append(t.visits, visitRec{c: c, hour: h})
	return &t.visits[len(t.visits)-1]
}

// eventPath is the path from `from` on, ending at the current position,
// thinned to eventPathMax points.
func (t *trackState) eventPath(from time.Duration) []event.PathPoint {
	return footpath.EventPath(t.path, t.cur(), from, eventPathMax)
}

// bearing is the compass heading of v in degrees, clockwise from north:
// ground +Y is north and +X east; in the image, up is north.
func bearing(v geom.Point, ground bool) float64 {
	y := v.Y
	if !ground {
		y = -y
	}
	d := math.Atan2(v.X, y) * 180 / math.Pi
	if d < 0 {
		d += 360
	}
	return d
}

// dirBin is the heading bin of a bearing, bin 0 centred on north.
func dirBin(deg float64) int {
	return int(math.Floor((deg+360.0/dirBins/2)/(360.0/dirBins))) % dirBins
}
