package service

import (
	"context"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

type baselineView struct {
	Warm          bool  `json:"warm"`
	LearnedTracks int64 `json:"learned_tracks"`
}

func getBaseline(t *testing.T, base string) (baselineView, int) {
	t.Helper()
	r, err := http.Get(base + "/api/v1/cameras/plaza/baseline")
	require.NoError(t, err)
	defer r.Body.Close()
	var v baselineView
	if r.StatusCode == http.StatusOK {
		require.NoError(t, json.NewDecoder(r.Body).Decode(&v))
	}
	return v, r.StatusCode
}

// TestBaselineLearnsPersistsAndDraws runs the sample camera until its
// baseline has learned tracks, draws the heatmap through the API, stops
// the service and starts it again: the baseline comes back from the store
// with everything it had learned.
func TestBaselineLearnsPersistsAndDraws(t *testing.T) {
	model := testModel(t)
	dir := t.TempDir()
	cfgYAML := plazaConfig(dir, "anomaly: {warmup: 30s, save_every: 1s}")
	base, stop := startService(t, model, cfgYAML)
	var learned baselineView
	require.Eventually(t, func() bool {
		v, code := getBaseline(t, base)
		learned = v
		return code == http.StatusOK && v.LearnedTracks >= 3
	}, hangTimeout, 500*time.Millisecond, "the camera learns finished tracks")
	require.Eventually(t, func() bool {
		r, err := http.Get(base + "/metrics")
		if err != nil {
			return false
		}
		defer r.Body.Close()
		body, _ := io.ReadAll(r.Body)
		return regexp.MustCompile(`(?m)^vigil_baseline_learned_tracks\{camera="plaza"\} [1-9]`).Match(body) &&
			regexp.MustCompile(`(?m)^vigil_baseline_model_seconds\{camera="plaza"\} [0-9.e+]+$`).Match(body)
	}, hangTimeout, 500*time.Millisecond, "the saved baseline's figures are metrics")

	r, err := http.Get(base + "/api/v1/cameras/plaza/baseline/heatmap.png?kind=occupancy&class=person")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.StatusCode)
	img, err := png.Decode(r.Body)
	r.Body.Close()
	require.NoError(t, err)
	require.Equal(t, 768, img.Bounds().Dx(), "the heatmap covers the camera view")
	r, err = http.Get(base + "/api/v1/cameras/nowhere/baseline")
	require.NoError(t, err)
	r.Body.Close()
	require.Equal(t, http.StatusNotFound, r.StatusCode)
	require.NoError(t, stop())

	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "vigil.db"))
	require.NoError(t, err)
	blob, _, err := st.GetBaseline(context.Background(), "plaza")
	require.NoError(t, err)
	require.NotEmpty(t, blob)
	require.NoError(t, st.Close())

	base, stop = startService(t, model, cfgYAML)
	var again baselineView
	require.Eventually(t, func() bool {
		v, code := getBaseline(t, base)
		again = v
		return code == http.StatusOK
	}, hangTimeout, 100*time.Millisecond)
	require.GreaterOrEqual(t, again.LearnedTracks, learned.LearnedTracks, "what was learned survives the restart")
	require.NoError(t, stop())
}
