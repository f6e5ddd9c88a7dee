package track

import (
	"cmp"
	"math"
	"slices"

	"github.com/vigil-cctv/vigil/internal/assign"
	"github.com/vigil-cctv/vigil/internal/geom"
)

// side is one side of an association problem, as parallel slices so that
// tracks and detections go through the same code.
type side struct {
	boxes  []geom.Box
	groups []int
	scores []float32 // used only for score fusion
}

func (s *side) reset() {
	s.boxes, s.groups, s.scores = s.boxes[:0], s.groups[:0], s.scores[:0]
}

func (s *side) add(b geom.Box, group int, score float32) {
	s.boxes = append(s.boxes, b)
	s.groups = append(s.groups, group)
	s.scores = append(s.scores, score)
}

// pair is an admissible (row, column) pairing and its cost 1 − IoU.
type pair struct {
	r, c int
	root int // connected component, set by clusters
	cost float64
	iou  float64 // plain box IoU, before score fusion
}

// byLeft is a column position keyed by its box's left edge.
type byLeft struct {
	x float64
	c int
}

// matcher solves association problems. It keeps its buffers between
// frames so that a steady stream of frames allocates little.
type matcher struct {
	rows, cols side
	sorted     []byLeft
	pairs      []pair
	spare      []pair // second buffer for reordering pairs
	parent     []int
	rowLocal   []int
	colLocal   []int
	flat       []float64
	dense      [][]float64
}

// match pairs rows with columns, each at most once, among pairs of the
// same class group whose IoU (times the column score when fuse is set) is
// at least minIoU, minimising the total 1 − IoU. It returns, for each row,
// its column or -1, and for each column, its row or -1.
//
// refine, when not nil, may lower the costs of the pairs once they are
// grouped into connected components (pairs of one component are
// contiguous and share root) and before any component is solved; the set
// of pairs, and so the components, stay as they are.
func (m *matcher) match(minIoU float64, fuse bool, refine func([]pair)) (rowTo, colTo []int) {
	rowTo = filled(len(m.rows.boxes), -1)
	colTo = filled(len(m.cols.boxes), -1)
	m.gatedPairs(1-minIoU, fuse)
	if len(m.pairs) == 0 {
		return rowTo, colTo
	}
	m.clusters()
	if refine != nil {
		refine(m.pairs)
	}
	for start := 0; start < len(m.pairs); {
		end := start + 1
		for end < len(m.pairs) && m.pairs[end].root == m.pairs[start].root {
			end++
		}
		m.solveCluster(m.pairs[start:end], 1-minIoU, rowTo, colTo)
		start = end
	}
	return rowTo, colTo
}

// gatedPairs lists admissible pairs without scoring every row against
// every column: columns are sorted by left edge, so a row only scans those
// whose left edge lies within one column-width of its own.
func (m *matcher) gatedPairs(maxCost float64, fuse bool) {
	m.pairs = m.pairs[:0]
	maxW := m.sortColumns()
	for r := range m.rows.boxes {
		m.scanRow(r, maxW, maxCost, fuse)
	}
}

// sortColumns orders the columns by left edge and returns the widest
// column's width, which bounds how far left an overlapping box can start.
func (m *matcher) sortColumns() (maxW float64) {
	m.sorted = m.sorted[:0]
	for c, b := range m.cols.boxes {
		m.sorted = append(m.sorted, byLeft{x: b.X, c: c})
		maxW = math.Max(maxW, b.W)
	}
	slices.SortFunc(m.sorted, func(a, b byLeft) int { return cmp.Compare(a.x, b.x) })
	return maxW
}

// scanRow appends the admissible pairs of row r.
func (m *matcher) scanRow(r int, maxW, maxCost float64, fuse bool) {
	rb, group := m.rows.boxes[r], m.rows.groups[r]
	lo, _ := slices.BinarySearchFunc(m.sorted, rb.X-maxW, func(e byLeft, x float64) int { return cmp.Compare(e.x, x) })
	right := rb.X2()
	for _, e := range m.sorted[lo:] {
		if e.x >= right {
			break
		}
		cb := &m.cols.boxes[e.c]
		// Cheap rejections first: most boxes in the window do not
		// overlap at all, and IoU is the costly part of the scan.
		if m.cols.groups[e.c] != group || cb.X2() <= rb.X || cb.Y >= rb.Y2() || cb.Y2() <= rb.Y {
			continue
		}
		raw := rb.IoU(*cb)
		iou := raw
		if fuse {
			iou *= float64(m.cols.scores[e.c])
		}
		if cost := 1 - iou; iou > 0 && cost <= maxCost {
			m.pairs = append(m.pairs, pair{r: r, c: e.c, cost: cost, iou: raw})
		}
	}
}

