package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"
)

// NodeInfo is what a node's heartbeat says about it.
type NodeInfo struct {
	Node     string   `json:"node"`
	Instance string   `json:"instance"` // this process
	Roles    []string `json:"roles"`
	// CapacityFPS is the analysed frames per second the node sustains
	// (measured or configured); a camera at 5 fps needs 5.
	CapacityFPS float64 `json:"capacity_fps"`
	// Cameras it runs now.
	Cameras int `json:"cameras"`
	// Addr is where its HTTP API listens (api nodes), for the console.
	Addr    string    `json:"addr,omitempty"`
	Started time.Time `json:"started"`
	Beat    time.Time `json:"beat"`
}

// HeartbeatOptions say what a node announces.
type HeartbeatOptions struct {
	Roles []string
	// Capacity returns the node's current capacity in analysed frames per
	// second; it is read at every beat (the capacity measurement may
	// refine it).
	Capacity func() float64
	Addr     string
	// Interval between beats (default NodeTTL/3).
	Interval time.Duration
}

// lease tracks the last heartbeat the server stored, for self-fencing.
type lease struct {
	mu      sync.Mutex
	sentAt  time.Time     // send time of the last stored beat
	changed chan struct{} // closed and replaced at every stored beat
}

func (l *lease) stored(at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sentAt = at
	if l.changed != nil {
		close(l.changed)
	}
	l.changed = make(chan struct{})
}

// state returns the last stored beat's send time and a channel closed at
// the next one.
func (l *lease) state() (time.Time, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.changed == nil {
		l.changed = make(chan struct{})
	}
	return l.sentAt, l.changed
}

// RunHeartbeat writes this node's heartbeat now and every Interval until
// ctx ends, then deletes it so the node's cameras move at once. A failed
// write is logged and counted; the worker fences itself if they keep
// failing (see the package doc).
func (c *Cluster) RunHeartbeat(ctx context.Context, o HeartbeatOptions) error {
	if o.Interval <= 0 {
		o.Interval = c.opts.NodeTTL / 3
	}
	started := c.opts.Now()
	beat := func() {
		info := NodeInfo{Node: c.opts.Node, Instance: c.instance, Roles: o.Roles, Addr: o.Addr, Started: started}
		if o.Capacity != nil {
			info.CapacityFPS = o.Capacity()
		}
		info.Cameras = c.load()
		if err := c.beat(ctx, info); err != nil {
			c.metrics.heartbeatErrors.Inc()
			c.opts.Log.Warn("cluster: heartbeat not stored", "node", c.opts.Node, "err", err)
		}
	}
	beat()
	t := time.NewTicker(o.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			_ = c.nodes.Delete(dctx, c.opts.Node) // leaving: let the coordinator move our cameras now
			return nil
		case <-t.C:
			beat()
		}
	}
}

func (c *Cluster) beat(ctx context.Context, info NodeInfo) error {
	sent := c.opts.Now()
	info.Beat = sent
	b, err := json.Marshal(info)
	if err != nil {
		return err
	}
	bctx, cancel := context.WithTimeout(ctx, c.opts.NodeTTL/3)
	defer cancel()
	if _, err := c.nodes.Put(bctx, c.opts.Node, b); err != nil {
		return fmt.Errorf("put heartbeat: %w", err)
	}
	c.beatLease.stored(sent)
	return nil
}

// load is what the worker part runs now (zero on other nodes).
func (c *Cluster) load() int { return int(c.running.Load()) }
