package baseline

import (
	"math"
	"sort"
	"time"

	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/event"
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
	trackGrace   = 2 * time.Second        // unseen this long: the track ended
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

// obs is one frame's foot point, raw and smoothed.
type obs struct {
	pts       time.Duration
	raw, rawG geom.Point
	rawOK     bool
	img, g    geom.Point
	gOK       bool
}

// pathPt is one recorded path point.
type pathPt struct {
	pts    time.Duration
	img, g geom.Point
	gOK    bool
}

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
	hist       []obs
	path       []pathPt
	lastSample time.Duration
	sampled    bool
	scored     bool // at least one sample was scored (calibration)
	samples    []sampleRec
	visits     []visitRec
	kinds      [numKinds]kindTrack
	alerts     []uint64 // ids of the alerts it raised
}

// cur is the latest observation.
func (t *trackState) cur() *obs { return &t.hist[len(t.hist)-1] }

// observe records one frame of the track: smoothing and path.
func (t *trackState) observe(pts time.Duration, tr *track.Track, g geom.Point, gOK bool) {
	t.class, t.box, t.last = tr.Class, tr.Box, pts
	t.hist = append(t.hist, obs{pts: pts, raw: tr.Box.Foot(), rawG: g, rawOK: gOK})
	t.smooth()
	t.trim(pts - histKeep)
	s := t.cur()
	if n := len(t.path); n == 0 || pts-t.path[n-1].pts >= pathStep {
		if n > 0 && pts-t.path[0].pts > pathKeep+pathKeep/2 {
			i := sort.Search(n, func(i int) bool { return pts-t.path[i].pts <= pathKeep })
			t.path = t.path[:copy(t.path, t.path[i:])]
		}
		t.path = append(t.path, pathPt{pts: pts, img: s.img, g: s.g, gOK: s.gOK})
	}
}

// smooth sets the latest observation's smoothed points to the mean of the
// raw points within the smoothing window, as internal/rules does: it
// removes the box jitter that would otherwise read as speed.
func (t *trackState) smooth() {
	n := len(t.hist)
	now := t.hist[n-1].pts
	var si, sg geom.Point
	ni, ng := 0, 0
	for i := n - 1; i >= 0 && now-t.hist[i].pts < smoothing; i-- {
		s := &t.hist[i]
		si, ni = si.Add(s.raw), ni+1
		if s.rawOK {
			sg, ng = sg.Add(s.rawG), ng+1
		}
	}
	s := &t.hist[n-1]
	s.img = si.Scale(1 / float64(ni))
	s.gOK = ng > 0
	if s.gOK {
		s.g = sg.Scale(1 / float64(ng))
	}
}

// trim drops observations older than the one just before from, in batches.
func (t *trackState) trim(from time.Duration) {
	i := 0
	for i+1 < len(t.hist) && t.hist[i+1].pts <= from {
		i++
	}
	if i > 0 && i >= len(t.hist)/2 {
		t.hist = t.hist[:copy(t.hist, t.hist[i:])]
	}
}

// velocity is the smoothed displacement over the last speedWindow, per
// second: ground m/s when ground is set, image px/s otherwise; false while
// the track is younger than the window.
func (t *trackState) velocity(ground bool) (geom.Point, bool) {
	n := len(t.hist)
	now := t.hist[n-1].pts
	j := sort.Search(n, func(i int) bool { return t.hist[i].pts > now-speedWindow }) - 1
	if j < 0 {
		return geom.Point{}, false
	}
	a, b := &t.hist[j], &t.hist[n-1]
	dt := (b.pts - a.pts).Seconds()
	if dt <= 0 {
		return geom.Point{}, false
	}
	if !ground {
		return b.img.Sub(a.img).Scale(1 / dt), true
	}
	if !a.gOK || !b.gOK {
		return geom.Point{}, false
	}
	return b.g.Sub(a.g).Scale(1 / dt), true
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
// evenly thinned to eventPathMax points.
func (t *trackState) eventPath(from time.Duration) []event.PathPoint {
	pts := t.path
	for len(pts) > 1 && pts[0].pts < from {
		pts = pts[1:]
	}
	all := make([]pathPt, len(pts), len(pts)+1)
	copy(all, pts)
	if s := t.cur(); len(all) == 0 || all[len(all)-1].pts != s.pts {
		all = append(all, pathPt{pts: s.pts, img: s.img, g: s.g, gOK: s.gOK})
	}
	n := min(len(all), eventPathMax)
	out := make([]event.PathPoint, n)
	for i := range out {
		j := i
		if n > 1 {
			j = i * (len(all) - 1) / (n - 1)
		}
		p := all[j]
		out[i] = event.PathPoint{PTS: event.Seconds(p.pts), Image: [2]float64{p.img.X, p.img.Y}}
		if p.gOK {
			out[i].Ground = &[2]float64{p.g.X, p.g.Y}
		}
	}
	return out
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