// clusters groups pairs into connected components (union-find over rows
// and columns) and reorders them so each component is contiguous.
// Components are independent assignment problems, and solving many small
// ones is far cheaper than one dense problem, the Hungarian method being
// cubic. The reordering is a stable counting sort, so the result depends
// only on the input order.
func (m *matcher) clusters() {
	nr := len(m.rows.boxes)
	n := nr + len(m.cols.boxes)
	m.parent = m.parent[:0]
	for i := 0; i < n; i++ {
		m.parent = append(m.parent, i)
	}
	for _, p := range m.pairs {
		a, b := m.find(p.r), m.find(nr+p.c)
		if a != b {
			m.parent[a] = b
		}
	}
	// Reuse rowLocal as the per-root bucket start: count, prefix, scatter.
	m.rowLocal = grow(m.rowLocal, n+1)
	start := m.rowLocal[:n+1]
	clear(start)
	for i := range m.pairs {
		m.pairs[i].root = m.find(m.pairs[i].r)
		start[m.pairs[i].root+1]++
	}
	for i := 1; i <= n; i++ {
		start[i] += start[i-1]
	}
	m.spare = grow(m.spare, len(m.pairs))
	for _, p := range m.pairs {
		m.spare[start[p.root]] = p
		start[p.root]++
	}
	m.pairs, m.spare = m.spare, m.pairs
}

// find is union-find's root lookup with path halving.
func (m *matcher) find(i int) int {
	for m.parent[i] != i {
		m.parent[i] = m.parent[m.parent[i]]
		i = m.parent[i]
	}
	return i
}

// solveCluster solves one connected component and records its matches.
func (m *matcher) solveCluster(ps []pair, maxCost float64, rowTo, colTo []int) {
	if len(ps) == 1 { // by far the common case: an isolated object
		rowTo[ps[0].r], colTo[ps[0].c] = ps[0].c, ps[0].r
		return
	}
	rowsOf, colsOf := m.localIndices(ps)
	cost := m.denseMatrix(len(rowsOf), len(colsOf))
	for _, p := range ps {
		cost[m.rowLocal[p.r]][m.colLocal[p.c]] = p.cost
	}
	for lr, lc := range assign.Solve(cost, maxCost) {
		if lc >= 0 {
			r, c := rowsOf[lr], colsOf[lc]
			rowTo[r], colTo[c] = c, r
		}
	}
}

// localIndices numbers the rows and columns of a component from 0 and
// returns the global index of each local one.
func (m *matcher) localIndices(ps []pair) (rowsOf, colsOf []int) {
	m.rowLocal = grow(m.rowLocal, len(m.rows.boxes))
	m.colLocal = grow(m.colLocal, len(m.cols.boxes))
	for _, p := range ps {
		m.rowLocal[p.r], m.colLocal[p.c] = -1, -1
	}
	for _, p := range ps {
		if m.rowLocal[p.r] < 0 {
			m.rowLocal[p.r] = len(rowsOf)
			rowsOf = append(rowsOf, p.r)
		}
		if m.colLocal[p.c] < 0 {
			m.colLocal[p.c] = len(colsOf)
			colsOf = append(colsOf, p.c)
		}
	}
	return rowsOf, colsOf
}

// denseMatrix returns an nr×nc matrix of forbidden cells backed by the
// matcher's scratch space.
func (m *matcher) denseMatrix(nr, nc int) [][]float64 {
	m.flat = grow(m.flat, nr*nc)
	for i := range m.flat[:nr*nc] {
		m.flat[i] = assign.Forbidden
	}
	m.dense = m.dense[:0]
	for r := 0; r < nr; r++ {
		m.dense = append(m.dense, m.flat[r*nc:(r+1)*nc:(r+1)*nc])
	}
	return m.dense
}

// grow returns s with length at least n, reusing its storage.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

func filled(n, v int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = v
	}
	return s
}
