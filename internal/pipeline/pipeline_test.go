package pipeline

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/vigil-cctv/vigil/internal/analysis"
	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/track"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// movingPerson yields one person walking right, and fails at failAt.
type movingPerson struct{ failAt int }

func (m movingPerson) Prepare(f *decode.Frame) (Prepared, error) { return Prepared{Frame: f}, nil }

func (m movingPerson) Infer(p Prepared) ([]detect.Detection, error) {
	i := p.Frame.Index
	if m.failAt > 0 && i == m.failAt {
		return nil, errors.New("model exploded")
	}
	return []detect.Detection{
		{Box: geom.Box{X: 10 + 5*float64(i), Y: 100, W: 30, H: 80}, Class: detect.Person, Score: 0.9},
		{Box: geom.Box{X: 400, Y: 100, W: 90, H: 50}, Class: detect.Car, Score: 0.9},
	}, nil
}

type recorder struct {
	results []*Result
	closed  int
	failAt  int
}

func (r *recorder) Write(res *Result) error {
	if r.failAt > 0 && res.Frame.Index == r.failAt {
		return errors.New("disk full")
	}
	r.results = append(r.results, res)
	return nil
}

func (r *recorder) Close() error { r.closed++; return nil }

func newPipe(t *testing.T, frames int, det Detector, rec *recorder, classes detect.ClassSet) *Pipeline {
	t.Helper()
	chain, err := analysis.New(analysis.Config{Classes: classes, Track: track.DefaultConfig(10)})
	require.NoError(t, err)
	return New(&Clock{Frames: frames, FPS: 10}, det, chain, []Sink{rec})
}

func TestRunTracksInFrameOrder(t *testing.T) {
	rec := &recorder{}
	p := newPipe(t, 50, movingPerson{}, rec, detect.ClassSet{detect.Person: true})
	require.NoError(t, p.Run(context.Background()))
	require.Len(t, rec.results, 50)
	require.Equal(t, 1, rec.closed)
	for i, r := range rec.results {
		require.Equal(t, i, r.Frame.Index)
		require.Equal(t, time.Duration(i)*100*time.Millisecond, r.Frame.PTS)
		for _, d := range r.Detections {
			require.Equal(t, detect.Person, d.Class, "class filter applies before tracking")
		}
	}
	last := rec.results[49].Tracks
	require.Len(t, last, 1)
	require.Equal(t, 1, last[0].ID, "one walker keeps one id")
	require.Equal(t, int64(50), p.Stats.Frames.Load())
}

func TestDetectorErrorStopsRunAndKeepsEarlierFrames(t *testing.T) {
	rec := &recorder{}
	p := newPipe(t, 100, movingPerson{failAt: 30}, rec, nil)
	err := p.Run(context.Background())
	require.ErrorContains(t, err, "frame 30: model exploded")
	require.Len(t, rec.results, 30)
	require.Equal(t, 1, rec.closed)
}

func TestSinkErrorStopsRun(t *testing.T) {
	rec := &recorder{failAt: 10}
	p := newPipe(t, 100, movingPerson{}, rec, nil)
	require.ErrorContains(t, p.Run(context.Background()), "disk full")
	require.Len(t, rec.results, 10)
	require.Equal(t, 1, rec.closed)
}

func TestCancelStopsRun(t *testing.T) {
	rec := &recorder{}
	p := newPipe(t, 1_000_000, movingPerson{}, rec, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := p.Run(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Equal(t, 1, rec.closed)
}

type fakeModel struct{ prepared, inferred int }

func (f *fakeModel) NewInput() []float32 { return make([]float32, 3) }
func (f *fakeModel) Prepare(t []float32, fr *decode.Frame) error {
	f.prepared++
	t[0] = float32(fr.Index)
	return nil
}
func (f *fakeModel) Infer(t []float32, w, h int) ([]detect.Detection, error) {
	f.inferred++
	return []detect.Detection{{Box: geom.Box{X: float64(t[0]), Y: 0, W: 10, H: 10}, Class: detect.Person, Score: 0.9}}, nil
}

func TestModelDetectorPoolsTensors(t *testing.T) {
	m := &fakeModel{}
	d := NewModelDetector(m, 3)
	rec := &recorder{}
	chain, err := analysis.New(analysis.Config{Track: track.DefaultConfig(10)})
	require.NoError(t, err)
	p := New(&Clock{Frames: 40, FPS: 10}, d, chain, []Sink{rec})
	require.NoError(t, p.Run(context.Background()))
	require.Equal(t, 40, m.inferred)
	require.Len(t, d.pool, 3, "every tensor returned to the pool")
	for i, r := range rec.results {
		require.Equal(t, float64(i), r.Detections[0].Box.X, "tensor pairs with its own frame")
	}
}
