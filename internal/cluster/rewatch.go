package cluster

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A KV watch is an ordered consumer on the server. The client recreates
// it when it misses messages or heartbeats, but gives up (and closes the
// watch) when the server refuses the new consumer, as a busy cluster
// electing a leader can. Every long-lived watch here is therefore opened
// again when it ends while its context lives; the fresh watch replays
// the bucket's current values, so nothing changed meanwhile is missed.

// reopen opens a watch with start, trying again with a growing delay
// until it opens or ctx ends; it counts the restart (what: the bucket).
func (c *Cluster) reopen(ctx context.Context, what string, start func(context.Context) (jetstream.KeyWatcher, error)) (jetstream.KeyWatcher, error) {
	c.metrics.watchRestarts.WithLabelValues(what).Inc()
	c.opts.Log.Warn("cluster: watch ended; opening it again", "what", what)
	delay := 100 * time.Millisecond
	for {
		w, err := start(ctx)
		if err == nil {
			return w, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		c.opts.Log.Warn("cluster: watch not opened", "what", what, "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}
