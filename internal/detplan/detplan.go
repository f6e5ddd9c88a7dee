// Package detplan decides, for each analysed frame of a camera, how much
// detector work it needs: the whole frame, a few model-sized crops around
// what moved and where tracked objects are, or nothing at all — the
// tracker carrying its tracks through the frame by prediction (the rules
// still see every analysed frame). This is how one box serves many
// cameras: a quiet street costs a full-frame pass every few seconds (or
// every 16 s while its view stays the same), a busy one every frame.
//
// The decision depends only on the frame's PTS, what the motion gate saw
// (its boxes, and whether the view is unchanged since the last whole-frame
// pass) and the tracker's state, never on the wall clock or the load, so a replay makes
// the same decisions.
package detplan

import (
	"fmt"
	"hash/fnv"
	"image"
	"math"
	"time"

	"github.com/vigil-cctv/vigil/internal/geom"
)

// Mode is what the detector does with a frame.
type Mode int

// Modes, from most to least detector work.
const (
	Full    Mode = iota // the whole frame at the full-frame model input
	Regions             // the crops in Decision.Regions, each at its own input
	Carry               // no detection: the tracker predicts (track.Tracker.Predict)
)

func (m Mode) String() string {
	switch m {
	case Regions:
		return "regions"
	case Carry:
		return "carry"
	default:
		return "full"
	}
}

// Decision is the plan for one frame, kept for the live overlay and the
// metrics (vigil_frames_total{stage} and a per-mode counter).
type Decision struct {
	Mode Mode
	// Regions are the crops to detect in, each with the model input it
	// runs at; for Full, the whole frame at FullW×FullH.
	Regions []Region
	// Reason says why, for the debug overlay: "periodic full pass",
	// "3 tracks, none fast: carried", …
	Reason string
	// Whole says the detector sees all of the frame (Mode Full, or a frame
	// that fits one crop detected as one): the frame State.Unchanged is
	// measured against from then on.
	Whole bool
}

// Config tunes a Policy. Zero fields take the defaults.
type Config struct {
	// RegionSize is the region detector's input side (default 320): a crop
	// up to this size is seen at the frame's own scale, a larger one
	// scaled down to it.
	RegionSize int
	// MinRegion is the smallest crop side (default 160): what a crop holds
	// keeps some context around it, and the detector's fixed cost per run
	// (about that of a 64×64 input) stays small beside it.
	MinRegion int
	// AnySize says the region detector runs a crop at its own size
	// (onnx.Config.AnySize), so a small crop costs its area; otherwise
	// every crop costs a RegionSize square and crops are squares of at
	// least RegionSize.
	AnySize bool
	// MaxRegionScale bounds how much larger than RegionSize a crop may grow
	// to hold what it must (default 2: scaled down at most 2×).
	MaxRegionScale float64
	// MaxRegions is the most crops per frame (default 4); beyond it, or
	// when the crops together would cost as much as the whole frame (at
	// FullW×FullH), the whole frame is detected.
	MaxRegions int
	// FullW and FullH are the whole-frame model's input (default
	// 640×480): what a whole-frame pass costs.
	FullW, FullH int
	// LargeMotion is the fraction of the frame that, once covered by the
	// crops' content, makes the whole frame the better choice (default 0.4).
	LargeMotion float64
	// FullEvery forces a full-frame pass at least this often in PTS
	// (default 4 s), for what moved too little for the motion gate. Every
	// camera's periodic passes were a fifth of its inference at 2 s; at
	// 4 s PETS09 at 5 fps keeps its MOTA, IDF1 and rule F1 (README).
	FullEvery time.Duration
	// MaxFullEvery bounds how long the periodic pass waits while the view
	// is unchanged since the last whole-frame pass (State.Unchanged): the
	// pass would read the same pixels, but the gate's thumbnail samples 16
	// pixels per cell and may miss something small (default 4×FullEvery).
	MaxFullEvery time.Duration
	// Phase shifts the camera's periodic passes (taken modulo FullEvery):
	// cameras started together would otherwise all pass whole frames in
	// the same instant, a burst the detector queues drop frames to. See
	// PhaseOf.
	Phase time.Duration
	// MaxCarry is the most analysed frames carried in a row while tracks
	// are live and moving (default 2). With no motion in the frame and
	// every track still there is no limit but FullEvery: the pixels a
	// detection would read have not changed.
	MaxCarry int
	// StillFraction: a track whose centre moves less than this fraction of
	// its box's larger side per analysed frame stands still (default
	// 0.02; a walker at 5 fps moves about 0.1–0.16 of its height).
	StillFraction float64
	// ManyTracks live tracks or more make every frame detected (default 8):
	// crowds occlude, and prediction through occlusion swaps ids.
	ManyTracks int
	// FastFraction: a track whose centre moves more than this fraction of
	// its box's larger side per analysed frame is fast (default 0.25), and
	// its prediction is not trusted.
	FastFraction float64
	// Margin grows each track box by this fraction of its size on each side,
	// plus its velocity, before planning crops (default 0.25).
	Margin float64
}

