package live

import (
	"context"
	"testing"

	"github.com/vigil-cctv/vigil/internal/live/livetest"
)

func benchFrame(b *testing.B) *livetest.Changing {
	f, err := livetest.Frame(context.Background())
	if err != nil {
		b.Skip(err)
	}
	return &livetest.Changing{Frame: f, Quality: 70}
}

// drain reads a viewer's frames until its channel closes.
func drain(ch <-chan []byte) {
	for range ch {
	}
}

// BenchmarkTick50Viewers is one tick of one 768×576 camera watched by 50
// viewers: one render + JPEG encode, handed to all of them.
// go test -run x -bench Tick50 ./internal/live/
func BenchmarkTick50Viewers(b *testing.B) {
	src := benchFrame(b)
	h := NewHub(Options{MaxPerCamera: 50, MaxTotal: 50})
	defer h.Close()
	h.Add("cam", src)
	for range 50 {
		ch, cancel, err := h.Subscribe("cam")
		if err != nil {
			b.Fatal(err)
		}
		defer cancel()
		go drain(ch)
	}
	f := h.feeds["cam"]
	var last any
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		last = h.tick(f, last)
	}
}

// BenchmarkPerViewerEncode50 is what the same tick cost before the hub:
// every viewer rendered and encoded its own copy.
func BenchmarkPerViewerEncode50(b *testing.B) {
	src := benchFrame(b)
	b.ReportAllocs()
	for b.Loop() {
		for range 50 {
			if _, err := livetest.Encode(src.Frame, src.Quality); err != nil {
				b.Fatal(err)
			}
		}
	}
}
