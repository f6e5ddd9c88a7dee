package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/store"
)

// Record is one message of the event flow, decoded.
type Record struct {
	Kind   Kind
	Camera string
	Key    string // the Nats-Msg-Id: the record's identity
	Node   string // the worker that published it
	Fence  uint64
	Seq    uint64
	Sent   time.Time // when the worker published it

	Event    *event.Event        // KindEvent
	Track    *store.TrackSummary // KindTrack
	Counts   []store.Count       // KindCounts
	Baseline []byte              // KindBaseline
}

// Writer takes each record to the system of record. It must be
// idempotent by Record.Key (the same record may come again) and return
// only once the record is durable; an error means "try again later"
// unless wrapped by Permanent.
type Writer interface {
	Write(ctx context.Context, r Record) error
}

// permanent marks an error the record itself causes.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent wraps err to say retrying cannot help: the record goes to the
// dead letters after MaxDeliver tries, like an undecodable one.
func Permanent(err error) error { return permanent{err} }

// ConsumerOptions tune the api node's consumer.
type ConsumerOptions struct {
	Writer Writer
	// Concurrency is how many records are written at once per kind
	// (default 8).
	Concurrency int
	// AckWait is how long a delivered record may stay unacknowledged
	// before it is redelivered (default 30 s).
	AckWait time.Duration
	// MaxRetryDelay caps the delay between tries of a record whose write
	// failed (default 10 s; the delay doubles from 250 ms).
	MaxRetryDelay time.Duration
}

