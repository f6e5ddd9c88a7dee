package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/reideval"
)

func writeCrops(t *testing.T, crops []savedCrop) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "crops.jsonl")
	var buf bytes.Buffer
	for _, c := range crops {
		require.NoError(t, json.NewEncoder(&buf).Encode(c))
	}
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o600))
	return path
}

func vec(vals ...float32) []float32 {
	v := make([]float32, 8)
	copy(v, vals)
	return v
}

// TestBenchSearchDrawsFromRealCrops: with --embeddings every vector is
// a saved crop moved by real changes of view, non-negative like OSNet's,
// of the crops' dimension; a file it cannot use is refused by name.
func TestBenchSearchDrawsFromRealCrops(t *testing.T) {
	crops := []savedCrop{
		{ID: 1, Frame: 0, Emb: vec(1, 0, 0.5)}, {ID: 1, Frame: 2, Emb: vec(0.8, 0.1, 0.5)},
		{ID: 2, Frame: 0, Emb: vec(0, 1, 0, 0.3)}, {ID: 2, Frame: 4, Emb: vec(0, 0.9, 0.2, 0.3)},
		{ID: 3, Frame: 0, Emb: vec(0, 0, 1)}, // one crop: cannot give a change of view
	}
	rc, err := loadRealCrops(writeCrops(t, crops))
	require.NoError(t, err)
	require.Equal(t, 8, rc.dim)
	require.Len(t, rc.people, 2)
	g := newTrackGen(rc.dim, rc)
	for i := range 200 {
		r := g.record(i)
		if r.Class != "person" {
			continue
		}
		require.Len(t, r.Appearance.Embedding, 8)
		for _, x := range r.Appearance.Embedding {
			require.GreaterOrEqual(t, x, float32(0))
		}
	}

	for _, bad := range []struct {
		crops []savedCrop
		want  string
	}{
		{[]savedCrop{{ID: 1, Emb: vec(1)}, {ID: 1, Emb: []float32{1, 2}}}, "embedding of 2 values, want 8"},
		{[]savedCrop{{ID: 1, Emb: vec(1)}, {ID: 1, Emb: vec(2)}}, "at least two people"},
	} {
		_, err := loadRealCrops(writeCrops(t, bad.crops))
		require.ErrorContains(t, err, bad.want)
	}
	path := filepath.Join(t.TempDir(), "junk.jsonl")
	require.NoError(t, os.WriteFile(path, []byte("{\"id\":1,\"emb\":[1,2,\n"), 0o600))
	_, err = loadRealCrops(path)
	require.ErrorContains(t, err, "crop 1")

	var out, errs bytes.Buffer
	code := Main([]string{"bench-search", "--n", "300", "--queries", "3", "--embeddings", writeCrops(t, crops), "--json"}, &out, &errs)
	require.Equal(t, 0, code, errs.String())
	var reps []searchBenchReport
	require.NoError(t, json.Unmarshal(out.Bytes(), &reps))
	require.Len(t, reps, 1)
	require.Equal(t, 300, reps[0].Records)

	// A database that already holds tracks is measured only with --reuse.
	db := filepath.Join(t.TempDir(), "s.db")
	args := []string{"bench-search", "--n", "50", "--queries", "2", "--sqlite", db, "--embeddings", writeCrops(t, crops)}
	require.Equal(t, 0, Main(args, &out, &errs), errs.String())
	errs.Reset()
	require.Equal(t, 1, Main(args, &out, &errs))
	require.Contains(t, errs.String(), "already holds described tracks")
	require.Equal(t, 0, Main(append(args, "--reuse"), &out, &errs), errs.String())
}

// TestSaveSamplesRoundTrips: what eval reid saves is what bench-search
// reads.
func TestSaveSamplesRoundTrips(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crops.jsonl")
	samples := []reideval.Sample{{ID: 4, Frame: 10, Emb: vec(1, 2)}, {ID: 5, Frame: 12, Emb: vec(3)}, {ID: 5, Frame: 14, Emb: vec(0, 3)}, {ID: 4, Frame: 16, Emb: vec(1)}}
	require.NoError(t, saveSamples(path, samples))
	rc, err := loadRealCrops(path)
	require.NoError(t, err)
	require.Equal(t, [][][]float32{{vec(1, 2), vec(1)}, {vec(3), vec(0, 3)}}, rc.people)
}
