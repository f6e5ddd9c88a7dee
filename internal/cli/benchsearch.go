package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/vigil-cctv/vigil/internal/search"
	"github.com/vigil-cctv/vigil/internal/service"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/postgres"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

// benchSearchCmd is `vigil bench-search`: suspect search at scale.
type benchSearchCmd struct {
	N        int    `help:"Track records to store and index." default:"1000000"`
	Dim      int    `help:"Embedding dimension (OSNet x0.25 gives 512)." default:"512"`
	Queries  int    `help:"Queries per query kind." default:"100"`
	SQLite   string `name:"sqlite" help:"SQLite database to fill (default: a temporary file)."`
	Postgres string `name:"postgres" help:"Also measure through this PostgreSQL database (DSN); it must hold no tracks yet (or give --reuse)."`
	Reuse    bool   `help:"Reuse the records already in the databases instead of writing new ones."`
	NoSQLite bool   `name:"no-sqlite" help:"Measure PostgreSQL only."`
	// Embeddings makes the vectors realistic: drawn from real crops.
	Embeddings string `help:"Draw the embeddings from these real crops (JSON lines from vigil eval reid --save-embeddings) instead of synthetic vectors: an identity is a real crop moved by a real change of view (the difference of two crops of one person), each sighting of it that plus a real change of view." type:"existingfile"`
	JSON       bool   `name:"json" help:"Print the report as JSON."`
}

// searchBenchReport is what one store measured.
type searchBenchReport struct {
	Store     string                    `json:"store"`
	Records   int                       `json:"records"`
	WriteS    float64                   `json:"write_s,omitempty"`
	BuildS    float64                   `json:"index_build_s"`
	IndexMiB  float64                   `json:"index_mib"`
	HeapMiB   float64                   `json:"heap_growth_mib"`
	LatencyMS map[string]map[string]any `json:"query_ms"`
	AllP95MS  float64                   `json:"all_queries_p95_ms"`
	CPUs      int                       `json:"cpus"`
}

func (c *benchSearchCmd) Run(e *env) error {
	if c.N < 1 || c.Dim < 8 || c.Queries < 1 {
		return fmt.Errorf("--n, --dim and --queries must be positive (dim at least 8)")
	}
	path := c.SQLite
	if path == "" {
		dir, err := os.MkdirTemp("", "vigil-bench-search")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "vigil.db")
	}
	var crops *realCrops // read once: every store gets the same records
	if c.Embeddings != "" {
		var err error
		if crops, err = loadRealCrops(c.Embeddings); err != nil {
			return err
		}
	}
	var reps []searchBenchReport
	if !c.NoSQLite {
		st, err := sqlite.Open(e.ctx, path)
		if err != nil {
			return err
		}
		rep, err := c.measure(e, "sqlite", st, crops)
		st.Close()
		if err != nil {
			return err
		}
		reps = append(reps, rep)
	}
	if c.Postgres != "" {
		pg, err := postgres.Open(e.ctx, c.Postgres)
		if err != nil {
			return err
		}
		rep, err := c.measure(e, "postgres", pg, crops)
		pg.Close()
		if err != nil {
			return err
		}
		reps = append(reps, rep)
	}
	if c.JSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(reps)
	}
	for _, r := range reps {
		fmt.Fprintf(e.stdout, "%s: %d records (write %.0f s), index build %.1f s, index %.0f MiB (heap +%.0f MiB), p95 over all queries %.1f ms\n",
			r.Store, r.Records, r.WriteS, r.BuildS, r.IndexMiB, r.HeapMiB, r.AllP95MS)
		for _, k := range slices.Sorted(maps.Keys(r.LatencyMS)) {
			l := r.LatencyMS[k]
			fmt.Fprintf(e.stdout, "  %-28s p50 %6.1f ms  p95 %6.1f ms  max %6.1f ms  mean filtered %v\n", k, l["p50"], l["p95"], l["max"], l["filtered"])
		}
	}
	return nil
}

