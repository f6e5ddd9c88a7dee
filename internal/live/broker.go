package live

import (
	"sync"
	"sync/atomic"
)

// Broker fans messages out to subscribers, at most a fixed number of
// which come from outside (event-stream clients, through TrySubscribe).
// A subscriber that does not keep up loses messages, counted in Dropped,
// rather than slowing the publisher. It has the API of the service's
// broker, so it can replace it, and implements httpapi.Broker and
// httpapi.Publisher for M = httpapi.Message.
type Broker[M any] struct {
	max     int
	buffer  int
	mu      sync.Mutex
	subs    map[chan M]bool // value: counted against max
	clients int
	// Dropped counts messages a full subscriber did not get.
	Dropped atomic.Int64
}

// NewBroker makes a broker admitting at most max clients through
// TrySubscribe (0: no limit), each with a 64-message buffer.
func NewBroker[M any](max int) *Broker[M] {
	return &Broker[M]{max: max, buffer: 64, subs: map[chan M]bool{}}
}

// Subscribe adds a subscriber that no cap applies to, for the service's
// own consumers. cancel ends it and closes the channel.
func (b *Broker[M]) Subscribe() (<-chan M, func()) {
	ch, cancel, _ := b.subscribe(false)
	return ch, cancel
}

// TrySubscribe adds a client subscriber, or returns a *LimitError (503)
// when max of them are connected.
func (b *Broker[M]) TrySubscribe() (<-chan M, func(), error) {
	return b.subscribe(true)
}

func (b *Broker[M]) subscribe(client bool) (<-chan M, func(), error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if client && b.max > 0 && b.clients >= b.max {
		return nil, nil, &LimitError{What: "event stream clients", Limit: b.max, Server: true}
	}
	ch := make(chan M, b.buffer)
	b.subs[ch] = client
	if client {
		b.clients++
	}
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			if b.subs[ch] {
				b.clients--
			}
			delete(b.subs, ch)
			close(ch)
		})
	}, nil
}

// Publish delivers m to every subscriber that has room.
func (b *Broker[M]) Publish(m M) {
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

// Clients is the number of client subscribers connected now.
func (b *Broker[M]) Clients() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.clients
}
