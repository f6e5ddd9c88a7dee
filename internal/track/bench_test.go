package track

import (
	"testing"
)

func benchmarkUpdate(b *testing.B, n int) {
	s := NewSynthetic(n)
	tr, err := New(DefaultConfig(30))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	tracks := 0
	for i := 0; i < b.N; i++ {
		tracks += len(tr.Update(s.Frame(i)))
	}
	b.ReportMetric(float64(tracks)/float64(b.N), "tracks/frame")
}

func BenchmarkUpdate10(b *testing.B)  { benchmarkUpdate(b, 10) }
func BenchmarkUpdate50(b *testing.B)  { benchmarkUpdate(b, 50) }
func BenchmarkUpdate200(b *testing.B) { benchmarkUpdate(b, 200) }

// TestSceneIDStability guards the benchmark scene's realism and the
// tracker on it: most objects keep a single id over the replay.
func TestSceneIDStability(t *testing.T) {
	s := NewSynthetic(50)
	tr, err := New(DefaultConfig(30))
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for i := 0; i < sceneFrames; i++ {
		total += len(tr.Update(s.Frame(i)))
	}
	perFrame := float64(total) / sceneFrames
	if perFrame < 40 || perFrame > 52 {
		t.Fatalf("%.1f tracks per frame for 50 objects", perFrame)
	}
	if tr.lastID > 80 {
		t.Fatalf("%d ids handed out for 50 objects over %d frames", tr.lastID, sceneFrames)
	}
	t.Logf("%.1f tracks/frame, %d ids", perFrame, tr.lastID)
}
