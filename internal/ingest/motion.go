package ingest

import (
	"time"

	"github.com/vigil-cctv/vigil/internal/geom"
)

// GateOptions tune a MotionGate. Zero fields take the defaults.
type GateOptions struct {
	// Width and Height of the grey thumbnail compared (default 64×48);
	// each thumbnail pixel is one cell of the frame.
	Width, Height int
	// MeanDiff is the mean absolute grey difference (0–255) between
	// thumbnails that lets a frame through the gate whatever changed
	// (default 4). Boxes judges a change of the whole view on the exposure
	// step and the cells changed beyond it instead, so that a large object
	// passing is not taken for one.
	MeanDiff float64
	// CellDiff is how far a cell's grey level must move to count as changed
	// (default 10): above compression noise, below a person walking by.
	CellDiff int
	// CellFraction of changed cells counts as local motion (default 0.004,
	// about 12 cells of 64×48: one small figure).
	CellFraction float64
	// MaxInterval lets a frame through at least this often, so that tracks
	// stay alive and slow changes are eventually seen (default 2 s).
	MaxInterval time.Duration
	// Annotate holds no frame back: every frame is handed off with what
	// the gate saw in it (Frame.Motion), for a detection plan to decide
	// per frame (package detplan).
	Annotate bool
}

func (o GateOptions) withDefaults() GateOptions {
	if o.Width <= 0 || o.Height <= 0 {
		o.Width, o.Height = 64, 48
	}
	if o.MeanDiff <= 0 {
		o.MeanDiff = 4
	}
	if o.CellDiff <= 0 {
		o.CellDiff = 10
	}
	if o.CellFraction <= 0 {
		o.CellFraction = 0.004
	}
	o.MaxInterval = orDur(o.MaxInterval, 2*time.Second)
	return o
}

// Motion is how much a frame differs from the previous one.
type Motion struct {
	MeanDiff float64 // mean absolute grey difference of the thumbnails
	// Offset is the median cell's signed grey difference: the whole view
	// brightening or darkening (exposure, lighting).
	Offset float64
	// Changed is the fraction of cells that changed by more than CellDiff
	// once the Offset is taken out: what moved, not the view's exposure.
	Changed float64
}

// MotionGate decides whether a frame is worth sending to the detector, by
// comparing a small grey thumbnail of it with the previous frame's. It is
// pure Go and samples 16 pixels per cell instead of reading the whole
// frame, which keeps it well under a millisecond at 768×576. A gate holds
// per-camera state: use one per camera, from one goroutine.
type MotionGate struct {
	opt       GateOptions
	prev, cur []uint8
	changed   []bool // cells that changed in the latest Check (see Boxes)
	fresh     bool   // the latest Check had nothing to compare with
	havePrev  bool
	lastPass  time.Duration
	last      Motion
	passed    int64
	skipped   int64
	// sampling tables for the current frame size
	w, h   int
	xs, ys []int
}

// samplesPerSide is how many pixels per cell side are read (4×4 per cell).
const samplesPerSide = 4

// NewMotionGate returns a gate that lets the first frame through.
func NewMotionGate(opt GateOptions) *MotionGate {
	opt = opt.withDefaults()
	n := opt.Width * opt.Height
	return &MotionGate{opt: opt, prev: make([]uint8, n), cur: make([]uint8, n), changed: make([]bool, n)}
}

// Check reports whether the frame (packed RGB24) should go to the
// detector: it does when it is the first, differs enough from the previous
// frame, or MaxInterval has passed since the last frame let through (by
// PTS, so replays decide the same way).
func (g *MotionGate) Check(pts time.Duration, width, height int, pix []byte) bool {
	if width <= 0 || height <= 0 || len(pix) < width*height*3 {
		return true // not a frame we understand: let the detector decide
	}
	resized := g.prepare(width, height)
	g.fresh = !g.havePrev
	g.thumbnail(pix)
	pass := !g.havePrev || resized || pts < g.lastPass || pts-g.lastPass >= g.opt.MaxInterval
	g.last = g.compare()
	if g.last.MeanDiff >= g.opt.MeanDiff || g.last.Changed >= g.opt.CellFraction {
		pass = true
	}
	g.prev, g.cur = g.cur, g.prev
	g.havePrev = true
	if pass {
		g.lastPass = pts
		g.passed++
	} else {
		g.skipped++
	}
	return pass
}

