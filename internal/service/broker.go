package service

import (
	"sync"
	"sync/atomic"

	"github.com/vigil-cctv/vigil/internal/httpapi"
)

// Message is one item on the live event stream (SSE).
type Message = httpapi.Message

// Broker fans messages out to subscribers. A subscriber that does not keep
// up loses messages (counted) rather than slowing the pipeline.
type Broker struct {
	mu      sync.Mutex
	subs    map[chan Message]struct{}
	Dropped atomic.Int64
}

// NewBroker makes an empty broker.
func NewBroker() *Broker { return &Broker{subs: map[chan Message]struct{}{}} }

// Subscribe returns a channel of messages and a cancel function.
func (b *Broker) Subscribe() (<-chan Message, func()) {
	ch := make(chan Message, 64)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, ch)
			b.mu.Unlock()
			close(ch)
		})
	}
}

// Publish delivers m to every subscriber that has room.
func (b *Broker) Publish(m Message) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- m:
		default:
			b.Dropped.Add(1)
		}
	}
}