func (c Config) withDefaults() Config {
	if c.RegionSize <= 0 {
		c.RegionSize = 320
	}
	if c.MaxRegionScale < 1 {
		c.MaxRegionScale = 2
	}
	if c.MinRegion <= 0 {
		c.MinRegion = 160
	}
	if c.MaxRegions <= 0 {
		c.MaxRegions = 4
	}
	if c.FullW <= 0 || c.FullH <= 0 {
		c.FullW, c.FullH = 640, 480
	}
	if c.LargeMotion <= 0 {
		c.LargeMotion = 0.4
	}
	if c.FullEvery <= 0 {
		c.FullEvery = 4 * time.Second
	}
	if c.MaxFullEvery < c.FullEvery {
		c.MaxFullEvery = 4 * c.FullEvery
	}
	if c.MaxCarry < 0 {
		c.MaxCarry = 0
	} else if c.MaxCarry == 0 {
		c.MaxCarry = 2
	}
	if c.ManyTracks <= 0 {
		c.ManyTracks = 8
	}
	if c.FastFraction <= 0 {
		c.FastFraction = 0.25
	}
	if c.StillFraction <= 0 {
		c.StillFraction = 0.02
	}
	if c.Margin <= 0 {
		c.Margin = 0.25
	}
	return c
}

// Track is what the policy needs to know about a live track
// (track.Tracker.Motions gives box and velocity).
type Track struct {
	Box geom.Box
	// VX and VY are the velocity in pixels per analysed frame.
	VX, VY float64
	// NearRule is set by the chain when the track is close to a rule's
	// zone, line or lane: its frames are detected, not predicted.
	NearRule bool
}

// State is what is known about a frame before detection.
type State struct {
	PTS           time.Duration
	Width, Height int
	// Motion are the changed areas (ingest.MotionGate.Boxes); MotionGlobal
	// says the whole view changed (or nothing is known yet).
	Motion       []geom.Box
	MotionGlobal bool
	Tracks       []Track
	// Unchanged says the frame shows what the last whole-frame pass read,
	// cumulatively and not only since the previous frame (the motion gate's
	// thumbnails, ingest.Thumb.Same): the periodic pass waits, up to
	// MaxFullEvery, since it would find what the tracks already hold. The
	// caller measures it against the frame of the last Decision.Whole.
	Unchanged bool
}

// Counts are the decisions taken so far, by mode.
type Counts struct{ Full, Regions, Carry int64 }

// Policy decides per frame for one camera. It is not safe for concurrent
// use: one per camera, called in frame order.
type Policy struct {
	cfg      Config
	started  bool
	w, h     int
	lastPTS  time.Duration
	lastFull time.Duration
	carried  int
	counts   Counts
}

// PhaseOf is a camera's periodic-pass phase: a hash of its id spread over
// FullEvery's default, the same on every run and node.
func PhaseOf(camera string) time.Duration {
	h := fnv.New32a()
	h.Write([]byte(camera))
	return time.Duration(h.Sum32()%4000) * time.Millisecond
}

// New returns a policy; its first frame is a full pass.
func New(cfg Config) *Policy { return &Policy{cfg: cfg.withDefaults()} }

// Counts reports the decisions taken so far.
func (p *Policy) Counts() Counts { return p.counts }

// Decide plans detection for one frame.
func (p *Policy) Decide(s State) Decision {
	d := p.decide(s)
	switch d.Mode {
	case Full:
		p.lastFull, p.carried, d.Whole = s.PTS, 0, true
		if !p.started {
			p.lastFull -= p.cfg.Phase % p.cfg.FullEvery
		}
		whole := image.Rect(0, 0, s.Width, s.Height)
		d.Regions = []Region{{Rect: whole, Input: image.Pt(p.cfg.FullW, p.cfg.FullH)}}
		if p.fitsOneCrop(s) {
			d.Regions[0].Input = p.cfg.input(whole)
			d.Mode, d.Reason = Regions, d.Reason+"; the frame fits one crop"
			p.counts.Regions++
			break
		}
		p.counts.Full++
	case Regions:
		p.carried = 0
		p.counts.Regions++
	case Carry:
		p.carried++
		p.counts.Carry++
	}
	p.started, p.w, p.h, p.lastPTS = true, s.Width, s.Height, s.PTS
	return d
}

