package search

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"sync"
)

// Index limits and tuning.
const (
	// ExactLimit is how many filtered records are ranked exactly with
	// their int8 vectors; above it a sign-code shortlist comes first.
	ExactLimit = 20000
	// minShortlist is the smallest sign-code shortlist re-ranked exactly.
	minShortlist = 2000
	// centreCap stops re-centring the sign codes once this many vectors
	// have been seen: the mean no longer moves.
	centreCap = 1 << 16
	// maxInterned bounds the distinct cameras, classes and zones.
	maxInterned = 1 << 16
)

// ErrDim is returned for a vector whose dimension differs from the
// Index's.
var ErrDim = errors.New("search: embedding dimension differs from the index's")

// Index is the in-memory, columnar suspect-search index. It is safe for
// concurrent use: queries share a read lock, Add takes the write lock.
type Index struct {
	mu sync.RWMutex

	ids        []int64
	row        map[int64]int32
	cam, class []uint16
	start, end []int64 // Unix nanoseconds
	upper      []Mask
	lower      []Mask
	colours    []Mask
	carried    []Mask
	heading    []int8
	height     []float32
	zoneOff    []uint32 // zones of record i: zoneIDs[zoneOff[i]:zoneOff[i+1]]
	zoneIDs    []uint16
	vecRow     []int32 // -1: no vector

	cams, classes, zones intern

	dim       int
	vecs      []int8    // vector rows, dim each
	norms     []float32 // Euclidean norm of each vector row
	codes     []uint64  // sign codes, words() each
	centre    []float32
	centredAt int // vectors when the centre was last computed
}

// intern numbers strings densely.
type intern struct {
	names []string
	ids   map[string]uint16
}

func (t *intern) id(s string) (uint16, error) {
	if id, ok := t.ids[s]; ok {
		return id, nil
	}
	if len(t.names) >= maxInterned {
		return 0, fmt.Errorf("search: more than %d distinct values", maxInterned)
	}
	if t.ids == nil {
		t.ids = map[string]uint16{}
	}
	id := uint16(len(t.names))
	t.ids[s], t.names = id, append(t.names, s)
	return id, nil
}

// NewIndex returns an empty index.
func NewIndex() *Index { return &Index{row: map[int64]int32{}, zoneOff: []uint32{0}} }

// Build makes an index of records; the sign codes are centred on the
// mean of the first vectors once, instead of as they arrive.
func Build(records []Record) (*Index, error) {
	ix := NewIndex()
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.grow(len(records))
	for i := range records {
		if err := ix.add(&records[i], false); err != nil {
			return nil, err
		}
	}
	ix.recentre()
	return ix, nil
}

// Len is the number of records.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.ids)
}

// Dim is the embedding dimension (0 before the first vector).
func (ix *Index) Dim() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.dim
}

// Bytes estimates the memory the index holds.
func (ix *Index) Bytes() int64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	n := int64(cap(ix.ids))*8 + int64(cap(ix.cam)+cap(ix.class))*2 + int64(cap(ix.start)+cap(ix.end))*8 +
		int64(cap(ix.upper)+cap(ix.lower)+cap(ix.colours)+cap(ix.carried))*4 + int64(cap(ix.heading)) +
		int64(cap(ix.height))*4 + int64(cap(ix.zoneOff))*4 + int64(cap(ix.zoneIDs))*2 + int64(cap(ix.vecRow))*4 +
		int64(cap(ix.vecs)) + int64(cap(ix.norms))*4 + int64(cap(ix.codes))*8 + int64(len(ix.row))*24
	return n
}

// Add appends one record; a record whose ID is already there is ignored.
func (ix *Index) Add(r Record) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.add(&r, true)
}

// Vector returns the stored vector of record id.
func (ix *Index) Vector(id int64) ([]int8, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	i, ok := ix.row[id]
	if !ok || ix.vecRow[i] < 0 {
		return nil, false
	}
	v := ix.vecRow[i]
	return append([]int8(nil), ix.vecs[int(v)*ix.dim:int(v+1)*ix.dim]...), true
}

