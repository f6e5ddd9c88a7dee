package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Bucket, stream and consumer names.
const (
	BucketNodes    = "vigil_nodes"
	BucketLeader   = "vigil_leader"
	BucketAssign   = "vigil_assign"
	BucketConfig   = "vigil_config"
	BucketHandover = "vigil_handover"
	StreamDead     = "VIGIL_DEAD"
	// ConsumerAPI is the durable pull consumer all api nodes share.
	ConsumerAPI = "vigil-api"
	leaderKey   = "coordinator"
)

// Options configure a node's view of the cluster. Every node must use the
// same NodeTTL, LeaderTTL and Replicas: they are properties of the shared
// buckets.
type Options struct {
	Node string
	// Replicas of every stream and bucket (3 for a 3-server cluster).
	Replicas int
	// NodeTTL: a node whose heartbeat is this old is dead (default 10 s).
	NodeTTL time.Duration
	// LeaderTTL is the coordinator's lease (default 10 s).
	LeaderTTL time.Duration
	// MaxAge keeps records in the streams at most this long (default 7
	// days): how long the api nodes and PostgreSQL may be away.
	MaxAge time.Duration
	// MaxDeliver is how often an undecodable message is tried before it
	// goes to the dead letters (default 5).
	MaxDeliver int
	// RebalanceQuiet is how long the placement must stay unchanged (no
	// camera, node or assignment change) before the coordinator starts a
	// round of planned moves toward a fair share (default NodeTTL, which
	// the node may adopt from the cluster; negative: never rebalance).
	RebalanceQuiet time.Duration
	// Now is the clock for self-fencing and status; default time.Now.
	Now func() time.Time
	Log *slog.Logger
}

