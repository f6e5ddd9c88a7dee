package cluster

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// mirror keeps a local copy of a KV bucket (or the keys matching a
// filter) from a watch, and signals every change.
type mirror struct {
	mu      sync.Mutex
	entries map[string]jetstream.KeyValueEntry
	ready   chan struct{} // closed once the initial values are in
	changed chan struct{} // one pending signal at most
	done    chan struct{} // closed when the watch ends
}

// watchMirror starts mirroring kv's keys matching filter (">" for all)
// until ctx ends.
func watchMirror(ctx context.Context, kv jetstream.KeyValue, filter string) (*mirror, error) {
	w, err := kv.Watch(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", kv.Bucket(), err)
	}
	m := &mirror{
		entries: map[string]jetstream.KeyValueEntry{},
		ready:   make(chan struct{}),
		changed: make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	go m.run(ctx, w)
	return m, nil
}

func (m *mirror) run(ctx context.Context, w jetstream.KeyWatcher) {
	defer close(m.done)
	defer func() { _ = w.Stop() }()
	initial := true
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e == nil { // end of the initial values
				if initial {
					initial = false
					close(m.ready)
				}
				m.signal()
				continue
			}
			m.mu.Lock()
			if op := e.Operation(); op == jetstream.KeyValueDelete || op == jetstream.KeyValuePurge {
				delete(m.entries, e.Key())
			} else {
				m.entries[e.Key()] = e
			}
			m.mu.Unlock()
			if !initial {
				m.signal()
			}
		}
	}
}

func (m *mirror) signal() {
	select {
	case m.changed <- struct{}{}:
	default:
	}
}

// wait blocks until the initial values are in.
func (m *mirror) wait(ctx context.Context) error {
	select {
	case <-m.ready:
		return nil
	case <-m.done:
		return errors.New("watch ended before its initial values")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// snapshot copies the current entries.
func (m *mirror) snapshot() map[string]jetstream.KeyValueEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.entries)
}
