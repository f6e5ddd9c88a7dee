package search

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)

func rec(id int64, cam string, min int, a Appearance) Record {
	return RecordOf(id, cam, "person", t0.Add(time.Duration(min)*time.Minute), t0.Add(time.Duration(min+1)*time.Minute), a)
}

func unit(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func TestFilterAndMatch(t *testing.T) {
	ix := NewIndex()
	require.NoError(t, ix.Add(rec(1, "cam1", 0, Appearance{Upper: []string{"red"}, Lower: []string{"black"}, Carried: []string{"backpack"}, Heading: "north"})))
	require.NoError(t, ix.Add(rec(2, "cam2", 10, Appearance{Upper: []string{"red", "white"}, Lower: []string{"blue"}, Heading: "north-east"})))
	require.NoError(t, ix.Add(rec(3, "cam1", 40, Appearance{Upper: []string{"blue"}, Lower: []string{"black"}, Heading: "south", HeightM: 1.85})))
	ids := func(q Query) []int64 {
		res, err := ix.Search(q)
		require.NoError(t, err)
		var out []int64
		for _, h := range res.Hits {
			out = append(out, h.ID)
		}
		return out
	}
	require.Equal(t, []int64{3, 2, 1}, ids(Query{}), "newest first without a vector")
	require.Equal(t, []int64{2, 1}, ids(Query{Upper: []string{"red"}}))
	require.Equal(t, []int64{1}, ids(Query{Upper: []string{"red"}, Lower: []string{"black"}, Carried: []string{"backpack"}}))
	require.Equal(t, []int64{2, 1}, ids(Query{Heading: "north"}), "north-east is near north")
	require.Equal(t, []int64{3, 1}, ids(Query{Cameras: []string{"cam1"}}))
	require.Equal(t, []int64{2}, ids(Query{Since: t0.Add(5 * time.Minute), Until: t0.Add(30 * time.Minute)}))
	require.Equal(t, []int64{3}, ids(Query{MinHeightM: 1.8}))
	require.Empty(t, ids(Query{Cameras: []string{"nope"}}))
	// Partial matches, ranked by score, with what matched.
	res, err := ix.Search(Query{Upper: []string{"red"}, Lower: []string{"black"}, MinMatch: 0.5})
	require.NoError(t, err)
	require.Len(t, res.Hits, 3)
	require.Equal(t, int64(1), res.Hits[0].ID)
	require.Equal(t, []string{"upper:red", "lower:black"}, res.Hits[0].Matched)
	require.Equal(t, 0.5, res.Hits[1].Score)
	require.Equal(t, []string{"upper:red"}, res.Hits[1].Missed, "the newer of the two half matches")
}

func TestValidate(t *testing.T) {
	ix := NewIndex()
	for _, q := range []Query{{Upper: []string{"tartan"}}, {Carried: []string{"dog"}}, {Heading: "up"},
		{MinMatch: 2}, {Limit: MaxLimit + 1}, {Since: t0, Until: t0}, {LikeID: 7}} {
		_, err := ix.Search(q)
		require.Error(t, err, "%+v", q)
	}
}

// TestSimilarityRanking: exact ranking below ExactLimit, and the sign
// shortlist above it finds the same nearest neighbours.
func TestSimilarityRanking(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const dim, n = 64, ExactLimit + 5000
	base := unit(r, dim)
	recs := make([]Record, n)
	for i := range recs {
		v := unit(r, dim)
		for j := range v {
			v[j] = 0.5*v[j] + 1 // a common offset, as ReLU features have
		}
		recs[i] = rec(int64(i+1), "cam1", i%60, Appearance{Embedding: v})
	}
	// Ten near copies of base.
	for k := range 10 {
		v := make([]float32, dim)
		for j := range v {
			v[j] = base[j] + 0.05*float32(r.NormFloat64()) + 1
		}
		recs[k*1000].Vec = Quantise(v)
	}
	ix, err := Build(recs)
	require.NoError(t, err)
	like := make([]float32, dim)
	for j := range like {
		like[j] = base[j] + 1
	}
	res, err := ix.Search(Query{Like: Quantise(like), Limit: 10})
	require.NoError(t, err)
	require.Equal(t, n, res.Filtered)
	require.Less(t, res.Ranked, n, "a shortlist was used")
	got := map[int64]bool{}
	for _, h := range res.Hits {
		got[h.ID] = true
		require.Greater(t, h.Similarity, 0.9)
	}
	for k := range 10 {
		require.True(t, got[int64(k*1000+1)], "near copy %d found", k)
	}
	// More like this by id.
	res, err = ix.Search(Query{LikeID: 2, Limit: 1})
	require.NoError(t, err)
	require.Equal(t, int64(2), res.Hits[0].ID)
	require.InDelta(t, 1, res.Hits[0].Similarity, 0.02)
	// Incremental adds give the same answer as Build.
	inc := NewIndex()
	for _, rc := range recs[:3000] {
		require.NoError(t, inc.Add(rc))
	}
	require.ErrorIs(t, inc.Add(Record{ID: -1, Vec: make([]int8, dim+1)}), ErrDim)
	a, err := inc.Search(Query{LikeID: 2001, Limit: 5})
	require.NoError(t, err)
	require.Equal(t, int64(2001), a.Hits[0].ID)
}

func TestHeadingOf(t *testing.T) {
	for _, c := range []struct {
		dx, dy float64
		want   string
	}{{0, 1, "north"}, {1, 1, "north-east"}, {1, 0, "east"}, {0, -1, "south"}, {-1, 0, "west"}, {-1, 1, "north-west"}, {0.2, 1, "north"}} {
		got, ok := HeadingOf(c.dx, c.dy)
		require.True(t, ok)
		require.Equal(t, c.want, got, "%v,%v", c.dx, c.dy)
	}
	_, ok := HeadingOf(0, 0)
	require.False(t, ok)
}

func TestParse(t *testing.T) {
	ref := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	p, err := Parse("A man in a red top, black trousers with a backpack heading north between 14:00 and 14:30 camera cam1", ref)
	require.NoError(t, err)
	q := p.Query
	require.Equal(t, []string{"red"}, q.Upper)
	require.Equal(t, []string{"black"}, q.Lower)
	require.Equal(t, []string{"backpack"}, q.Carried)
	require.Equal(t, "north", q.Heading)
	require.Equal(t, []string{"person"}, q.Classes)
	require.Equal(t, []string{"cam1"}, q.Cameras)
	require.Equal(t, t0, q.Since)
	require.Equal(t, t0.Add(30*time.Minute), q.Until)
	require.Empty(t, p.Unknown)

	p, err = Parse("red and white jacket, navy jeans, gray rucksack umbrella taller than 1.8 m going sw", ref)
	require.NoError(t, err)
	require.Equal(t, []string{"red", "white"}, p.Query.Upper)
	require.Equal(t, []string{"blue"}, p.Query.Lower)
	require.Equal(t, []string{"grey rucksack"}, p.Unknown, "the colour of a carried object is not recorded")
	require.Equal(t, []string{"backpack", "umbrella"}, p.Query.Carried)
	require.Equal(t, 1.8, p.Query.MinHeightM)
	require.Equal(t, "south-west", p.Query.Heading)

	p, err = Parse("white van heading east wearing sombrero", ref)
	require.NoError(t, err)
	require.Equal(t, []string{"white"}, p.Query.Colours)
	require.Equal(t, []string{"car"}, p.Query.Classes)
	require.Equal(t, []string{"sombrero"}, p.Unknown)

	_, err = Parse("between 15:00 and 14:00", ref)
	require.Error(t, err)
	_, err = Parse(string(make([]byte, MaxTextLen+1)), ref)
	require.Error(t, err)
}

// FuzzParse: any text is answered without panic, in bounded time and
// memory, with a query that validates.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"red top black trousers backpack heading north", "between 14:00 and 24:00",
		"taller than", "camera", "heading", "white van", "99:99 after 1:5 before 23:59", "über Ärger 😀"} {
		f.Add(s)
	}
	ref := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s, ref)
		if len(s) > MaxTextLen {
			require.Error(t, err)
			return
		}
		if err != nil {
			return
		}
		require.NoError(t, p.Query.Validate())
		require.LessOrEqual(t, len(p.Unknown), maxTextTokens+1)
		require.LessOrEqual(t, len(p.Query.Upper)+len(p.Query.Lower)+len(p.Query.Colours), 3*len(Colours))
	})
}

// TestParseBounded: the worst inputs of the largest allowed size parse
// with a bounded number of allocations (the parser's work is linear in
// the at most 64 words it reads; no clock is used to bound it).
func TestParseBounded(t *testing.T) {
	ref := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, unit := range []string{"a ", "red ", "red top ", "camera ", "taller than ", "between 14:00 and ", "xyzzy-"} {
		s := ""
		for len(s)+len(unit) <= MaxTextLen {
			s += unit
		}
		allocs := testing.AllocsPerRun(20, func() { _, _ = Parse(s, ref) })
		require.Less(t, allocs, 600.0, "%q×%d", unit, len(s)/len(unit))
	}
}
