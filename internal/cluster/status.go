package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Status is the cluster as one node sees it: for `vigil cluster status`
// and the console.
type Status struct {
	Coordinator string       `json:"coordinator"`
	Nodes       []NodeStatus `json:"nodes"`
	// Cameras maps each configured camera to its node ("" unassigned).
	Cameras   map[string]string      `json:"cameras"`
	Consumers map[string]ConsumerLag `json:"consumers"` // by stream
	// DeadLetters is how many poisoned records are kept, by subject.
	DeadLetters   uint64            `json:"dead_letters"`
	DeadBySubject map[string]uint64 `json:"dead_by_subject,omitempty"`
}

// NodeStatus is a live node with what is assigned to it.
type NodeStatus struct {
	NodeInfo
	Assigned    int     `json:"assigned"`     // cameras assigned to it
	AssignedFPS float64 `json:"assigned_fps"` // their demand
}

// ConsumerLag is how far the api consumer is behind on one stream.
type ConsumerLag struct {
	Stream   string `json:"stream"`
	Messages uint64 `json:"messages"` // kept in the stream
	// Pending: not yet delivered; AckPending: delivered, not yet
	// written; Redelivered: delivered more than once and still pending.
	Pending     uint64 `json:"pending"`
	AckPending  int    `json:"ack_pending"`
	Redelivered int    `json:"redelivered"`
	Missing     bool   `json:"missing,omitempty"` // no api node has consumed yet
	// Error says why the figures are unknown (e.g. the consumer's
	// replicas are still electing a leader).
	Error string `json:"error,omitempty"`
}

// Status reads the buckets and streams.
func (c *Cluster) Status(ctx context.Context) (Status, error) {
	st := Status{Cameras: map[string]string{}, Consumers: map[string]ConsumerLag{}}
	if e, err := c.leader.Get(ctx, leaderKey); err == nil {
		st.Coordinator = string(e.Value())
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return st, fmt.Errorf("cluster: status: coordinator: %w", err)
	}
	nodes, err := allEntries(ctx, c.nodes)
	if err != nil {
		return st, fmt.Errorf("cluster: status: nodes: %w", err)
	}
	cams, err := allEntries(ctx, c.config)
	if err != nil {
		return st, fmt.Errorf("cluster: status: cameras: %w", err)
	}
	assign, err := allEntries(ctx, c.assign)
	if err != nil {
		return st, fmt.Errorf("cluster: status: assignments: %w", err)
	}
	demand := map[string]float64{}
	for k, v := range cams {
		var cc CameraConfig
		if id, ok := strings.CutPrefix(k, string(ConfigCamera)+"."); ok && json.Unmarshal(v, &cc) == nil && !cc.Disabled {
			st.Cameras[id] = ""
			demand[id] = cc.demand()
		}
	}
	byNode := map[string]*NodeStatus{}
	for _, k := range slices.Sorted(maps.Keys(nodes)) {
		var n NodeStatus
		if json.Unmarshal(nodes[k], &n.NodeInfo) == nil {
			st.Nodes = append(st.Nodes, n)
		}
	}
	for i := range st.Nodes {
		byNode[st.Nodes[i].Node] = &st.Nodes[i]
	}
	for cam, v := range assign {
		var a Assignment
		if json.Unmarshal(v, &a) != nil {
			continue
		}
		st.Cameras[cam] = a.Node
		if n := byNode[a.Node]; n != nil {
			n.Assigned++
			n.AssignedFPS += demand[cam]
		}
	}
	for _, k := range Kinds {
		lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		lag, err := c.lag(lctx, streamName(k))
		cancel()
		if err != nil {
			lag.Error = err.Error()
		}
		st.Consumers[lag.Stream] = lag
	}
	err = c.deadLetters(ctx, &st)
	return st, err
}

func (c *Cluster) lag(ctx context.Context, stream string) (ConsumerLag, error) {
	lag := ConsumerLag{Stream: stream}
	s, err := c.JS.Stream(ctx, stream)
	if err != nil {
		return lag, fmt.Errorf("stream %s: %w", stream, err)
	}
	si, err := s.Info(ctx)
	if err != nil {
		return lag, fmt.Errorf("stream %s: %w", stream, err)
	}
	lag.Messages = si.State.Msgs
	cons, err := s.Consumer(ctx, ConsumerAPI)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		lag.Missing, lag.Pending = true, si.State.Msgs
		return lag, nil
	}
	if err != nil {
		return lag, fmt.Errorf("consumer %s on %s: %w", ConsumerAPI, stream, err)
	}
	ci, err := cons.Info(ctx)
	if err != nil {
		return lag, fmt.Errorf("consumer %s on %s: %w", ConsumerAPI, stream, err)
	}
	lag.Pending, lag.AckPending, lag.Redelivered = ci.NumPending, ci.NumAckPending, ci.NumRedelivered
	return lag, nil
}

func (c *Cluster) deadLetters(ctx context.Context, st *Status) error {
	s, err := c.JS.Stream(ctx, StreamDead)
	if err != nil {
		return fmt.Errorf("cluster: status: %s: %w", StreamDead, err)
	}
	si, err := s.Info(ctx, jetstream.WithSubjectFilter("vigil.dead.>"))
	if err != nil {
		return fmt.Errorf("cluster: status: %s: %w", StreamDead, err)
	}
	st.DeadLetters = si.State.Msgs
	if len(si.State.Subjects) > 0 {
		st.DeadBySubject = si.State.Subjects
	}
	return nil
}

// allEntries reads every live key of a bucket.
func allEntries(ctx context.Context, kv jetstream.KeyValue) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := eachEntry(ctx, kv, func(e jetstream.KeyValueEntry) error {
		out[e.Key()] = e.Value()
		return nil
	})
	return out, err
}

// eachEntry calls fn with every live entry of a bucket, stopping at its
// first error.
func eachEntry(ctx context.Context, kv jetstream.KeyValue, fn func(jetstream.KeyValueEntry) error) error {
	w, err := kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return err
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-w.Updates():
			if !ok || e == nil {
				return nil
			}
			if err := fn(e); err != nil {
				return err
			}
		}
	}
}

// SortedNodes returns the node names of st in order.
func (st Status) SortedNodes() []string {
	var out []string
	for _, n := range st.Nodes {
		out = append(out, n.Node)
	}
	slices.Sort(out)
	return out
}

// Assignments reads every camera's assignment with the KV revision it was
// written at: a camera that moved, or whose assignment was written again,
// has a new revision.
func (c *Cluster) Assignments(ctx context.Context) (map[string]Placed, error) {
	out := map[string]Placed{}
	err := eachEntry(ctx, c.assign, func(e jetstream.KeyValueEntry) error {
		var a Assignment
		if err := json.Unmarshal(e.Value(), &a); err != nil {
			return fmt.Errorf("assignment of %s: %w", e.Key(), err)
		}
		out[e.Key()] = Placed{Node: a.Node, Rev: e.Revision()}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: assignments: %w", err)
	}
	return out, nil
}
