package ingest

import (
	"context"
	"sync"
	"sync/atomic"
)

// handoff is the bounded queue between a supervisor and the consumer. push
// never blocks: when full it drops the oldest frame, because for live
// analytics the newest picture matters and a stalled detector must not
// stall decoding (which would back up into ffmpeg and the camera).
type handoff struct {
	mu      sync.Mutex
	ring    []Frame
	head, n int
	notify  chan struct{}
	dropped atomic.Int64
	out     atomic.Int64
}

func newHandoff(size int) *handoff {
	return &handoff{ring: make([]Frame, size), notify: make(chan struct{}, 1)}
}

// push queues f, dropping the oldest queued frame if the queue is full.
func (h *handoff) push(f Frame) {
	h.mu.Lock()
	if h.n == len(h.ring) {
		h.ring[h.head] = Frame{} // let the dropped pixels be collected
		h.head = (h.head + 1) % len(h.ring)
		h.n--
		h.dropped.Add(1)
	}
	h.ring[(h.head+h.n)%len(h.ring)] = f
	h.n++
	h.mu.Unlock()
	select {
	case h.notify <- struct{}{}:
	default:
	}
}

func (h *handoff) pop() (Frame, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n == 0 {
		return Frame{}, false
	}
	f := h.ring[h.head]
	h.ring[h.head] = Frame{}
	h.head = (h.head + 1) % len(h.ring)
	h.n--
	return f, true
}

// forward sends queued frames to out until ctx ends. It is the only part
// that blocks on the consumer; a shared out channel serves the cameras'
// forwarders in turn, since Go queues blocked senders in order.
func (h *handoff) forward(ctx context.Context, out chan<- Frame) {
	for {
		f, ok := h.pop()
		if !ok {
			select {
			case <-h.notify:
				continue
			case <-ctx.Done():
				return
			}
		}
		select {
		case out <- f:
			h.out.Add(1)
		case <-ctx.Done():
			return
		}
	}
}
