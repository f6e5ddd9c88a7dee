package search

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Query limits.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Query is one suspect search. Empty fields do not filter.
type Query struct {
	// Classes keeps these track classes; "vehicle" stands for every
	// vehicle type.
	Classes []string `json:"classes,omitempty"`
	Cameras []string `json:"cameras,omitempty"`
	// Since and Until keep tracks seen at some time in [Since, Until).
	Since time.Time `json:"since,omitzero"`
	Until time.Time `json:"until,omitzero"`
	// Zones keeps tracks that entered one of these zones.
	Zones []string `json:"zones,omitempty"`
	// Upper, Lower, Colours and Carried are the asked attributes; they
	// are scored, and a record must match MinMatch of them.
	Upper   []string `json:"upper,omitempty"`
	Lower   []string `json:"lower,omitempty"`
	Colours []string `json:"colours,omitempty"`
	Carried []string `json:"carried,omitempty"`
	// Heading keeps tracks going that way (or 45° either side).
	Heading string `json:"heading,omitempty"`
	// MinHeightM and MaxHeightM keep persons of known height in range.
	MinHeightM float64 `json:"min_height_m,omitempty"`
	MaxHeightM float64 `json:"max_height_m,omitempty"`
	// MinMatch is the fraction of the asked attributes a record must
	// match, in (0, 1]; 0 means 1 (all).
	MinMatch float64 `json:"min_match,omitempty"`
	// Like ranks by similarity to this quantised vector; LikeID takes
	// the vector of a stored track ("more like this").
	Like   []int8 `json:"-"`
	LikeID int64  `json:"like_id,omitempty"`
	// Limit caps the hits (default DefaultLimit, at most MaxLimit).
	Limit int `json:"limit,omitempty"`
}

// Validate checks the names and ranges of q.
func (q *Query) Validate() error {
	for _, set := range []struct {
		what         string
		names, vocab []string
	}{{"upper colour", q.Upper, Colours}, {"lower colour", q.Lower, Colours},
		{"vehicle colour", q.Colours, Colours}, {"carried object", q.Carried, Carried}} {
		for _, n := range set.names {
			if !slices.Contains(set.vocab, n) {
				return fmt.Errorf("unknown %s %q (known: %v)", set.what, n, set.vocab)
			}
		}
	}
	if q.Heading != "" && HeadingIndex(q.Heading) < 0 {
		return fmt.Errorf("unknown heading %q (known: %v)", q.Heading, Headings)
	}
	if q.MinMatch < 0 || q.MinMatch > 1 {
		return fmt.Errorf("min_match %v is not in [0, 1]", q.MinMatch)
	}
	if q.Limit < 0 || q.Limit > MaxLimit {
		return fmt.Errorf("limit %d is not in [0, %d]", q.Limit, MaxLimit)
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		return fmt.Errorf("until %s is not after since %s", q.Until, q.Since)
	}
	return nil
}

