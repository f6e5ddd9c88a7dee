package media

import (
	"sync"
	"time"

	"github.com/vigil-cctv/vigil/internal/decode"
)

// Ring is a per-camera buffer of recent frames, the pre-roll source for alert
// clips. It is bounded both by time (the PTS span between its oldest and
// newest frame never exceeds maxAge) and by memory (the Pix bytes it holds
// never exceed maxBytes), whichever bites first, so a 4K camera cannot make
// the buffer grow without bound.
//
// Ring is safe for one goroutine calling Add together with any number of
// goroutines calling Snapshot.
type Ring struct {
	maxAge   time.Duration
	maxBytes int64

	mu     sync.RWMutex
	frames []*decode.Frame // oldest first
	bytes  int64           // sum of frameBytes over frames
}

// NewRing returns an empty ring keeping at most maxAge of PTS span and at
// most maxBytes of pixel data. Non-positive bounds hold nothing, which is a
// safe way to turn pre-roll off.
func NewRing(maxAge time.Duration, maxBytes int64) *Ring {
	return &Ring{maxAge: maxAge, maxBytes: maxBytes}
}

// frameBytes is what a frame costs the ring: the capacity of its pixel
// buffer, since that (not its length) is the memory it pins.
func frameBytes(f *decode.Frame) int64 { return int64(cap(f.Pix)) }

// Add appends f and evicts the oldest frames until both bounds hold again.
// The frame is not copied: the caller hands over ownership and must not
// modify f or f.Pix afterwards, since Snapshot callers and clips may read it
// at any time. A frame whose PTS is earlier than the newest one means the
// stream restarted, so the ring is emptied first: frames from before the
// restart would make a clip jump backwards in time. A nil frame is ignored.
func (r *Ring) Add(f *decode.Frame) {
	if f == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.frames); n > 0 && f.PTS < r.frames[n-1].PTS {
		r.dropOldest(n)
	}
	r.frames = append(r.frames, f)
	r.bytes += frameBytes(f)
	r.evict()
}

// evict drops frames from the front until the span and byte bounds hold.
// Even the newest frame goes if it alone breaks a bound, so the invariants
// hold unconditionally.
func (r *Ring) evict() {
	n := 0
	newest := r.frames[len(r.frames)-1].PTS
	for n < len(r.frames) {
		f := r.frames[n]
		if r.bytes <= r.maxBytes && newest-f.PTS <= r.maxAge {
			break
		}
		r.bytes -= frameBytes(f)
		n++
	}
	r.dropOldest(n)
}

// dropOldest removes the first n frames; evict has already taken their bytes
// off, and emptying the ring zeroes the count. The vacated slots are cleared
// so the backing array does not keep evicted frames (and their pixels) alive.
func (r *Ring) dropOldest(n int) {
	if n == 0 {
		return
	}
	clear(r.frames[:n])
	r.frames = r.frames[n:]
	if len(r.frames) == 0 {
		r.frames = nil
		r.bytes = 0
	}
}

// Snapshot returns the frames currently held, oldest first. The slice is the
// caller's own; the frames are shared and must be treated as read-only.
func (r *Ring) Snapshot() []*decode.Frame {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*decode.Frame, len(r.frames))
	copy(out, r.frames)
	return out
}

// Len is the number of frames held.
func (r *Ring) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.frames)
}

// Bytes is the pixel memory held, counted as the capacity of each frame's
// Pix.
func (r *Ring) Bytes() int64 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.bytes
}
