package baseline

import (
	"math"

	"github.com/vigil-cctv/vigil/internal/geom"
)

// Histogram shapes. Log-spaced bins: bin 0 is below lo, each next bin is
// ratio times wider.
const (
	dirBins = 16 // 22.5° each, bin 0 centred on north

	speedBins = 24
	speedLo   = 0.1 // m/s, or box heights per second uncalibrated
	speedRat  = 1.3

	sizeBins = 32
	sizeLo   = 4.0 // px of box height
	sizeRat  = 1.2

	dwellBins = 24
	dwellLo   = 0.5 // s
	dwellRat  = 1.6

	occBins = 40 // counts 0..15 exactly, then four bins per doubling
)

// allHours is the hour field of the all-hours aggregate.
const allHours int16 = -1

// Grid and evidence bounds.
const (
	minEvidence = 20  // effective samples (tracks for class and dwell) to score
	maxGroundM  = 500 // ground points farther from the origin are ignored
	maxImagePx  = 1e6
	maxCells    = 50000  // distinct grid cells
	maxEntries  = 120000 // (cell, hour, class) statistics
)

// cellXY is a grid cell: ground cells of CellMetres or image cells of
// CellPixels.
type cellXY struct{ x, y int32 }

// statKey addresses one class's statistics at one cell and hour bucket.
type statKey struct {
	c     cellXY
	hour  int16
	class int16
}

// cellKey addresses a cell's all-class totals.
type cellKey struct {
	c    cellXY
	hour int16
}

// globalKey addresses the whole view's class mix (class −1: all classes).
type globalKey struct{ hour, class int16 }

// classStats is what was learned about one class at one place, in
// inflated units (see decay).
type classStats struct {
	tracks float64 // tracks that visited; also the dwell histogram's total
	n      float64 // samples; also the size histogram's total
	dirN   float64
	speedN float64
	dir    [dirBins]float64
	speed  [speedBins]float64
	size   [sizeBins]float64
	dwell  [dwellBins]float64
}

// add accumulates o, for pooling neighbouring cells.
func (s *classStats) add(o *classStats) {
	s.tracks += o.tracks
	s.n += o.n
	s.dirN += o.dirN
	s.speedN += o.speedN
	addArr(s.dir[:], o.dir[:])
	addArr(s.speed[:], o.speed[:])
	addArr(s.size[:], o.size[:])
	addArr(s.dwell[:], o.dwell[:])
}

// scale multiplies every count by f (rebasing the decay).
func (s *classStats) scale(f float64) {
	s.tracks *= f
	s.n *= f
	s.dirN *= f
	s.speedN *= f
	mulArr(s.dir[:], f)
	mulArr(s.speed[:], f)
	mulArr(s.size[:], f)
	mulArr(s.dwell[:], f)
}

func addArr(a, b []float64) {
	for i := range a {
		a[i] += b[i]
	}
}

func mulArr(a []float64, f float64) {
	for i := range a {
		a[i] *= f
	}
}

// occHist is a count histogram of one class in one zone and hour bucket.
type occHist struct {
	n    float64
	bins [occBins]float64
}

// occKey addresses an occupancy histogram; zone −1 is the whole view.
type occKey struct{ zone, class, hour int16 }

// occBin maps an object count to its bin.
func occBin(n int) int {
	if n < 16 {
		return max(n, 0)
	}
	return min(16+int(math.Floor(4*math.Log2(float64(n)/16))), occBins-1)
}

// occLower is the least count in bin i.
func occLower(i int) int {
	if i < 16 {
		return i
	}
	return int(math.Ceil(16 * math.Exp2(float64(i-16)/4)))
}

// cellOf maps a smoothed foot point to its grid cell; false when the point
// has no usable position (no ground point, too far, not finite).
func (m *Model) cellOf(img, g geom.Point, gOK bool) (cellXY, bool) {
	if m.calibrated {
		if !gOK || !finite(g) || math.Hypot(g.X, g.Y) > maxGroundM {
			return cellXY{}, false
		}
		return gridCell(g, m.cfg.CellMetres)
	}
	if !finite(img) || math.Abs(img.X) > maxImagePx || math.Abs(img.Y) > maxImagePx {
		return cellXY{}, false
	}
	return gridCell(img, float64(m.cfg.CellPixels))
}

// gridCell is the cell of side s holding p; false when the index would
// not fit the int32 cell coordinates (tiny cells).
func gridCell(p geom.Point, s float64) (cellXY, bool) {
	x, y := math.Floor(p.X/s), math.Floor(p.Y/s)
	if math.Abs(x) > 1e9 || math.Abs(y) > 1e9 {
		return cellXY{}, false
	}
	return cellXY{int32(x), int32(y)}, true
}

func finite(p geom.Point) bool {
	return !math.IsNaN(p.X) && !math.IsNaN(p.Y) && !math.IsInf(p.X, 0) && !math.IsInf(p.Y, 0)
}

// entry finds or makes the statistics at k; nil when the bounds forbid a
// new one. Hour entries give way first so that all-hours aggregates, which
// scoring falls back on, can still grow.
func (m *Model) entry(k statKey) *classStats {
	if s := m.stats[k]; s != nil {
		return s
	}
	limit := maxEntries
	if k.hour != allHours {
		limit = maxEntries * 3 / 4
	}
	if len(m.stats) >= limit || !m.cellRoom(k.c) {
		return nil
	}
	s := &classStats{}
	m.stats[k] = s
	return s
}

// cellRoom reports whether cell c is known or may still be added.
func (m *Model) cellRoom(c cellXY) bool {
	if _, ok := m.totals[cellKey{c, allHours}]; ok {
		return true
	}
	return m.cells < maxCells
}

// addTotal adds w to a cell's all-class track total, counting new cells.
func (m *Model) addTotal(k cellKey, w float64) {
	if _, ok := m.totals[k]; !ok && k.hour == allHours {
		if m.cells >= maxCells {
			return
		}
		m.cells++
	}
	m.totals[k] += w
}
