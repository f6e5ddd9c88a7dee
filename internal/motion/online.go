package motion

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"math"
	"time"
)

// ModelOptions tunes a Model. The zero value gives the defaults.
type ModelOptions struct {
	// Warmup is how much stream time (summed PTS steps) is spent only
	// learning before frames are scored; 0 = 5 min, negative = none.
	Warmup time.Duration
	// HalfLife is how much stream time after warm-up halves the weight of
	// what was learnt before, so the model follows slow changes; 0 = 24 h.
	HalfLife time.Duration
	// Threshold is the cell z-score from which motion is reported; 0 = 5. On
	// UCSD Ped2 (learning from Train001–008), 0.7% of the normal frames of
	// Train009–016 had such a cell, and 72% of the anomalous test frames.
	Threshold float64
	// Smooth is the time constant of the causal smoothing of Score; 0 =
	// 400 ms (about 4 frames at 10 fps, like EvalPed2), negative = off.
	Smooth time.Duration
	// Scale is the integer downsampling applied before optical flow; 0 = the
	// smallest that brings the width to 240 or less. The window and cell
	// sizes are tuned for pedestrians about 10–15 pixels tall after it.
	Scale int
}

func (o ModelOptions) withDefaults(w int) ModelOptions {
	if o.Warmup == 0 {
		o.Warmup = 5 * time.Minute
	}
	if o.HalfLife <= 0 {
		o.HalfLife = 24 * time.Hour
	}
	if o.Threshold <= 0 {
		o.Threshold = 5
	}
	if o.Smooth == 0 {
		o.Smooth = 400 * time.Millisecond
	}
	if o.Scale <= 0 {
		o.Scale = max(1, (w+239)/240)
	}
	return o
}

// maxFrameGap is the longest PTS step across which two frames are still
// compared: after a stall, everything that moved meanwhile would look fast.
const maxFrameGap = 2 * time.Second

// Model learns per-cell motion statistics online from greyscale frames
// and scores each frame. It is the streaming form of the model evaluated by
// EvalPed2: LK flow, window momentum, per-row Gaussian of cell momentum. It is
// not safe for concurrent use.
type Model struct {
	w, h, gw, gh int
	opt          ModelOptions
	stats        rowStats
	learnt       time.Duration // stream time observed during warm-up
	last         time.Duration // PTS of prev
	score        float64       // smoothed score
	scored       bool          // score holds a value
	prev         plane         // downsampled previous frame; empty after a restore
}

// Observation is what Observe reports for one frame.
type Observation struct {
	// Score is the (smoothed) largest cell z-score of the frame's motion
	// momentum; 0 while learning or when the frame could not be compared.
	Score float64
	// Cells are the cells, in the pixels of the frames given, whose z-score
	// reaches ModelOptions.Threshold and that no tracked box (grown by the
	// momentum window) touches: strong motion the tracker does not explain.
	Cells []image.Rectangle
	// Learning is true during warm-up.
	Learning bool
}

// NewModel returns an empty model for greyscale frames of w×h pixels.
// It panics if w or h is not positive.
func NewModel(w, h int, opt ModelOptions) *Model {
	if w <= 0 || h <= 0 {
		panic(fmt.Sprintf("anomaly: NewModel(%d, %d): size must be positive", w, h))
	}
	m := &Model{w: w, h: h, opt: opt.withDefaults(w)}
	m.gw, m.gh = w/m.opt.Scale/cellSize, h/m.opt.Scale/cellSize
	m.stats = newRowStats(m.gw, m.gh)
	return m
}

// Observe takes one greyscale frame (len w*h, row-major), its PTS, and the
// image-space boxes of the tracked objects in that frame, learns from it
// (fully during warm-up, then slowly with exponential decay) and returns the
// frame's anomaly score and the cells with unexplained motion. A frame of the
// wrong size is ignored. The first frame, and any frame whose PTS does not
// follow the previous one by (0, 2 s], only starts a new frame pair.
func (m *Model) Observe(pts time.Duration, grey []uint8, boxes []image.Rectangle) Observation {
	if len(grey) != m.w*m.h {
		return Observation{Learning: m.learning()}
	}
	cur := downsample(grey, m.w, m.h, m.opt.Scale)
	prev, step := m.prev, pts-m.last
	m.prev, m.last = cur, pts
	if prev.pix == nil || step <= 0 || step > maxFrameGap || m.gw == 0 || m.gh == 0 {
		return Observation{Learning: m.learning()}
	}
	cells := cellMax(momentum(prev, cur), m.gw, m.gh)
	if m.learning() {
		m.learnt += step
		m.stats.add(cells, nil)
		return Observation{Learning: true}
	}
	model := m.stats.model()
	res := m.judge(step, cells, model, boxes)
	// Cap what is learnt at the reporting level, so that a rare anomaly
	// nudges the model instead of widening it.
	limit := make([]float64, m.gh)
	for r := range limit {
		limit[r] = model.mean[r] + m.opt.Threshold*model.std[r]
	}
	m.stats.decay(math.Exp2(-step.Seconds() / m.opt.HalfLife.Seconds()))
	m.stats.add(cells, limit)
	return res
}

func (m *Model) learning() bool { return m.learnt < m.opt.Warmup }

