package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/search"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

func TestSearchCommand(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vigil.db")
	st, err := sqlite.Open(ctx, path)
	require.NoError(t, err)
	t0 := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
	_, err = st.AddTracks(ctx, []store.TrackSummary{
		{Camera: "gate", TrackID: 4, Class: "person", Start: t0, End: t0.Add(9 * time.Second),
			Appearance: &search.Appearance{Upper: []string{"red"}, Lower: []string{"black"}, Carried: []string{"backpack"}, Heading: "north"}},
		{Camera: "gate", TrackID: 5, Class: "person", Start: t0, End: t0.Add(time.Second),
			Appearance: &search.Appearance{Upper: []string{"blue"}}},
	})
	require.NoError(t, err)
	require.NoError(t, st.Close())

	var out, errs bytes.Buffer
	code := Main([]string{"search", "--sqlite", path, "red", "top", "with", "a", "backpack", "heading", "north", "wearing", "fedora"}, &out, &errs)
	require.Equal(t, 0, code, errs.String())
	require.Contains(t, out.String(), "top red, bottom black, with backpack, heading north")
	require.Contains(t, out.String(), "1 of 1 matching tracks shown")
	require.Contains(t, errs.String(), "not understood: fedora")

	out.Reset()
	code = Main([]string{"search", "--sqlite", path, "--upper", "tartan"}, &out, &errs)
	require.NotEqual(t, 0, code)
}