// measure fills one store (unless reused), builds the index from it and
// times the query kinds, each answered with its top hits read back from
// the store.
func (c *benchSearchCmd) measure(e *env, name string, st store.Store, crops *realCrops) (searchBenchReport, error) {
	rep := searchBenchReport{Store: name, CPUs: runtime.NumCPU(), LatencyMS: map[string]map[string]any{}}
	ss, ok := st.(store.SearchStore)
	if !ok {
		return rep, fmt.Errorf("%s keeps no track appearance", name)
	}
	dim := c.Dim
	if crops != nil {
		dim = crops.dim
	}
	gen := newTrackGen(dim, crops)
	if !c.Reuse {
		// Writing into a store that already holds tracks would measure
		// a mix of old and new records, and the benchmark never deletes.
		if old, err := ss.SearchRecords(e.ctx, 0, 1); err != nil {
			return rep, err
		} else if len(old) > 0 {
			return rep, fmt.Errorf("%s already holds described tracks: give an empty database, or --reuse to measure them", name)
		}
		start := time.Now()
		if err := gen.write(e.ctx, ss, c.N, func(done int) { fmt.Fprintf(e.stderr, "\r%s: %d records written", name, done) }); err != nil {
			return rep, err
		}
		fmt.Fprintln(e.stderr)
		rep.WriteS = time.Since(start).Seconds()
	}
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start := time.Now()
	ix, err := service.LoadIndex(e.ctx, st)
	if err != nil {
		return rep, err
	}
	rep.BuildS = time.Since(start).Seconds()
	runtime.GC()
	runtime.ReadMemStats(&m1)
	rep.Records, rep.IndexMiB = ix.Len(), float64(ix.Bytes())/(1<<20)
	rep.HeapMiB = (float64(m1.HeapAlloc) - float64(m0.HeapAlloc)) / (1 << 20)
	var all []float64
	for _, kind := range queryKinds {
		lat, filtered, err := c.timeQueries(e.ctx, ix, ss, gen, kind)
		if err != nil {
			return rep, err
		}
		all = append(all, lat...)
		rep.LatencyMS[kind] = map[string]any{"p50": pct(lat, 0.5), "p95": pct(lat, 0.95), "max": pct(lat, 1), "filtered": filtered}
	}
	rep.AllP95MS = pct(all, 0.95)
	return rep, nil
}

// The query kinds timed: what a control room asks.
var queryKinds = []string{"attributes+30min+like", "attributes+day", "attributes+any-time+like", "like-only-any-time", "text+2h"}

func (c *benchSearchCmd) timeQueries(ctx context.Context, ix *search.Index, ss store.SearchStore, gen *trackGen, kind string) ([]float64, int, error) {
	r := rand.New(rand.NewPCG(7, uint64(len(kind))))
	var lat []float64
	var filtered int
	for range c.Queries {
		q, err := gen.query(r, kind, ix)
		if err != nil {
			return nil, 0, err
		}
		start := time.Now()
		res, err := ix.Search(q)
		if err != nil {
			return nil, 0, err
		}
		ids := make([]int64, min(len(res.Hits), 20))
		for i := range ids {
			ids[i] = res.Hits[i].ID
		}
		if _, err := ss.GetTracks(ctx, ids); err != nil {
			return nil, 0, err
		}
		lat = append(lat, float64(time.Since(start).Microseconds())/1000)
		filtered += res.Filtered
	}
	return lat, filtered / c.Queries, nil
}

func pct(v []float64, p float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	i := min(len(s)-1, int(math.Ceil(p*float64(len(s))))-1)
	return math.Round(s[max(i, 0)]*100) / 100
}

// trackGen makes realistic track records: 50 cameras over 30 days,
// people and vehicles, clothing colours and carried objects in
// proportions like the labelled PETS09 set's, synthetic embeddings
// clustered by identity (each identity seen several times).
type trackGen struct {
	dim        int
	r          *rand.Rand
	real       *realCrops // nil: synthetic vectors
	identities [][]float32
	idAttrs    []search.Appearance
	start      time.Time
}

const (
	benchCameras    = 50
	benchDays       = 30
	benchIdentities = 20000
)

