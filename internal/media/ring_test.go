package media

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/vigil-cctv/vigil/internal/decode"
)

func ptsOf(frames []*decode.Frame) []time.Duration {
	out := make([]time.Duration, len(frames))
	for i, f := range frames {
		out[i] = f.PTS
	}
	return out
}

func TestRingBoundedByAge(t *testing.T) {
	r := NewRing(time.Second, 1<<30)
	for i := range 50 {
		r.Add(testFrame(i, 4, 4))
	}
	got := r.Snapshot()
	// A span of exactly maxAge is allowed: frames 39..49 at 10 fps.
	require.Len(t, got, 11)
	require.Equal(t, 39, got[0].Index)
	require.Equal(t, 49, got[len(got)-1].Index)
	require.Equal(t, int64(11*4*4*3), r.Bytes())
}

func TestRingBoundedByBytes(t *testing.T) {
	const size = 10 * 10 * 3
	r := NewRing(time.Hour, 3*size+size/2)
	for i := range 20 {
		r.Add(testFrame(i, 10, 10))
	}
	require.Equal(t, []int{17, 18, 19}, indexes(r.Snapshot()))
	require.Equal(t, int64(3*size), r.Bytes())
}

func indexes(frames []*decode.Frame) []int {
	out := make([]int, len(frames))
	for i, f := range frames {
		out[i] = f.Index
	}
	return out
}

func TestRingFrameLargerThanBudgetIsNotHeld(t *testing.T) {
	r := NewRing(time.Hour, 100)
	r.Add(testFrame(0, 2, 2))
	r.Add(testFrame(1, 10, 10)) // 300 bytes: evicts everything, itself included
	require.Empty(t, r.Snapshot())
	require.Zero(t, r.Bytes())
	r.Add(testFrame(2, 2, 2))
	require.Equal(t, []int{2}, indexes(r.Snapshot()))
}

func TestRingResetsWhenPTSGoesBack(t *testing.T) {
	r := NewRing(time.Hour, 1<<30)
	for i := range 5 {
		r.Add(testFrame(i, 2, 2))
	}
	restarted := testFrame(1, 2, 2)
	r.Add(restarted)
	require.Equal(t, []*decode.Frame{restarted}, r.Snapshot())
	require.Equal(t, int64(12), r.Bytes())
}

func TestRingZeroBoundsHoldNothing(t *testing.T) {
	r := NewRing(0, 0)
	r.Add(testFrame(0, 2, 2))
	r.Add(nil)
	require.Zero(t, r.Len())
}

func TestRingSnapshotIsACopy(t *testing.T) {
	r := NewRing(time.Hour, 1<<30)
	r.Add(testFrame(0, 2, 2))
	s := r.Snapshot()
	s[0] = nil
	require.NotNil(t, r.Snapshot()[0])
}

// One writer and several readers, for the race detector.
func TestRingConcurrentSnapshot(t *testing.T) {
	r := NewRing(500*time.Millisecond, 1<<20)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				s := r.Snapshot()
				for i := 1; i < len(s); i++ {
					if s[i].PTS < s[i-1].PTS {
						t.Errorf("snapshot out of order: %v", ptsOf(s))
						return
					}
				}
			}
		})
	}
	for i := range 2000 {
		r.Add(testFrame(i, 4, 4))
	}
	close(stop)
	wg.Wait()
}

// After any sequence of Adds the ring holds at most maxBytes, spans at most
// maxAge, is in PTS order, and keeps the newest frame whenever it fits.
func TestRingInvariantsProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		maxAge := time.Duration(rapid.Int64Range(0, int64(5*time.Second)).Draw(t, "maxAge"))
		maxBytes := rapid.Int64Range(0, 4096).Draw(t, "maxBytes")
		r := NewRing(maxAge, maxBytes)
		pts := time.Duration(0)
		n := rapid.IntRange(0, 200).Draw(t, "adds")
		for i := range n {
			// Mostly forward steps, sometimes none, occasionally a restart.
			pts += time.Duration(rapid.Int64Range(-int64(time.Second), int64(2*time.Second)).Draw(t, "step"))
			size := rapid.IntRange(0, 1500).Draw(t, "size")
			f := &decode.Frame{Index: i, PTS: pts, Pix: make([]byte, size)}
			r.Add(f)
			checkRing(t, r, f, maxAge, maxBytes)
		}
	})
}

func checkRing(t *rapid.T, r *Ring, last *decode.Frame, maxAge time.Duration, maxBytes int64) {
	s := r.Snapshot()
	var sum int64
	for i, f := range s {
		sum += int64(len(f.Pix))
		if i > 0 && f.PTS < s[i-1].PTS {
			t.Fatalf("out of order: %v", ptsOf(s))
		}
	}
	if sum != r.Bytes() || sum > maxBytes {
		t.Fatalf("holds %d bytes (counted %d), max %d", sum, r.Bytes(), maxBytes)
	}
	if len(s) > 0 && s[len(s)-1].PTS-s[0].PTS > maxAge {
		t.Fatalf("span %v > %v", s[len(s)-1].PTS-s[0].PTS, maxAge)
	}
	fits := int64(len(last.Pix)) <= maxBytes
	if fits && (len(s) == 0 || s[len(s)-1] != last) {
		t.Fatalf("newest frame (%d bytes) not held", len(last.Pix))
	}
}
