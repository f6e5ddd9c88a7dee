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
// until ctx ends, opening the watch again whenever it ends before.
func (c *Cluster) watchMirror(ctx context.Context, kv jetstream.KeyValue, filter string) (*mirror, error) {
	start := func(ctx context.Context) (jetstream.KeyWatcher, error) { return kv.Watch(ctx, filter) }
	w, err := start(ctx)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", kv.Bucket(), err)
	}
	m := newMirror()
	go m.run(ctx, w, func() (jetstream.KeyWatcher, error) { return c.reopen(ctx, kv.Bucket(), start) })
	return m, nil
}

func newMirror() *mirror {
	return &mirror{
		entries: map[string]jetstream.KeyValueEntry{},
		ready:   make(chan struct{}),
		changed: make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
}

// run applies the watch's entries. After a reopen, the replayed values
// are gathered apart and replace the copy at once when complete, so a
// reader never sees a half-filled bucket.
func (m *mirror) run(ctx context.Context, w jetstream.KeyWatcher, reopen func() (jetstream.KeyWatcher, error)) {
	defer close(m.done)
	defer func() {
		if w != nil {
			_ = w.Stop()
		}
	}()
	initial := true
	var fresh map[string]jetstream.KeyValueEntry // replayed values after a reopen
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-w.Updates():
			switch {
			case !ok:
				_ = w.Stop()
				var err error
				if w, err = reopen(); err != nil {
					w = nil
					return
				}
				fresh = map[string]jetstream.KeyValueEntry{}
			case e == nil: // end of the initial (or replayed) values
				if initial {
					initial = false
					close(m.ready)
				}
				if fresh != nil {
					m.mu.Lock()
					m.entries, fresh = fresh, nil
					m.mu.Unlock()
				}
				m.signal()
			case fresh != nil:
				apply(fresh, e)
			default:
				m.mu.Lock()
				apply(m.entries, e)
				m.mu.Unlock()
				if !initial {
					m.signal()
				}
			}
		}
	}
}

// apply records one entry: a put replaces, a delete or purge removes.
func apply(entries map[string]jetstream.KeyValueEntry, e jetstream.KeyValueEntry) {
	if op := e.Operation(); op == jetstream.KeyValueDelete || op == jetstream.KeyValuePurge {
		delete(entries, e.Key())
		return
	}
	entries[e.Key()] = e
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