func (o *Options) defaults() {
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	if o.NodeTTL == 0 {
		o.NodeTTL = 10 * time.Second
	}
	if o.LeaderTTL == 0 {
		o.LeaderTTL = 10 * time.Second
	}
	if o.MaxAge == 0 {
		o.MaxAge = 7 * 24 * time.Hour
	}
	if o.MaxDeliver == 0 {
		o.MaxDeliver = 5
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// Cluster is one node's handle on the shared buckets and streams. Its
// parts (Heartbeat, Worker, Coordinator, Consumer, Publisher, Config,
// Handover, live relay, Status) are started separately by role.
type Cluster struct {
	NC       *nats.Conn
	JS       jetstream.JetStream
	opts     Options
	instance string // this process, so a restarted node is told apart

	nodes, leader, assign, config jetstream.KeyValue
	handover                      jetstream.ObjectStore
	metrics                       *Metrics

	handoverLoads chan struct{}
	beatLease     lease
	running       atomic.Int64 // cameras the worker part runs
}

// Open creates or updates the buckets and streams (idempotent: every node
// does it at start) and returns the node's handle. nc stays the caller's.
func Open(ctx context.Context, nc *nats.Conn, o Options) (*Cluster, error) {
	o.defaults()
	if err := ValidID(o.Node); err != nil {
		return nil, fmt.Errorf("cluster: node name: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	c := &Cluster{NC: nc, JS: js, opts: o, instance: randomID(), metrics: newMetrics(o.Node), handoverLoads: make(chan struct{}, 8)}
	// Replicas may be electing (a server just restarted): wait a while.
	ectx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := c.ensure(ectx); err != nil {
		return nil, fmt.Errorf("cluster: set up streams and buckets: %w", err)
	}
	return c, nil
}

// Node is this node's name.
func (c *Cluster) Node() string { return c.opts.Node }

// adoptTTLs makes the TTLs of the live cluster this node's: node_ttl
// and leader_ttl are properties of the shared buckets, and opening them
// with other values would change them under the nodes already running
// (their heartbeats would then expire early, and cameras bounce). While
// another node is live the buckets' values win, with a warning; with none
// live, this node's values are written.
func (c *Cluster) adoptTTLs(ctx context.Context) {
	nodes, err := c.JS.KeyValue(ctx, BucketNodes)
	if err != nil || !c.othersLive(ctx, nodes) {
		return // a new cluster, or nobody to disturb
	}
	adopt := func(kv jetstream.KeyValue, setting string, ttl *time.Duration) {
		st, err := kv.Status(ctx)
		if err != nil || st.TTL() <= 0 || st.TTL() == *ttl {
			return
		}
		c.opts.Log.Warn("cluster: "+setting+" differs from the running cluster's; using the cluster's (every node must use the same)",
			"configured", *ttl, "cluster", st.TTL())
		*ttl = st.TTL()
	}
	adopt(nodes, "node_ttl", &c.opts.NodeTTL)
	if leader, err := c.JS.KeyValue(ctx, BucketLeader); err == nil {
		adopt(leader, "leader_ttl", &c.opts.LeaderTTL)
	}
}

// othersLive reports a heartbeat of another node in the bucket.
func (c *Cluster) othersLive(ctx context.Context, nodes jetstream.KeyValue) bool {
	keys, err := nodes.ListKeys(ctx)
	if err != nil {
		return false
	}
	defer func() { _ = keys.Stop() }()
	live := false
	for k := range keys.Keys() {
		live = live || k != c.opts.Node
	}
	return live
}

func (c *Cluster) ensure(ctx context.Context) error {
	c.adoptTTLs(ctx)
	st, r := jetstream.FileStorage, c.opts.Replicas
	kv := func(dst *jetstream.KeyValue, cfg jetstream.KeyValueConfig) error {
		cfg.Storage, cfg.Replicas = st, r
		b, err := retry(ctx, c, "bucket "+cfg.Bucket, func(ctx context.Context) (jetstream.KeyValue, error) {
			return c.JS.CreateOrUpdateKeyValue(ctx, cfg)
		})
		if err != nil {
			return fmt.Errorf("bucket %s: %w", cfg.Bucket, err)
		}
		*dst = b
		return nil
	}
	// Expiring keys leave a delete marker (kept for a while) so watchers
	// see a node or a coordinator go away.
	marker := func(ttl time.Duration) time.Duration { return max(ttl, time.Second) }
	if err := errors.Join(
		kv(&c.nodes, jetstream.KeyValueConfig{Bucket: BucketNodes, History: 1, TTL: c.opts.NodeTTL, LimitMarkerTTL: marker(c.opts.NodeTTL)}),
		kv(&c.leader, jetstream.KeyValueConfig{Bucket: BucketLeader, History: 1, TTL: c.opts.LeaderTTL, LimitMarkerTTL: marker(c.opts.LeaderTTL)}),
		kv(&c.assign, jetstream.KeyValueConfig{Bucket: BucketAssign, History: 5}),
		kv(&c.config, jetstream.KeyValueConfig{Bucket: BucketConfig, History: 10, MaxValueSize: 1 << 20}),
	); err != nil {
		return err
	}
	obj, err := retry(ctx, c, "object store", func(ctx context.Context) (jetstream.ObjectStore, error) {
		return c.JS.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: BucketHandover, Storage: st, Replicas: r})
	})
	if err != nil {
		return fmt.Errorf("object store %s: %w", BucketHandover, err)
	}
	c.handover = obj
	for _, k := range Kinds {
		if err := c.ensureStream(ctx, k); err != nil {
			return err
		}
	}
	_, err = retry(ctx, c, "stream "+StreamDead, func(ctx context.Context) (jetstream.Stream, error) {
		return c.JS.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name: StreamDead, Subjects: []string{"vigil.dead.>"}, Storage: st, Replicas: r, MaxAge: c.opts.MaxAge,
		})
	})
	if err != nil {
		return fmt.Errorf("stream %s: %w", StreamDead, err)
	}
	return nil
}

func (c *Cluster) ensureStream(ctx context.Context, k Kind) error {
	cfg := jetstream.StreamConfig{
		Name:     streamName(k),
		Subjects: []string{Subject(k, "*")},
		Storage:  jetstream.FileStorage,
		Replicas: c.opts.Replicas,
		MaxAge:   c.opts.MaxAge,
		// Publish retries within this window carry the same Nats-Msg-Id
		// and are dropped; the store's keys cover anything later.
		Duplicates: 10 * time.Minute,
	}
	if k == KindBaseline {
		// Only the newest snapshot of a camera matters.
		cfg.MaxMsgsPerSubject = 1
	}
	if _, err := retry(ctx, c, "stream "+cfg.Name, func(ctx context.Context) (jetstream.Stream, error) {
		return c.JS.CreateOrUpdateStream(ctx, cfg)
	}); err != nil {
		return fmt.Errorf("stream %s: %w", cfg.Name, err)
	}
	return nil
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
