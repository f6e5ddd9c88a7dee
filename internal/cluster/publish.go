package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/store"
)

// Message headers besides Nats-Msg-Id.
const (
	HeaderCamera = "Vigil-Camera"
	HeaderNode   = "Vigil-Node"
	HeaderFence  = "Vigil-Fence"
	HeaderSeq    = "Vigil-Seq"
	HeaderSent   = "Vigil-Sent" // unix nanoseconds at publish, for latency
	HeaderReason = "Vigil-Dead-Reason"
	HeaderOrigin = "Vigil-Dead-Origin" // stream:sequence of a dead letter
)

// Publisher sends a worker's records to the streams. Each call returns
// once the record is stored (replicated) in JetStream, retrying with the
// same message id until ctx ends, so a retry never doubles a record.
type Publisher struct {
	c *Cluster
	// TryTimeout bounds one attempt (default 5 s).
	TryTimeout time.Duration
}

// Publisher returns the node's publisher.
func (c *Cluster) Publisher() *Publisher { return &Publisher{c: c, TryTimeout: 5 * time.Second} }

// Event publishes an alert raised on a leased camera.
func (p *Publisher) Event(ctx context.Context, l Lease, e event.Event) error {
	if e.Camera != l.Camera {
		return fmt.Errorf("cluster: event of camera %q on the lease of %q", e.Camera, l.Camera)
	}
	track := -1
	if len(e.Tracks) > 0 {
		track = e.Tracks[0]
	}
	return p.publishJSON(ctx, KindEvent, l, 0, EventKey(e.Camera, e.Rule, e.Name, track, e.Start), e)
}

// Track publishes a finished track summary.
func (p *Publisher) Track(ctx context.Context, l Lease, t store.TrackSummary) error {
	if t.Camera != l.Camera {
		return fmt.Errorf("cluster: track of camera %q on the lease of %q", t.Camera, l.Camera)
	}
	return p.publishJSON(ctx, KindTrack, l, 0, TrackKey(t.Camera, t.TrackID, t.Start), t)
}

// Counts publishes one flush of counter increments; seq numbers the
// flushes within the lease (1, 2, …) and makes the batch's identity.
func (p *Publisher) Counts(ctx context.Context, l Lease, seq uint64, cs []store.Count) error {
	for _, c := range cs {
		if c.Camera != l.Camera {
			return fmt.Errorf("cluster: count of camera %q on the lease of %q", c.Camera, l.Camera)
		}
	}
	return p.publishJSON(ctx, KindCounts, l, seq, CountsKey(l.Camera, l.Fence, seq), cs)
}

// Baseline publishes a baseline snapshot (opaque bytes) for the store;
// seq orders a lease's snapshots.
func (p *Publisher) Baseline(ctx context.Context, l Lease, seq uint64, data []byte) error {
	return p.publish(ctx, KindBaseline, l, seq, BaselineKey(l.Camera, l.Fence, seq), data)
}

func (p *Publisher) publishJSON(ctx context.Context, k Kind, l Lease, seq uint64, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("cluster: encode %s record: %w", k, err)
	}
	return p.publish(ctx, k, l, seq, key, b)
}

func (p *Publisher) publish(ctx context.Context, k Kind, l Lease, seq uint64, key string, data []byte) error {
	if err := ValidID(l.Camera); err != nil {
		return fmt.Errorf("cluster: camera: %w", err)
	}
	m := nats.NewMsg(Subject(k, l.Camera))
	m.Data = data
	m.Header.Set(jetstream.MsgIDHeader, key)
	m.Header.Set(HeaderCamera, l.Camera)
	m.Header.Set(HeaderNode, p.c.opts.Node)
	m.Header.Set(HeaderFence, strconv.FormatUint(l.Fence, 10))
	m.Header.Set(HeaderSeq, strconv.FormatUint(seq, 10))
	m.Header.Set(HeaderSent, strconv.FormatInt(p.c.opts.Now().UnixNano(), 10))
	backoff := 50 * time.Millisecond
	for {
		tctx, cancel := context.WithTimeout(ctx, p.TryTimeout)
		_, err := p.c.JS.PublishMsg(tctx, m, jetstream.WithExpectStream(streamName(k)))
		cancel()
		if err == nil {
			p.c.metrics.published.WithLabelValues(string(k)).Inc()
			return nil
		}
		if ctx.Err() != nil || errors.Is(err, nats.ErrMaxPayload) {
			p.c.metrics.publishErrors.WithLabelValues(string(k)).Inc()
			return fmt.Errorf("cluster: publish %s of camera %q: %w", k, l.Camera, err)
		}
		p.c.opts.Log.Debug("cluster: publish retry", "kind", k, "camera", l.Camera, "err", err)
		select { // a server is down or electing a leader: try again, same id
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}