// Colour and object frequencies (weights), set by hand to resemble the
// labelled PETS09 set (mostly black and blue clothing) widened to the
// other colours; vehicle colours as commonly reported for car fleets.
var (
	upperFreq   = map[string]int{"black": 30, "white": 10, "grey": 14, "red": 8, "blue": 12, "brown": 8, "green": 5, "yellow": 3, "pink": 3, "purple": 2, "orange": 2}
	lowerFreq   = map[string]int{"black": 40, "blue": 25, "grey": 15, "brown": 8, "white": 5, "green": 3, "red": 2}
	vehicleFreq = map[string]int{"white": 25, "black": 20, "grey": 25, "blue": 10, "red": 10, "brown": 4, "green": 3, "yellow": 3}
	carryFreq   = map[string]float64{"backpack": 0.15, "handbag": 0.1, "suitcase": 0.03, "umbrella": 0.03}
)

func newTrackGen(dim int, crops *realCrops) *trackGen {
	g := &trackGen{dim: dim, real: crops, r: rand.New(rand.NewPCG(13, 17)), start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	for range benchIdentities {
		g.identities = append(g.identities, g.identity())
		g.idAttrs = append(g.idAttrs, g.appearance())
	}
	return g
}

// identity makes one identity's vector.
func (g *trackGen) identity() []float32 {
	if g.real != nil {
		return g.real.moved(g.r, g.real.crop(g.r))
	}
	v := make([]float32, g.dim)
	for j := range v { // sparse, non-negative: post-ReLU features
		if g.r.Float64() < 0.4 {
			v[j] = float32(g.r.ExpFloat64())
		}
	}
	return v
}

func pick(r *rand.Rand, freq map[string]int) string {
	keys := slices.Sorted(maps.Keys(freq))
	tot := 0
	for _, k := range keys {
		tot += freq[k]
	}
	n := r.IntN(tot)
	for _, k := range keys {
		if n -= freq[k]; n < 0 {
			return k
		}
	}
	return keys[0]
}

func (g *trackGen) appearance() search.Appearance {
	a := search.Appearance{Upper: []string{pick(g.r, upperFreq)}, Lower: []string{pick(g.r, lowerFreq)},
		Heading: search.Headings[g.r.IntN(8)]}
	if g.r.Float64() < 0.2 {
		a.Upper = append(a.Upper, pick(g.r, upperFreq))
	}
	for _, k := range slices.Sorted(maps.Keys(carryFreq)) {
		if g.r.Float64() < carryFreq[k] {
			a.Carried = append(a.Carried, k)
		}
	}
	return a
}

// record makes the i-th track.
func (g *trackGen) record(i int) store.TrackSummary {
	at := g.start.Add(time.Duration(g.r.Int64N(int64(benchDays * 24 * time.Hour))))
	t := store.TrackSummary{Camera: fmt.Sprintf("cam%02d", g.r.IntN(benchCameras)), TrackID: i, Start: at,
		End: at.Add(time.Duration(5+g.r.IntN(60)) * time.Second)}
	if g.r.IntN(4) == 0 {
		t.Class = []string{"car", "car", "car", "truck", "bus", "motorcycle"}[g.r.IntN(6)]
		t.Appearance = &search.Appearance{Colours: []string{pick(g.r, vehicleFreq)}, Heading: search.Headings[g.r.IntN(8)]}
		return t
	}
	id := g.r.IntN(benchIdentities)
	a := g.idAttrs[id]
	a.Heading = search.Headings[g.r.IntN(8)]
	a.Embedding = g.perturb(g.identities[id])
	t.Class, t.Appearance = "person", &a
	return t
}

// perturb is an identity's vector seen again: with real crops, moved by a
// real change of view; else noise of about a third of its norm
// (same-identity cosine ≈ 0.7–0.9, as OSNet gives across views).
func (g *trackGen) perturb(v []float32) []float32 {
	if g.real != nil {
		return g.real.moved(g.r, v)
	}
	out := make([]float32, len(v))
	for j, x := range v {
		out[j] = max(0, x+float32(0.6*g.r.NormFloat64()))
	}
	return out
}

func (g *trackGen) write(ctx context.Context, ss store.SearchStore, n int, progress func(int)) error {
	const batch = 2000
	buf := make([]store.TrackSummary, 0, batch)
	for i := range n {
		buf = append(buf, g.record(i))
		if len(buf) == batch || i == n-1 {
			if _, err := ss.AddTracks(ctx, buf); err != nil {
				return err
			}
			buf = buf[:0]
			if (i+1)%50000 == 0 || i == n-1 {
				progress(i + 1)
			}
		}
	}
	return nil
}

// query makes one query of a kind; like vectors are fresh views of a
// stored identity.
func (g *trackGen) query(r *rand.Rand, kind string, ix *search.Index) (search.Query, error) {
	id := r.IntN(benchIdentities)
	a := g.idAttrs[id]
	t := g.start.Add(time.Duration(r.Int64N(int64((benchDays - 1) * 24 * time.Hour))))
	q := search.Query{Classes: []string{"person"}, Upper: a.Upper[:1], Lower: a.Lower, Limit: 50}
	like := search.Quantise(g.perturb(g.identities[id]))
	switch kind {
	case "attributes+30min+like":
		q.Since, q.Until, q.Like = t, t.Add(30*time.Minute), like
	case "attributes+day":
		q.Since, q.Until = t, t.Add(24*time.Hour)
	case "attributes+any-time+like":
		q.Like = like
	case "like-only-any-time":
		q = search.Query{Like: like, Limit: 50}
	case "text+2h":
		p, err := search.Parse(a.Upper[0]+" top "+a.Lower[0]+" trousers heading north", t)
		if err != nil {
			return q, err
		}
		q = p.Query
		q.Since, q.Until, q.Like = t, t.Add(2*time.Hour), like
	}
	return q, nil
}

// realCrops are embeddings of real crops by person (vigil eval reid
// --save-embeddings): what the benchmark's vectors are drawn from.
type realCrops struct {
	dim    int
	people [][][]float32 // per person, their crops (at least two each)
}

func loadRealCrops(path string) (*realCrops, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	byID := map[int][][]float32{}
	dec := json.NewDecoder(io.LimitReader(f, 1<<30))
	rc := &realCrops{}
	for n := 1; ; n++ {
		var c savedCrop
		if err := dec.Decode(&c); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("%s: crop %d: %w", path, n, err)
		}
		if rc.dim == 0 {
			rc.dim = len(c.Emb)
		}
		if len(c.Emb) != rc.dim || rc.dim < 8 {
			return nil, fmt.Errorf("%s: crop %d: embedding of %d values, want %d (at least 8)", path, n, len(c.Emb), rc.dim)
		}
		byID[c.ID] = append(byID[c.ID], c.Emb)
	}
	for _, id := range slices.Sorted(maps.Keys(byID)) {
		if len(byID[id]) >= 2 {
			rc.people = append(rc.people, byID[id])
		}
	}
	if len(rc.people) < 2 {
		return nil, fmt.Errorf("%s: need at least two people with two crops each", path)
	}
	return rc, nil
}

// crop is a random real crop.
func (rc *realCrops) crop(r *rand.Rand) []float32 {
	p := rc.people[r.IntN(len(rc.people))]
	return p[r.IntN(len(p))]
}

// moved adds to v a real change of view: the difference between two crops
// of one person, clipped at zero as OSNet's features are (post-ReLU). On
// PETS09's crops this gives same-identity cosines of 0.77–0.89 (10th–90th
// percentile; real pairs of one person 0.63–0.89) and between identities
// 0.38–0.59 (real pairs of two people 0.34–0.59).
func (rc *realCrops) moved(r *rand.Rand, v []float32) []float32 {
	p := rc.people[r.IntN(len(rc.people))]
	a, b := p[r.IntN(len(p))], p[r.IntN(len(p))]
	out := make([]float32, len(v))
	for j := range v {
		out[j] = max(0, v[j]+a[j]-b[j])
	}
	return out
}