func (p *Policy) decide(s State) Decision {
	switch {
	case !p.started || s.Width != p.w || s.Height != p.h || s.PTS < p.lastPTS:
		return Decision{Mode: Full, Reason: "first frame of a stream"}
	case s.MotionGlobal:
		return Decision{Mode: Full, Reason: "the whole view changed"}
	case p.periodicDue(s):
		return Decision{Mode: Full, Reason: "periodic full pass"}
	}
	if why := p.busy(s); why != "" {
		return p.detect(s, why)
	}
	if len(s.Motion) == 0 && p.allStill(s.Tracks) {
		why := "nothing moving"
		if s.PTS-p.lastFull >= p.cfg.FullEvery {
			why = "view unchanged since the last full pass"
		}
		if len(s.Tracks) == 0 {
			return Decision{Mode: Carry, Reason: why + ", no track"}
		}
		return Decision{Mode: Carry, Reason: fmt.Sprintf("%s, %d tracks standing still: carried", why, len(s.Tracks))}
	}
	if p.carried < p.cfg.MaxCarry {
		return Decision{Mode: Carry, Reason: fmt.Sprintf("%d tracks, slow, motion explained: carried", len(s.Tracks))}
	}
	return p.detect(s, fmt.Sprintf("%d frames carried", p.carried))
}

// periodicDue reports whether the periodic full pass is due: FullEvery
// after the last, or up to MaxFullEvery while the view is unchanged since.
func (p *Policy) periodicDue(s State) bool {
	since := s.PTS - p.lastFull
	if s.Unchanged {
		return since >= p.cfg.MaxFullEvery
	}
	return since >= p.cfg.FullEvery
}

// fitsOneCrop reports a frame no larger than a crop (the 320×240 CDnet
// highway): the region detector sees all of it at its own scale for about
// a third of a whole-frame inference, upscaled into 640×480.
func (p *Policy) fitsOneCrop(s State) bool {
	return s.Width <= p.cfg.RegionSize && s.Height <= p.cfg.RegionSize
}

// busy says why the frame must be detected now, or "".
func (p *Policy) busy(s State) string {
	if n := len(s.Tracks); n >= p.cfg.ManyTracks {
		return fmt.Sprintf("%d tracks", n)
	}
	for _, t := range s.Tracks {
		if t.NearRule {
			return "a track near a rule"
		}
		if math.Hypot(t.VX, t.VY) > p.cfg.FastFraction*max(t.Box.W, t.Box.H) {
			return "a fast track"
		}
	}
	for _, m := range s.Motion {
		if !explained(m, s.Tracks) {
			return "motion away from tracks"
		}
	}
	return ""
}

// allStill reports whether no track moves (a parked car, a person
// waiting, a frozen view): with no motion in the frame either, detecting
// would find them where the tracker predicts them.
func (p *Policy) allStill(tracks []Track) bool {
	for _, t := range tracks {
		if math.Hypot(t.VX, t.VY) >= p.cfg.StillFraction*max(t.Box.W, t.Box.H) {
			return false
		}
	}
	return true
}

// explained reports whether most of a motion box lies on tracked objects.
func explained(m geom.Box, tracks []Track) bool {
	covered := 0.0
	for _, t := range tracks {
		covered += m.Intersection(t.Box)
	}
	return covered >= 0.5*m.Area()
}

// detect plans crops around motion and tracks, or the full frame when the
// crops would cost as much.
func (p *Policy) detect(s State, why string) Decision {
	boxes := append([]geom.Box(nil), s.Motion...)
	for _, t := range s.Tracks {
		boxes = append(boxes, grow(t, p.cfg.Margin))
	}
	regions, ok := PlanRegions(boxes, s.Width, s.Height, p.cfg)
	if !ok {
		return Decision{Mode: Full, Reason: why + "; crops would cost as much as the frame"}
	}
	if len(regions) == 0 {
		return Decision{Mode: Full, Reason: why}
	}
	return Decision{Mode: Regions, Regions: regions, Reason: why}
}

// grow is a track's box widened by margin on each side and stretched by
// its velocity, where the object may be found this frame.
func grow(t Track, margin float64) geom.Box {
	b := t.Box
	mx, my := b.W*margin+math.Abs(t.VX), b.H*margin+math.Abs(t.VY)
	return geom.Box{X: b.X - mx, Y: b.Y - my, W: b.W + 2*mx, H: b.H + 2*my}
}
