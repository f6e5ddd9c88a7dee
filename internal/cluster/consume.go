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

// Writer takes records to the system of record, a batch at a time (one
// transaction: a busy store commits many records at once). It must be
// idempotent by Record.Key (a record may come again) and return only once
// the batch is durable; an error means "try again later" unless wrapped
// by Permanent.
type Writer interface {
	WriteBatch(ctx context.Context, rs []Record) error
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
	// Concurrency is how many batches are written at once per kind
	// (default 4).
	Concurrency int
	// BatchSize caps the records of one batch (default 256; baselines
	// are capped at BatchBytes too). A batch is whatever has arrived,
	// so a quiet stream writes each record at once.
	BatchSize  int
	BatchBytes int
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
		o.Concurrency = 4
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 256
	}
	if o.BatchBytes <= 0 {
		o.BatchBytes = 4 << 20
	}
	if o.AckWait <= 0 {
		o.AckWait = 30 * time.Second
	}
	if o.MaxRetryDelay <= 0 {
		o.MaxRetryDelay = 10 * time.Second
	}
	consumers := make([]jetstream.Consumer, len(Kinds))
	for i, k := range Kinds {
		cfg := jetstream.ConsumerConfig{
			Durable:       ConsumerAPI,
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       o.AckWait,
			MaxDeliver:    -1, // poison is counted here, not by the server (see reject)
			MaxAckPending: 2 * o.Concurrency * o.BatchSize,
		}
		cons, err := retry(ctx, c, "consumer on "+streamName(k), func(ctx context.Context) (jetstream.Consumer, error) {
			return c.JS.CreateOrUpdateConsumer(ctx, streamName(k), cfg)
		})
		if err != nil {
			return err
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
	msgs := make(chan jetstream.Msg, o.Concurrency*o.BatchSize)
	cc, err := cons.Consume(func(m jetstream.Msg) {
		select {
		case msgs <- m:
		case <-ctx.Done(): // not acked: redelivered to whoever consumes next
		}
	}, jetstream.PullMaxMessages(o.Concurrency*o.BatchSize))
	if err != nil {
		return fmt.Errorf("cluster: consume %s: %w", k, err)
	}
	var wg sync.WaitGroup
	for range o.Concurrency {
		wg.Go(func() {
			for {
				batch := nextBatch(ctx, msgs, o.BatchSize, o.BatchBytes)
				if batch == nil {
					return
				}
				c.handleBatch(ctx, k, batch, o)
			}
		})
	}
	<-ctx.Done()
	cc.Stop()
	<-cc.Closed()
	wg.Wait()
	return nil
}

// nextBatch waits for one message and takes whatever else has arrived,
// up to n messages and about maxBytes; nil when ctx ends.
func nextBatch(ctx context.Context, msgs <-chan jetstream.Msg, n, maxBytes int) []jetstream.Msg {
	var batch []jetstream.Msg
	select {
	case <-ctx.Done():
		return nil
	case m := <-msgs:
		batch = append(batch, m)
	}
	size := len(batch[0].Data())
	for len(batch) < n && size < maxBytes {
		select {
		case m := <-msgs:
			batch = append(batch, m)
			size += len(m.Data())
		default:
			return batch
		}
	}
	return batch
}

// handleBatch decodes a batch, sets poison aside, writes the rest in one
// go and acknowledges it. When the batch fails as a whole, each record is
// tried alone, so one bad record cannot hold the others back.
func (c *Cluster) handleBatch(ctx context.Context, k Kind, batch []jetstream.Msg, o ConsumerOptions) {
	var good []jetstream.Msg
	var rs []Record
	for _, m := range batch {
		r, err := DecodeRecord(k, m.Subject(), m.Headers(), m.Data())
		if err != nil {
			c.reject(ctx, k, m, err, o)
			continue
		}
		good, rs = append(good, m), append(rs, r)
	}
	if len(rs) == 0 {
		return
	}
	err := o.Writer.WriteBatch(ctx, rs)
	if err == nil {
		c.written(k, good, rs)
		return
	}
	if len(rs) == 1 || ctx.Err() != nil {
		c.failed(ctx, k, good[0], rs[0], err, o)
		return
	}
	for i := range rs {
		if err := o.Writer.WriteBatch(ctx, rs[i:i+1]); err != nil {
			c.failed(ctx, k, good[i], rs[i], err, o)
			continue
		}
		c.written(k, good[i:i+1], rs[i:i+1])
	}
}

func (c *Cluster) written(k Kind, ms []jetstream.Msg, rs []Record) {
	now := c.opts.Now()
	for i, m := range ms {
		_ = m.Ack() // a lost ack redelivers; the writer's key makes that harmless
		c.metrics.written.WithLabelValues(string(k)).Inc()
		if !rs[i].Sent.IsZero() {
			c.metrics.writeLatency.WithLabelValues(string(k)).Observe(now.Sub(rs[i].Sent).Seconds())
		}
	}
}

// failed arranges the retry of a record whose write failed: later when
// the store is at fault (the record waits in the stream however long it
// takes), or as poison when the record is.
func (c *Cluster) failed(ctx context.Context, k Kind, m jetstream.Msg, r Record, err error, o ConsumerOptions) {
	if errors.As(err, new(permanent)) {
		c.reject(ctx, k, m, err, o)
		return
	}
	c.metrics.writeErrors.WithLabelValues(string(k)).Inc()
	c.opts.Log.Warn("cluster: record not written; will retry", "kind", k, "key", r.Key, "err", err)
	delivered := uint64(1)
	if md, mdErr := m.Metadata(); mdErr == nil {
		delivered = md.NumDelivered
	}
	_ = m.NakWithDelay(retryDelay(delivered, o.MaxRetryDelay))
}

// reject counts a delivery of a record that cannot be written: it is
// retried until MaxDeliver deliveries, then moved to the dead letters.
func (c *Cluster) reject(ctx context.Context, k Kind, m jetstream.Msg, cause error, o ConsumerOptions) {
	md, err := m.Metadata()
	if err != nil {
		_ = m.Term() // not a JetStream delivery at all
		return
	}
	if md.NumDelivered < uint64(c.opts.MaxDeliver) {
		_ = m.Nak()
		return
	}
	if derr := c.deadLetter(ctx, k, m, md, cause); derr != nil {
		c.opts.Log.Error("cluster: dead letter not stored; will retry", "kind", k, "subject", m.Subject(), "err", derr)
		_ = m.NakWithDelay(retryDelay(md.NumDelivered, o.MaxRetryDelay))
		return
	}
	c.metrics.deadLetters.WithLabelValues(string(k)).Inc()
	c.opts.Log.Error("cluster: poisoned record moved to the dead letters", "kind", k, "subject", m.Subject(),
		"stream_seq", md.Sequence.Stream, "deliveries", md.NumDelivered, "err", cause)
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

// retry calls fn until it succeeds or ctx ends: JetStream answers "no
// leader yet" or times out while a server is down or replicas elect, and
// an api node must wait that out rather than stop.
func retry[T any](ctx context.Context, c *Cluster, what string, fn func(context.Context) (T, error)) (T, error) {
	delay := 100 * time.Millisecond
	for {
		tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		v, err := fn(tctx)
		cancel()
		if err == nil {
			return v, nil
		}
		if ctx.Err() != nil {
			return v, fmt.Errorf("cluster: %s: %w", what, err)
		}
		c.opts.Log.Warn("cluster: retrying", "what", what, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}
