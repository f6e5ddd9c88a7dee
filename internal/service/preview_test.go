package service

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

const gateScene = `version: 1
camera: cam1
image: {width: 800, height: 600}
lines:
  - {name: gate, points: [[400, 0], [400, 599]], in: right}
rules:
  - {type: line_crossing, line: gate}
`

// The scene editor's preview replays stored tracks through the edited
// scene: a person whose stored path crosses the new line raises one
// crossing; one who stays on one side raises none; nothing is stored.
func TestPreviewReplaysStoredTracks(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, ":memory:")
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	cfg, err := config.Parse([]byte("version: 1\ndata_dir: "+t.TempDir()+"\n"), "t.yaml")
	require.NoError(t, err)
	s, err := New(cfg, Deps{Store: st})
	require.NoError(t, err)
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	walk := func(id int, x0, x1 float64) store.TrackSummary {
		var path []event.PathPoint
		for k := range 11 {
			path = append(path, event.PathPoint{PTS: 100 + float64(k), Image: [2]float64{x0 + (x1-x0)*float64(k)/10, 300}})
		}
		return store.TrackSummary{Camera: "cam1", TrackID: id, Class: "person", Start: t0.Add(time.Minute), End: t0.Add(time.Minute + 10*time.Second), Path: path}
	}
	require.NoError(t, st.AddTrack(ctx, walk(7, 100, 700)))
	require.NoError(t, st.AddTrack(ctx, walk(7, 100, 300))) // the same id after a restart
	sc, err := scene.Parse([]byte(gateScene), "gate.yaml")
	require.NoError(t, err)
	evs, err := s.PreviewScene(ctx, "cam1", sc, t0, t0.Add(10*time.Minute))
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, "line_crossing", evs[0].Rule)
	require.Equal(t, "cam1", evs[0].Camera)
	require.InDelta(t, t0.Add(65*time.Second).Unix(), evs[0].At.Unix(), 2, "on the stored tracks' clock")
	alerts, err := st.ListAlerts(ctx, store.AlertFilter{Limit: 10})
	require.NoError(t, err)
	require.Empty(t, alerts, "a preview stores nothing")
}