// Hit is one found track.
type Hit struct {
	ID     int64     `json:"id"`
	Camera string    `json:"camera"`
	Class  string    `json:"class"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	// Score is the fraction of the asked attributes matched (1 when none
	// was asked); Matched and Missed name them ("upper:red").
	Score   float64  `json:"score"`
	Matched []string `json:"matched,omitempty"`
	Missed  []string `json:"missed,omitempty"`
	// Similarity is the cosine similarity to the Like vector (0 without).
	Similarity float64 `json:"similarity"`
}

// Result is a query's answer.
type Result struct {
	Hits []Hit `json:"hits"`
	// Filtered is how many records passed the filters and the match
	// threshold; Ranked how many were compared exactly by vector.
	Filtered int `json:"filtered"`
	Ranked   int `json:"ranked"`
}

// compiled is a query resolved against the index's interned names.
type compiled struct {
	cams, classes, zones []bool // nil: any
	since, until         int64
	upper, lower, colour Mask
	carried              Mask
	asked                int
	need                 int
	heading              int
	minH, maxH           float32
}

// Search runs q. A LikeID that is not in the index, or has no vector,
// is an error.
func (ix *Index) Search(q Query) (Result, error) {
	if err := q.Validate(); err != nil {
		return Result{}, err
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	like := q.Like
	if q.LikeID != 0 {
		i, ok := ix.row[q.LikeID]
		if !ok || ix.vecRow[i] < 0 {
			return Result{}, fmt.Errorf("track %d has no stored appearance vector", q.LikeID)
		}
		v := int(ix.vecRow[i])
		like = ix.vecs[v*ix.dim : (v+1)*ix.dim]
	}
	if like != nil && len(like) != ix.dim {
		return Result{}, ErrDim
	}
	c := ix.compile(&q)
	rows := ix.filter(&c, like != nil)
	res := Result{Filtered: len(rows)}
	limit := cmp.Or(q.Limit, DefaultLimit)
	hits := ix.rank(rows, like, &c, limit, &res)
	if len(hits) > limit {
		hits = hits[:limit]
	}
	for i := range hits {
		ix.describe(&hits[i], &c)
	}
	res.Hits = hits
	return res, nil
}

func (ix *Index) compile(q *Query) compiled {
	c := compiled{heading: -1, upper: MaskOf(Colours, q.Upper), lower: MaskOf(Colours, q.Lower),
		colour: MaskOf(Colours, q.Colours), carried: MaskOf(Carried, q.Carried),
		minH: float32(q.MinHeightM), maxH: float32(q.MaxHeightM)}
	c.asked = c.upper.Count() + c.lower.Count() + c.colour.Count() + c.carried.Count()
	minMatch := q.MinMatch
	if minMatch == 0 {
		minMatch = 1
	}
	c.need = int(float64(c.asked)*minMatch + 0.999999)
	classes := expandClasses(q.Classes)
	c.cams, c.classes, c.zones = ix.cams.set(q.Cameras), ix.classes.set(classes), ix.zones.set(q.Zones)
	c.since, c.until = -1<<63, 1<<63-1
	if !q.Since.IsZero() {
		c.since = q.Since.UnixNano()
	}
	if !q.Until.IsZero() {
		c.until = q.Until.UnixNano()
	}
	if q.Heading != "" {
		c.heading = HeadingIndex(q.Heading)
	}
	return c
}

func expandClasses(cs []string) []string {
	var out []string
	for _, c := range cs {
		if c == "vehicle" || c == "vehicles" {
			out = append(out, VehicleTypes...)
			continue
		}
		out = append(out, c)
	}
	return out
}

// set marks the interned ids of names; nil when names is empty (any).
func (t *intern) set(names []string) []bool {
	if len(names) == 0 {
		return nil
	}
	s := make([]bool, len(t.names))
	for _, n := range names {
		if id, ok := t.ids[n]; ok {
			s[id] = true
		}
	}
	return s
}

// filter returns the rows passing every condition; vec keeps only rows
// with a vector.
func (ix *Index) filter(c *compiled, vec bool) []int32 {
	var out []int32
	for i := range ix.ids {
		if vec && ix.vecRow[i] < 0 {
			continue
		}
		if ix.end[i] < c.since || ix.start[i] >= c.until {
			continue
		}
		if (c.cams != nil && !c.cams[ix.cam[i]]) || (c.classes != nil && !c.classes[ix.class[i]]) {
			continue
		}
		if c.asked > 0 && ix.matched(i, c) < c.need {
			continue
		}
		if !ix.passRest(i, c) {
			continue
		}
		out = append(out, int32(i))
	}
	return out
}

// matched counts the asked attributes record i has.
func (ix *Index) matched(i int, c *compiled) int {
	return (ix.upper[i] & c.upper).Count() + (ix.lower[i] & c.lower).Count() +
		(ix.colours[i] & c.colour).Count() + (ix.carried[i] & c.carried).Count()
}

// passRest checks heading, height and zones.
func (ix *Index) passRest(i int, c *compiled) bool {
	if c.heading >= 0 && (ix.heading[i] < 0 || !headingNear(int(ix.heading[i]), c.heading)) {
		return false
	}
	if h := ix.height[i]; (c.minH > 0 || c.maxH > 0) && (h <= 0 || (c.minH > 0 && h < c.minH) || (c.maxH > 0 && h > c.maxH)) {
		return false
	}
	if c.zones != nil {
		for _, z := range ix.zoneIDs[ix.zoneOff[i]:ix.zoneOff[i+1]] {
			if c.zones[z] {
				return true
			}
		}
		return false
	}
	return true
}

// rank orders the filtered rows: by similarity when there is a vector,
// else by attribute score and recency; ties by id, newest first.
func (ix *Index) rank(rows []int32, like []int8, c *compiled, limit int, res *Result) []Hit {
	if like != nil && len(rows) > ExactLimit {
		rows = ix.shortlist(rows, like, max(minShortlist, 40*limit))
	}
	hits := make([]Hit, len(rows))
	var qn float32
	if like != nil {
		qn = norm8(like)
	}
	for k, i := range rows {
		h := Hit{ID: ix.ids[i], Start: time.Unix(0, ix.start[i]).UTC(), End: time.Unix(0, ix.end[i]).UTC(), Score: 1}
		if c.asked > 0 {
			h.Score = float64(ix.matched(int(i), c)) / float64(c.asked)
		}
		if like != nil {
			v := int(ix.vecRow[i])
			if d := qn * ix.norms[v]; d > 0 {
				h.Similarity = float64(dot8(like, ix.vecs[v*ix.dim:(v+1)*ix.dim])) / float64(d)
			}
			res.Ranked++
		}
		hits[k] = h
	}
	slices.SortFunc(hits, func(a, b Hit) int {
		return cmp.Or(cmp.Compare(b.Similarity, a.Similarity), cmp.Compare(b.Score, a.Score), b.End.Compare(a.End),
			cmp.Compare(b.ID, a.ID))
	})
	return hits
}

// shortlist keeps the n rows whose sign codes are nearest the query's.
func (ix *Index) shortlist(rows []int32, like []int8, n int) []int32 {
	w := ix.words()
	qc := make([]uint64, w)
	ix.code(qc, like)
	dist := make([]uint16, len(rows))
	hist := make([]int, w*64+1)
	for k, i := range rows {
		v := int(ix.vecRow[i])
		d := hamming(qc, ix.codes[v*w:(v+1)*w])
		dist[k] = uint16(d)
		hist[d]++
	}
	cut, seen := 0, 0
	for cut = range hist {
		if seen += hist[cut]; seen >= n {
			break
		}
	}
	out := make([]int32, 0, seen)
	for k, i := range rows {
		if int(dist[k]) <= cut {
			out = append(out, i)
		}
	}
	return out
}

// describe fills a hit's names, score and matched attributes.
func (ix *Index) describe(h *Hit, c *compiled) {
	i := int(ix.row[h.ID])
	h.Camera, h.Class = ix.cams.names[ix.cam[i]], ix.classes.names[ix.class[i]]
	for _, part := range []struct {
		prefix     string
		asked, has Mask
		vocab      []string
	}{{"upper", c.upper, ix.upper[i], Colours}, {"lower", c.lower, ix.lower[i], Colours},
		{"colour", c.colour, ix.colours[i], Colours}, {"carried", c.carried, ix.carried[i], Carried}} {
		for _, n := range (part.asked & part.has).Names(part.vocab) {
			h.Matched = append(h.Matched, part.prefix+":"+n)
		}
		for _, n := range (part.asked &^ part.has).Names(part.vocab) {
			h.Missed = append(h.Missed, part.prefix+":"+n)
		}
	}
	if c.heading >= 0 {
		h.Matched = append(h.Matched, "heading:"+Headings[ix.heading[i]])
	}
}

// Merge adds what a parsed text asked (p) to an explicit query q: lists
// are joined (sorted, without repeats), q's scalars win where set.
func (q Query) Merge(p Query) Query {
	join := func(a, b []string) []string {
		return slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(a), b...))))
	}
	q.Classes, q.Cameras, q.Zones = join(q.Classes, p.Classes), join(q.Cameras, p.Cameras), join(q.Zones, p.Zones)
	q.Upper, q.Lower = join(q.Upper, p.Upper), join(q.Lower, p.Lower)
	q.Colours, q.Carried = join(q.Colours, p.Colours), join(q.Carried, p.Carried)
	if q.Heading == "" {
		q.Heading = p.Heading
	}
	if q.Since.IsZero() {
		q.Since = p.Since
	}
	if q.Until.IsZero() {
		q.Until = p.Until
	}
	if q.MinHeightM == 0 {
		q.MinHeightM = p.MinHeightM
	}
	if q.MaxHeightM == 0 {
		q.MaxHeightM = p.MaxHeightM
	}
	return q
}