// judge scores one frame's cells against the model.
func (m *Model) judge(step time.Duration, cells []float32, model rowModel, boxes []image.Rectangle) Observation {
	z := make([]float64, len(cells))
	model.cellZ(cells, z)
	var res Observation
	raw := math.Inf(-1)
	side := cellSize * m.opt.Scale
	grow := winR * m.opt.Scale
	for c, v := range z {
		raw = math.Max(raw, v)
		if v < m.opt.Threshold {
			continue
		}
		cx, cy := c%m.gw, c/m.gw
		r := image.Rect(cx*side, cy*side, (cx+1)*side, (cy+1)*side)
		if !touchesAny(r, boxes, grow) {
			res.Cells = append(res.Cells, r)
		}
	}
	switch {
	case m.opt.Smooth < 0 || !m.scored:
		m.score = raw
	default:
		a := 1 - math.Exp(-step.Seconds()/m.opt.Smooth.Seconds())
		m.score += a * (raw - m.score)
	}
	m.scored = true
	res.Score = m.score
	return res
}

// touchesAny reports whether r overlaps any box grown by grow pixels: the
// momentum of a window reaches winR beyond the object it belongs to.
func touchesAny(r image.Rectangle, boxes []image.Rectangle, grow int) bool {
	for _, b := range boxes {
		if r.Overlaps(b.Inset(-grow)) {
			return true
		}
	}
	return false
}

// downsample averages f×f blocks of a w×h greyscale frame.
func downsample(grey []uint8, w, h, f int) plane {
	out := newPlane(w/f, h/f)
	norm := 1 / float32(f*f)
	for y := 0; y < out.h; y++ {
		for x := 0; x < out.w; x++ {
			var s int
			for dy := 0; dy < f; dy++ {
				row := grey[(y*f+dy)*w+x*f:]
				for dx := 0; dx < f; dx++ {
					s += int(row[dx])
				}
			}
			out.pix[y*out.w+x] = float32(s) * norm
		}
	}
	return out
}

const motionMagic = "VGMM\x01"

// MarshalBinary encodes the learnt state and options; the previous frame is
// not kept, so a restored model needs one frame before it scores again.
func (m *Model) MarshalBinary() ([]byte, error) {
	b := []byte(motionMagic)
	for _, v := range []int64{int64(m.w), int64(m.h), int64(m.opt.Scale),
		int64(m.opt.Warmup), int64(m.opt.HalfLife), int64(m.opt.Smooth), int64(m.learnt)} {
		b = binary.AppendVarint(b, v)
	}
	fs := []float64{m.opt.Threshold, m.score}
	if m.scored {
		fs = append(fs, 1)
	} else {
		fs = append(fs, 0)
	}
	for r := range m.gh {
		fs = append(fs, m.stats.n[r], m.stats.s[r], m.stats.s2[r])
	}
	for _, f := range fs {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
	}
	return b, nil
}

var errMotionData = errors.New("anomaly: invalid Model data")

// UnmarshalBinary replaces the model with one encoded by MarshalBinary.
func (m *Model) UnmarshalBinary(data []byte) error {
	if len(data) < len(motionMagic) || string(data[:len(motionMagic)]) != motionMagic {
		return fmt.Errorf("%w: bad header", errMotionData)
	}
	d := data[len(motionMagic):]
	var iv [7]int64
	for i := range iv {
		v, n := binary.Varint(d)
		if n <= 0 {
			return fmt.Errorf("%w: truncated", errMotionData)
		}
		iv[i], d = v, d[n:]
	}
	w, h, scale := iv[0], iv[1], iv[2]
	if w <= 0 || h <= 0 || w > 1<<15 || h > 1<<15 || scale <= 0 || scale > w || iv[3] == 0 || iv[4] <= 0 || iv[6] < 0 {
		return fmt.Errorf("%w: bad size or options", errMotionData)
	}
	opt := ModelOptions{Scale: int(scale), Warmup: time.Duration(iv[3]), HalfLife: time.Duration(iv[4]), Smooth: time.Duration(iv[5])}
	if opt.Smooth == 0 {
		return fmt.Errorf("%w: bad options", errMotionData)
	}
	n := NewModel(int(w), int(h), opt)
	if len(d) != 8*(3+3*n.gh) {
		return fmt.Errorf("%w: %d state bytes for %d rows", errMotionData, len(d), n.gh)
	}
	fs := make([]float64, len(d)/8)
	for i := range fs {
		fs[i] = math.Float64frombits(binary.LittleEndian.Uint64(d[8*i:]))
		if math.IsNaN(fs[i]) || math.IsInf(fs[i], 0) {
			return fmt.Errorf("%w: non-finite value", errMotionData)
		}
	}
	if fs[0] <= 0 || (fs[2] != 0 && fs[2] != 1) {
		return fmt.Errorf("%w: bad threshold or flags", errMotionData)
	}
	n.opt.Threshold, n.score, n.scored, n.learnt = fs[0], fs[1], fs[2] == 1, time.Duration(iv[6])
	for r := range n.gh {
		n.stats.n[r], n.stats.s[r], n.stats.s2[r] = fs[3+3*r], fs[4+3*r], fs[5+3*r]
		if n.stats.n[r] < 0 {
			return fmt.Errorf("%w: negative weight", errMotionData)
		}
	}
	*m = *n
	return nil
}