func (ix *Index) grow(n int) {
	ix.ids = make([]int64, 0, n)
	ix.cam, ix.class = make([]uint16, 0, n), make([]uint16, 0, n)
	ix.start, ix.end = make([]int64, 0, n), make([]int64, 0, n)
	ix.upper, ix.lower, ix.colours, ix.carried = make([]Mask, 0, n), make([]Mask, 0, n), make([]Mask, 0, n), make([]Mask, 0, n)
	ix.heading, ix.height, ix.vecRow = make([]int8, 0, n), make([]float32, 0, n), make([]int32, 0, n)
	ix.zoneOff = make([]uint32, 1, n+1)
}

func (ix *Index) add(r *Record, centre bool) error {
	if _, dup := ix.row[r.ID]; dup {
		return nil
	}
	if r.Vec != nil && ix.dim != 0 && len(r.Vec) != ix.dim {
		return ErrDim
	}
	cam, err := ix.cams.id(r.Camera)
	if err != nil {
		return err
	}
	class, err := ix.classes.id(r.Class)
	if err != nil {
		return err
	}
	zones := make([]uint16, len(r.Zones))
	for i, z := range r.Zones {
		if zones[i], err = ix.zones.id(z); err != nil {
			return err
		}
	}
	ix.row[r.ID] = int32(len(ix.ids))
	ix.ids = append(ix.ids, r.ID)
	ix.cam, ix.class = append(ix.cam, cam), append(ix.class, class)
	ix.start, ix.end = append(ix.start, r.Start.UnixNano()), append(ix.end, r.End.UnixNano())
	ix.upper, ix.lower = append(ix.upper, r.Upper), append(ix.lower, r.Lower)
	ix.colours, ix.carried = append(ix.colours, r.Colours), append(ix.carried, r.Carried)
	ix.heading, ix.height = append(ix.heading, r.Heading), append(ix.height, r.HeightM)
	ix.zoneIDs = append(ix.zoneIDs, zones...)
	ix.zoneOff = append(ix.zoneOff, uint32(len(ix.zoneIDs)))
	ix.vecRow = append(ix.vecRow, ix.addVec(r.Vec, centre))
	return nil
}

// addVec stores a vector and its sign code, and returns its row.
func (ix *Index) addVec(v []int8, centre bool) int32 {
	if v == nil {
		return -1
	}
	if ix.dim == 0 {
		ix.dim = len(v)
		ix.centre = make([]float32, ix.dim)
	}
	row := int32(len(ix.vecs) / ix.dim)
	ix.vecs = append(ix.vecs, v...)
	ix.norms = append(ix.norms, norm8(v))
	ix.codes = append(ix.codes, make([]uint64, ix.words())...)
	n := int(row) + 1
	if centre && n <= centreCap && n >= 2*ix.centredAt {
		ix.recentre()
	} else {
		ix.code(ix.codes[int(row)*ix.words():], v)
	}
	return row
}

func (ix *Index) words() int { return (ix.dim + 63) / 64 }

// recentre sets the centre to the mean of the first vectors and
// recomputes every sign code.
func (ix *Index) recentre() {
	if ix.dim == 0 {
		return
	}
	n := min(len(ix.vecs)/ix.dim, centreCap)
	sum := make([]float64, ix.dim)
	for r := range n {
		for j, x := range ix.vecs[r*ix.dim : (r+1)*ix.dim] {
			sum[j] += float64(x)
		}
	}
	for j := range sum {
		ix.centre[j] = float32(sum[j] / float64(max(n, 1)))
	}
	ix.centredAt = n
	w := ix.words()
	for r := range len(ix.vecs) / ix.dim {
		ix.code(ix.codes[r*w:(r+1)*w], ix.vecs[r*ix.dim:(r+1)*ix.dim])
	}
}

// code writes the sign code of v − centre into dst.
func (ix *Index) code(dst []uint64, v []int8) {
	for w := range ix.words() {
		dst[w] = 0
	}
	for j, x := range v {
		if float32(x) > ix.centre[j] {
			dst[j/64] |= 1 << (j % 64)
		}
	}
}

// hamming is the Hamming distance of two sign codes.
func hamming(a, b []uint64) int {
	d := 0
	for i := range a {
		d += bits.OnesCount64(a[i] ^ b[i])
	}
	return d
}

// norm8 is the Euclidean norm of an int8 vector.
func norm8(v []int8) float32 { return float32(math.Sqrt(float64(dot8(v, v)))) }