// RunConsumer consumes every record kind with the shared durable pull
// consumer and hands each record to o.Writer, acknowledging it only after
// the write; it returns when ctx ends. Several api nodes may run it: they
// share the work.
func (c *Cluster) RunConsumer(ctx context.Context, o ConsumerOptions) error {
	if o.Writer == nil {
		return errors.New("cluster: consumer needs a Writer")
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.AckWait <= 0 {
		o.AckWait = 30 * time.Second
	}
	if o.MaxRetryDelay <= 0 {
		o.MaxRetryDelay = 10 * time.Second
	}
	consumers := make([]jetstream.Consumer, len(Kinds))
	for i, k := range Kinds {
		cons, err := c.JS.CreateOrUpdateConsumer(ctx, streamName(k), jetstream.ConsumerConfig{
			Durable:       ConsumerAPI,
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       o.AckWait,
			MaxDeliver:    -1, // poison is counted here, not by the server (see handle)
			MaxAckPending: 32 * o.Concurrency,
		})
		if err != nil {
			return fmt.Errorf("cluster: consumer on %s: %w", streamName(k), err)
		}
		consumers[i] = cons
	}
	var wg sync.WaitGroup
	errs := make([]error, len(Kinds))
	for i, k := range Kinds {
		wg.Go(func() { errs[i] = c.consume(ctx, k, consumers[i], o) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (c *Cluster) consume(ctx context.Context, k Kind, cons jetstream.Consumer, o ConsumerOptions) error {
	sem := make(chan struct{}, o.Concurrency)
	var inflight sync.WaitGroup
	cc, err := cons.Consume(func(m jetstream.Msg) {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return // not acked: redelivered to whoever consumes next
		}
		inflight.Add(1)
		go func() {
			defer func() { <-sem; inflight.Done() }()
			c.handle(ctx, k, m, o)
		}()
	}, jetstream.PullMaxMessages(2*o.Concurrency))
	if err != nil {
		return fmt.Errorf("cluster: consume %s: %w", k, err)
	}
	<-ctx.Done()
	cc.Stop()
	<-cc.Closed()
	inflight.Wait()
	return nil
}

// handle writes one message and acknowledges it, or arranges its retry,
// or moves it to the dead letters.
func (c *Cluster) handle(ctx context.Context, k Kind, m jetstream.Msg, o ConsumerOptions) {
	md, err := m.Metadata()
	if err != nil {
		_ = m.Term() // not a JetStream delivery at all
		return
	}
	r, err := DecodeRecord(k, m.Subject(), m.Headers(), m.Data())
	if err == nil {
		err = o.Writer.Write(ctx, r)
		if err == nil {
			_ = m.Ack() // a lost ack redelivers; the writer's key makes that harmless
			c.metrics.written.WithLabelValues(string(k)).Inc()
			if !r.Sent.IsZero() {
				c.metrics.writeLatency.WithLabelValues(string(k)).Observe(c.opts.Now().Sub(r.Sent).Seconds())
			}
			return
		}
		if !errors.As(err, new(permanent)) {
			// The store is down or busy: the record waits in the stream.
			c.metrics.writeErrors.WithLabelValues(string(k)).Inc()
			c.opts.Log.Warn("cluster: record not written; will retry", "kind", k, "key", r.Key, "err", err)
			_ = m.NakWithDelay(retryDelay(md.NumDelivered, o.MaxRetryDelay))
			return
		}
	}
	if md.NumDelivered < uint64(c.opts.MaxDeliver) {
		_ = m.Nak()
		return
	}
	if derr := c.deadLetter(ctx, k, m, md, err); derr != nil {
		c.opts.Log.Error("cluster: dead letter not stored; will retry", "kind", k, "subject", m.Subject(), "err", derr)
		_ = m.NakWithDelay(retryDelay(md.NumDelivered, o.MaxRetryDelay))
		return
	}
	c.metrics.deadLetters.WithLabelValues(string(k)).Inc()
	c.opts.Log.Error("cluster: poisoned record moved to the dead letters", "kind", k, "subject", m.Subject(),
		"stream_seq", md.Sequence.Stream, "deliveries", md.NumDelivered, "err", err)
	_ = m.Term()
}

func retryDelay(delivered uint64, limit time.Duration) time.Duration {
	d := 250 * time.Millisecond << min(delivered, 10)
	return min(d, limit)
}

// deadLetter copies m to vigil.dead.<kind>.<camera> with why and where
// it came from; the copy is keyed so a retry does not double it.
func (c *Cluster) deadLetter(ctx context.Context, k Kind, m jetstream.Msg, md *jetstream.MsgMetadata, cause error) error {
	camera := m.Subject()[strings.LastIndexByte(m.Subject(), '.')+1:]
	dm := nats.NewMsg(DeadSubject(k, camera))
	dm.Data = m.Data()
	for h, vs := range m.Headers() {
		if h != jetstream.MsgIDHeader {
			dm.Header[h] = vs
		}
	}
	origin := fmt.Sprintf("%s:%d", md.Stream, md.Sequence.Stream)
	dm.Header.Set(HeaderOrigin, origin)
	dm.Header.Set(HeaderReason, truncate(cause.Error(), 500))
	dm.Header.Set(jetstream.MsgIDHeader, "dead-"+origin)
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := c.JS.PublishMsg(tctx, dm, jetstream.WithExpectStream(StreamDead))
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// DecodeRecord parses a message of kind k; any error makes it poison.
func DecodeRecord(k Kind, subject string, h nats.Header, data []byte) (Record, error) {
	r := Record{Kind: k, Key: h.Get(jetstream.MsgIDHeader), Node: h.Get(HeaderNode), Camera: h.Get(HeaderCamera)}
	if want := Subject(k, r.Camera); subject != want || ValidID(r.Camera) != nil {
		return r, fmt.Errorf("subject %q does not match camera header %q", subject, r.Camera)
	}
	if r.Key == "" {
		return r, errors.New("no message id")
	}
	var err error
	if r.Fence, err = strconv.ParseUint(h.Get(HeaderFence), 10, 64); err != nil {
		return r, fmt.Errorf("fence: %w", err)
	}
	if r.Seq, err = strconv.ParseUint(h.Get(HeaderSeq), 10, 64); err != nil {
		return r, fmt.Errorf("seq: %w", err)
	}
	if ns, err := strconv.ParseInt(h.Get(HeaderSent), 10, 64); err == nil {
		r.Sent = time.Unix(0, ns)
	}
	switch k {
	case KindEvent:
		r.Event = new(event.Event)
		err = strictJSON(data, r.Event)
		if err == nil && r.Event.Camera != r.Camera {
			err = fmt.Errorf("event of camera %q on subject of %q", r.Event.Camera, r.Camera)
		}
	case KindTrack:
		r.Track = new(store.TrackSummary)
		err = strictJSON(data, r.Track)
		if err == nil && r.Track.Camera != r.Camera {
			err = fmt.Errorf("track of camera %q on subject of %q", r.Track.Camera, r.Camera)
		}
	case KindCounts:
		err = strictJSON(data, &r.Counts)
		for _, c := range r.Counts {
			if err == nil && c.Camera != r.Camera {
				err = fmt.Errorf("count of camera %q on subject of %q", c.Camera, r.Camera)
			}
		}
	case KindBaseline:
		r.Baseline = data
	default:
		err = fmt.Errorf("unknown kind %q", k)
	}
	if err != nil {
		return r, fmt.Errorf("decode %s record: %w", k, err)
	}
	return r, nil
}

// strictJSON decodes one JSON value. Unknown fields are accepted: a
// newer worker may send fields an older api node does not know yet.
func strictJSON(data []byte, v any) error { return json.Unmarshal(data, v) }
