package baseline

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/track"
)

// record plays d of the world's traffic, with odd tracks injected, into
// frames that can be replayed to several models.
type frame struct {
	pts    time.Duration
	tracks []track.Track
	ended  []int
}

func record(w *world, d time.Duration) []frame {
	var out []frame
	for end := w.pts + d; w.pts < end; {
		switch len(out) {
		case 40:
			w.walker(275, imgW+10, -4*walkMPS, 20*time.Second)
		case 400:
			w.add(&mover{class: detect.Car, x: -10, y: 370, vx: 5 * pxPerM, w: 90, h: 40, end: w.pts + 20*time.Second})
		case 800:
			w.walker(275, -10, walkMPS, 40*time.Second)
		}
		tr := w.step()
		out = append(out, frame{w.pts, tr, slices.Clone(w.ended)})
	}
	return out
}

func replay(m *Model, frames []frame) []event.Event {
	var out []event.Event
	for _, f := range frames {
		out = append(out, m.Update(f.pts, imgW, imgH, f.tracks)...)
		m.End(f.ended)
	}
	return out
}

// A model saved after Close and restored into a fresh one answers the
// rest of the stream exactly as the model that never stopped.
func TestPersistenceContinuesIdentically(t *testing.T) {
	cfg := Config{Warmup: 10 * time.Minute}
	a, err := New(cfg, testScene())
	require.NoError(t, err)
	w := newWorld(3)
	w.run(a, 15*time.Minute)
	// Leave feedback state behind: a suppression, multipliers, a verdict
	// and a quarantined track.
	evs := replay(a, record(w, 4*time.Minute))
	require.GreaterOrEqual(t, len(evs), 2, explanations(evs))
	require.True(t, a.Feedback(evs[0], false))
	require.True(t, a.Feedback(evs[1], true))
	evs = replay(a, record(w, 4*time.Minute))
	require.NotEmpty(t, evs)
	a.Close(w.pts)
	require.Positive(t, a.State().Quarantined)
	saved, err := a.MarshalBinary()
	require.NoError(t, err)

	b := clone(t, cfg, saved)
	require.Equal(t, a.State(), b.State())
	again, err := b.MarshalBinary()
	require.NoError(t, err)
	require.True(t, bytes.Equal(saved, again), "a restored model saves the same bytes")

	frames := record(w, 10*time.Minute)
	ea, eb := replay(a, frames), replay(b, frames)
	require.NotEmpty(t, ea)
	require.Equal(t, ea, eb)
	require.Equal(t, a.State(), b.State())
	require.True(t, a.Feedback(ea[0], false))
	require.True(t, b.Feedback(eb[0], false))
	a.Close(w.pts)
	b.Close(w.pts)
	sa, _ := a.MarshalBinary()
	sb, _ := b.MarshalBinary()
	require.True(t, bytes.Equal(sa, sb))
}

// Restoring into a model whose grid differs fails, saying why, and leaves
// the model as it was.
func TestUnmarshalRejectsMismatchedGrid(t *testing.T) {
	a, err := New(Config{Warmup: time.Minute}, testScene())
	require.NoError(t, err)
	w := newWorld(4)
	w.run(a, 3*time.Minute)
	a.Close(w.pts)
	saved, err := a.MarshalBinary()
	require.NoError(t, err)

	otherH := geom.Homography{{1 / 25.0, 0, 0}, {0, -1 / 25.0, imgH / 25.0}, {0, 0, 1}}
	moved := testScene()
	moved.Homography = &otherH
	renamed := testScene()
	renamed.Zones[0] = &scene.Zone{Name: "square", Polygon: renamed.Zones[0].Polygon}
	cases := []struct {
		name string
		cfg  Config
		sc   *scene.Scene
		want string
	}{
		{"cell size", Config{CellMetres: 3}, testScene(), "grid mismatch: saved cells are 2 m, this model's 3 m"},
		{"uncalibrated", Config{}, nil, "grid mismatch: saved model calibrated=true, this scene calibrated=false"},
		{"homography", Config{}, moved, "homography differs"},
		{"zones", Config{}, renamed, `zone mismatch: saved zones ["plaza"], this scene's ["square"]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := New(c.cfg, c.sc)
			require.NoError(t, err)
			w := newWorld(9)
			w.run(m, time.Minute)
			before := m.State()
			err = m.UnmarshalBinary(saved)
			require.ErrorContains(t, err, c.want)
			require.Equal(t, before, m.State())
		})
	}
	t.Run("version", func(t *testing.T) {
		bad := bytes.Clone(saved)
		bad[4] = 9
		m, _ := New(Config{}, testScene())
		require.ErrorContains(t, m.UnmarshalBinary(bad), "format version 9")
	})
	t.Run("not a model", func(t *testing.T) {
		m, _ := New(Config{}, testScene())
		require.ErrorContains(t, m.UnmarshalBinary([]byte("hello")), "not a saved baseline model")
		require.ErrorContains(t, m.UnmarshalBinary(saved[:len(saved)-3]), "truncated")
		require.ErrorContains(t, m.UnmarshalBinary(append(bytes.Clone(saved), 0)), "trailing")
	})
	t.Run("other half-life", func(t *testing.T) {
		m, err := New(Config{HalfLife: time.Hour}, testScene())
		require.NoError(t, err)
		require.NoError(t, m.UnmarshalBinary(saved))
		require.Equal(t, a.State().LearnedTracks, m.State().LearnedTracks)
		// Counts mean the same weights now; only their future decay differs.
		k := statKey{cellXY{16, 11}, allHours, 0}
		require.InDelta(t, a.stats[k].n/a.inf, m.stats[k].n/m.inf, 1e-9*a.stats[k].n/a.inf)
	})
}

// FuzzUnmarshalBinary: arbitrary bytes never panic, and whatever loads
// can be run and saved.
func FuzzUnmarshalBinary(f *testing.F) {
	a, err := New(Config{Warmup: time.Minute}, testScene())
	require.NoError(f, err)
	w := newWorld(5)
	w.run(a, 2*time.Minute)
	evs := replay(a, record(w, time.Minute))
	for i, e := range evs {
		a.Feedback(e, i%2 == 0)
	}
	a.Close(w.pts)
	saved, err := a.MarshalBinary()
	require.NoError(f, err)
	f.Add(saved)
	f.Add(saved[:len(saved)/2])
	f.Add([]byte("VGBL\x01\x00"))
	f.Add([]byte{})
	probe := record(newWorld(6), 3*time.Second)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := New(Config{Warmup: time.Minute}, testScene())
		require.NoError(t, err)
		if m.UnmarshalBinary(b) != nil {
			return
		}
		requireRoundTrip(t, m)
		replay(m, probe)
		m.Close(time.Hour)
		requireRoundTrip(t, m)
	})
}

// requireRoundTrip saves m, restores the bytes into a fresh model and checks
// that it holds the same state and saves the same bytes again: whatever
// input was accepted, what is saved is a fixed point.
func requireRoundTrip(t *testing.T, m *Model) {
	t.Helper()
	saved, err := m.MarshalBinary()
	require.NoError(t, err)
	n, err := New(Config{Warmup: time.Minute}, testScene())
	require.NoError(t, err)
	require.NoError(t, n.UnmarshalBinary(saved), "a saved model restores")
	require.Equal(t, m.State(), n.State())
	again, err := n.MarshalBinary()
	require.NoError(t, err)
	require.True(t, bytes.Equal(saved, again), "restored model saves different bytes (%d vs %d)", len(saved), len(again))
}