// Changes returns where the latest Check saw local change (Boxes), or no
// boxes when the change stayed below the gate's thresholds (compression
// noise); global as in Boxes.
func (g *MotionGate) Changes() (boxes []geom.Box, global bool) {
	boxes, global = g.Boxes()
	if !global && g.last.Changed < g.opt.CellFraction {
		return nil, false
	}
	return boxes, global
}

// Last is the motion measured by the latest Check (zero after the first).
func (g *MotionGate) Last() Motion { return g.last }

// Counts returns how many frames were let through and how many skipped.
func (g *MotionGate) Counts() (passed, skipped int64) { return g.passed, g.skipped }

// prepare builds the sampling tables for a frame size; it reports a size
// change, after which the previous thumbnail means nothing.
func (g *MotionGate) prepare(width, height int) bool {
	if width == g.w && height == g.h {
		return false
	}
	g.w, g.h = width, height
	g.xs = samplePositions(width, g.opt.Width, 3)
	g.ys = samplePositions(height, g.opt.Height, width*3)
	g.havePrev = false
	return true
}

// samplePositions spreads samplesPerSide positions evenly over each of
// cells intervals of size pixels, returned as byte offsets (×stride).
func samplePositions(size, cells, stride int) []int {
	pos := make([]int, 0, cells*samplesPerSide)
	for c := range cells {
		lo, hi := c*size/cells, (c+1)*size/cells
		for k := range samplesPerSide {
			p := lo + (2*k+1)*(hi-lo)/(2*samplesPerSide)
			pos = append(pos, min(p, size-1)*stride)
		}
	}
	return pos
}

// thumbnail writes the grey level of every cell into g.cur, grey being
// (R+2G+B)/4: close enough to luma, and integer-only.
func (g *MotionGate) thumbnail(pix []byte) {
	tw := g.opt.Width
	const n = samplesPerSide * samplesPerSide * 4
	for cy := range g.opt.Height {
		rows := g.ys[cy*samplesPerSide : (cy+1)*samplesPerSide]
		for cx := range tw {
			cols := g.xs[cx*samplesPerSide : (cx+1)*samplesPerSide]
			sum := 0
			for _, ro := range rows {
				for _, co := range cols {
					p := pix[ro+co : ro+co+3 : ro+co+3]
					sum += int(p[0]) + 2*int(p[1]) + int(p[2])
				}
			}
			g.cur[cy*tw+cx] = uint8(sum / n)
		}
	}
}

func (g *MotionGate) compare() Motion {
	clear(g.changed)
	if !g.havePrev {
		return Motion{}
	}
	total := 0
	var hist [511]int // signed differences, offset by 255
	for i, c := range g.cur {
		d := int(c) - int(g.prev[i])
		hist[d+255]++
		total += abs(d)
	}
	offset := median(hist[:], len(g.cur)) - 255
	changed := 0
	for i, c := range g.cur {
		if abs(int(c)-int(g.prev[i])-offset) > g.opt.CellDiff {
			changed++
			g.changed[i] = true
		}
	}
	n := float64(len(g.cur))
	return Motion{MeanDiff: float64(total) / n, Offset: float64(offset), Changed: float64(changed) / n}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// median is the middle value of n counts in a histogram of values.
func median(hist []int, n int) int {
	seen := 0
	for v, c := range hist {
		if seen += c; 2*seen > n {
			return v
		}
	}
	return 0
}
