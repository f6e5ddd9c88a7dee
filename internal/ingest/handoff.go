package ingest

import (
	"context"
	"sync"
	"sync/atomic"
)

// handoff is the bounded queue between a supervisor and the consumer. push
// never blocks: when full it drops the oldest frame, because for live
// analytics the newest picture matters and a stalled detector must not
// stall decoding (which would back up into ffmpeg and the camera). A
// recorded file analysed in full uses pushWait instead, which waits for
// room, so decoding follows the consumer and no frame is lost.
type handoff struct {
	mu      sync.Mutex
	ring    []Frame
	head, n int
	notify  chan struct{} // a frame was queued
	space   chan struct{} // a frame left the queue
	sent    chan struct{} // a frame reached the consumer
	dropped atomic.Int64
	pushed  atomic.Int64
	out     atomic.Int64
}

func newHandoff(size int) *handoff {
	return &handoff{ring: make([]Frame, size), notify: make(chan struct{}, 1),
		space: make(chan struct{}, 1), sent: make(chan struct{}, 1)}
}

// pushWait queues f, waiting while the queue is full; false if ctx ended
// first.
func (h *handoff) pushWait(ctx context.Context, f Frame) bool {
	for {
		h.mu.Lock()
		if h.n < len(h.ring) {
			h.mu.Unlock()
			h.push(f)
			return true
		}
		h.mu.Unlock()
		select {
		case <-h.space:
		case <-ctx.Done():
			return false
		}
	}
}

// waitSent waits until every queued frame has reached the consumer.
func (h *handoff) waitSent(ctx context.Context) {
	for h.out.Load() < h.pushed.Load()-h.dropped.Load() {
		select {
		case <-h.sent:
		case <-ctx.Done():
			return
		}
	}
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
	h.pushed.Add(1)
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
	signal(h.space)
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
			signal(h.sent)
		case <-ctx.Done():
			return
		}
	}
}

// signal wakes one waiter on c without ever blocking.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
