package deliver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Store is the outbox as the worker needs it. *sqlstore.DB implements it
// for SQLite and PostgreSQL.
type Store interface {
	// Enqueue adds messages; one whose (ID, Destination) is already
	// stored is skipped, so enqueuing is idempotent.
	Enqueue(ctx context.Context, msgs []Message) error
	// Claim returns up to limit pending messages, in Seq order, of the
	// lanes (destination, camera) whose first pending message is due at
	// now and not under a live claim, and claims them for claimer until
	// until: no Claim, by any process sharing the store, returns a lane
	// again before its claim expires or its head is marked. Claims are
	// taken one at a time across the processes.
	Claim(ctx context.Context, claimer string, now, until time.Time, limit int) ([]Message, error)
	// Release drops the claims claimer holds on pending messages: a node
	// that restarts takes up at once what it was sending when it died.
	Release(ctx context.Context, claimer string) error
	// MarkDelivered records deliveries.
	MarkDelivered(ctx context.Context, seqs []int64, at time.Time) error
	// MarkFailed records a failed attempt of a pending message (one
	// delivered meanwhile stays delivered): it is retried at next, or,
	// when dead, moved to the dead letters; its claim ends.
	MarkFailed(ctx context.Context, seq int64, attempts int, next time.Time, errText string, dead bool, at time.Time) error
	// DeadLetters lists dead messages, newest first; After is a Seq cursor.
	DeadLetters(ctx context.Context, f DeadFilter) ([]Message, error)
	// RetryDead makes a dead message pending again, due at now
	// (ErrNotFound wrapped when there is no such dead message).
	RetryDead(ctx context.Context, seq int64, now time.Time) (Message, error)
	// Backlog summarises the outbox.
	Backlog(ctx context.Context) (Backlog, error)
	// PurgeDelivered deletes messages delivered before before.
	PurgeDelivered(ctx context.Context, before time.Time) (int64, error)
}

// DeadFilter selects dead letters.
type DeadFilter struct {
	Destination string
	Camera      string
	After       int64 // cursor: Seq < After
	Limit       int
}

// Backlog is the state of the outbox.
type Backlog struct {
	Pending int64     `json:"pending"`
	Dead    int64     `json:"dead"`
	Oldest  time.Time `json:"oldest,omitzero"`  // created time of the oldest pending message
	NextAt  time.Time `json:"next_at,omitzero"` // the earliest a pending lane head is due (and unclaimed)
}

// Transport sends one message; nil means the receiver has it.
type Transport interface {
	Send(ctx context.Context, m Message) error
}

// starter is a transport with a connection to run (MQTT).
type starter interface {
	Start(ctx context.Context) error
	Stop()
}

// Options tune the worker; zero values take the defaults.
type Options struct {
	Now  func() time.Time // default time.Now
	Rand func() float64   // [0,1), for jitter; default math/rand/v2
	// BaseDelay doubles with every failed attempt up to MaxDelay; each
	// wait is jittered to between half and all of it.
	BaseDelay time.Duration // default 1 s
	MaxDelay  time.Duration // default 5 min
	// MaxAttempts moves a message to the dead letters after this many
	// failed attempts (default 40: about 3 hours at the 5 minute cap).
	MaxAttempts int
	// Batch is the most messages one pass fetches (default 200). A pass
	// records its deliveries in one commit at its end, so a crash
	// mid-pass redelivers at most this many (receivers drop them by id).
	Batch    int
	Parallel int           // lanes delivered at once (default 16)
	Poll     time.Duration // Run looks at least this often (default 1 s)
	Keep     time.Duration // delivered messages are purged after (default 7 days)
	// Node names the worker's claims (default "local"); workers sharing a
	// store need names of their own (the cluster node name).
	Node string
	// Lease is how long a pass's claim lasts (default 2 min). A pass sends
	// only in the first half of it, leaving the second for the sends in
	// flight and the commit, so a live worker's claim never lapses under
	// it; a dead worker's claim lapses and another worker sends its lanes.
	Lease  time.Duration
	Logger *slog.Logger
}

func (o *Options) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	if o.BaseDelay <= 0 {
		o.BaseDelay = time.Second
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = 5 * time.Minute
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 40
	}
	if o.Batch <= 0 {
		o.Batch = 200
	}
	if o.Parallel <= 0 {
		o.Parallel = 16
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Keep <= 0 {
		o.Keep = 7 * 24 * time.Hour
	}
	if o.Node == "" {
		o.Node = "local"
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Worker drains the outbox.
type Worker struct {
	store      Store
	transports map[string]Transport
	o          Options
	wake       chan struct{}
	m          *metrics
	randMu     sync.Mutex // Rand need not be safe for concurrent use
	lastPurge  time.Time
}

// NewWorker makes a worker delivering to transports by destination name.
func NewWorker(s Store, transports map[string]Transport, o Options) *Worker {
	o.defaults()
	return &Worker{store: s, transports: transports, o: o, wake: make(chan struct{}, 1), m: newMetrics()}
}

// Notify tells the worker new messages are committed, so it looks now
// instead of at its next poll. It never blocks.
func (w *Worker) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Result is what one pass did.
type Result struct {
	Sent, Failed, Dead int
	// Next is when the earliest pending message is due (zero: none).
	Next time.Time
}

// Drain makes one pass: it claims the due lanes and delivers each in
// order until its first failure, or until half its claim is spent. It
// returns when the pass is over; Run calls it in a loop, tests call it
// directly with an injected clock.
func (w *Worker) Drain(ctx context.Context) (Result, error) {
	now := w.o.Now()
	msgs, err := w.store.Claim(ctx, w.o.Node, now, now.Add(w.o.Lease), w.o.Batch)
	if err != nil {
		return Result{}, fmt.Errorf("outbox: %w", err)
	}
	stop := now.Add(w.o.Lease / 2)
	var res Result
	var mu sync.Mutex
	var sent []Message
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(w.o.Parallel)
	for _, lane := range lanes(msgs) {
		g.Go(func() error {
			ok, r, err := w.deliverLane(gctx, lane, stop)
			mu.Lock()
			sent = append(sent, ok...)
			res.Failed, res.Dead = res.Failed+r.Failed, res.Dead+r.Dead
			mu.Unlock()
			return err
		})
	}
	laneErr := g.Wait()
	// One commit for the pass's deliveries, even when a lane failed on
	// the store: what was sent is recorded, so it is not sent again.
	if err := w.delivered(ctx, sent); err != nil {
		return res, err
	}
	// The pass is over: what it claimed and did not send (a lane stopped
	// at a failure or at the half lease) is free again.
	if len(msgs) > 0 {
		if err := w.store.Release(context.WithoutCancel(ctx), w.o.Node); err != nil {
			return res, fmt.Errorf("outbox: %w", err)
		}
	}
	res.Sent = len(sent)
	if laneErr != nil {
		return res, laneErr
	}
	b, err := w.store.Backlog(ctx)
	if err != nil {
		return res, fmt.Errorf("outbox: %w", err)
	}
	w.m.pending.Set(float64(b.Pending))
	w.m.dead.Set(float64(b.Dead))
	res.Next = b.NextAt
	if now.Sub(w.lastPurge) > time.Hour {
		w.lastPurge = now
		if _, err := w.store.PurgeDelivered(ctx, now.Add(-w.o.Keep)); err != nil {
			w.o.Logger.Warn("purging delivered messages failed", "err", err)
		}
	}
	return res, nil
}

// lanes splits messages by (destination, camera), keeping Seq order.
func lanes(msgs []Message) [][]Message {
	type key struct{ dest, camera string }
	idx := map[key]int{}
	var out [][]Message
	for _, m := range msgs {
		k := key{m.Destination, m.Camera}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], m)
	}
	return out
}

// delivered records a pass's deliveries and counts them.
func (w *Worker) delivered(ctx context.Context, sent []Message) error {
	if len(sent) == 0 {
		return nil
	}
	at := w.o.Now()
	seqs := make([]int64, len(sent))
	for i, m := range sent {
		seqs[i] = m.Seq
	}
	// Not the pass's context: a shutdown must not lose the record of
	// what was already sent.
	if err := w.store.MarkDelivered(context.WithoutCancel(ctx), seqs, at); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	for _, m := range sent {
		w.m.sent.WithLabelValues(m.Destination, m.Kind).Inc()
		w.m.latency.WithLabelValues(m.Destination).Observe(max(0, at.Sub(m.Created).Seconds()))
	}
	return nil
}

// deliverLane sends a lane's messages in order and stops at the first
// failure, so a later message never overtakes an earlier one, or at stop,
// leaving the rest to a later claim. It returns the messages sent; the
// caller records them.
func (w *Worker) deliverLane(ctx context.Context, lane []Message, stop time.Time) ([]Message, Result, error) {
	var r Result
	var sent []Message
	for _, m := range lane {
		if !w.o.Now().Before(stop) {
			return sent, r, nil
		}
		sendErr := w.send(ctx, m)
		at := w.o.Now()
		if sendErr == nil {
			sent = append(sent, m)
			continue
		}
		if ctx.Err() != nil {
			return sent, r, ctx.Err() // shutting down: the attempt does not count
		}
		attempts := m.Attempts + 1
		dead := IsPermanent(sendErr) || attempts >= w.o.MaxAttempts
		next := at.Add(w.backoff(attempts))
		if err := w.store.MarkFailed(ctx, m.Seq, attempts, next, sendErr.Error(), dead, at); err != nil {
			return sent, r, fmt.Errorf("outbox: %w", err)
		}
		w.m.failures.WithLabelValues(m.Destination).Inc()
		if dead {
			r.Dead++
			w.m.deadTotal.WithLabelValues(m.Destination).Inc()
			w.o.Logger.Error("message dead-lettered", "destination", m.Destination, "id", m.ID, "attempts", attempts, "err", sendErr)
			continue // the lane goes on without it
		}
		r.Failed++
		w.o.Logger.Warn("delivery failed; will retry", "destination", m.Destination, "id", m.ID,
			"attempts", attempts, "retry_at", next, "err", sendErr)
		return sent, r, nil
	}
	return sent, r, nil
}

func (w *Worker) send(ctx context.Context, m Message) error {
	t, ok := w.transports[m.Destination]
	if !ok {
		return fmt.Errorf("destination %q is not configured", m.Destination)
	}
	return t.Send(ctx, m)
}

// backoff is the wait after the n-th failed attempt: BaseDelay·2^(n-1),
// capped at MaxDelay, jittered to between half and all of it so that many
// lanes failing together do not retry in lockstep.
func (w *Worker) backoff(n int) time.Duration {
	d := float64(w.o.BaseDelay) * math.Pow(2, float64(min(n-1, 40)))
	d = min(d, float64(w.o.MaxDelay))
	w.randMu.Lock()
	j := w.o.Rand()
	w.randMu.Unlock()
	return time.Duration(d * (0.5 + 0.5*j))
}

// Run starts the transports' connections and delivers until ctx ends,
// passing again whenever Notify is called, a retry falls due, or Poll
// passes. A failing store is logged and retried at the next poll. It
// returns nil when ctx ends, after the connections are closed.
func (w *Worker) Run(ctx context.Context) error {
	var started []starter
	defer func() {
		for _, s := range started {
			s.Stop()
		}
	}()
	for name, t := range w.transports {
		if s, ok := t.(starter); ok {
			if err := s.Start(ctx); err != nil {
				return fmt.Errorf("destination %q: %w", name, err)
			}
			started = append(started, s)
		}
	}
	if err := w.store.Release(ctx, w.o.Node); err != nil {
		w.o.Logger.Warn("outbox: releasing this node's earlier claims failed; they lapse with their lease", "err", err)
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-w.wake:
		case <-timer.C:
		}
		res, err := w.Drain(ctx)
		wait := w.o.Poll
		switch {
		case errors.Is(err, context.Canceled) && ctx.Err() != nil:
			return nil
		case err != nil:
			w.m.storeErrors.Inc()
			w.o.Logger.Error("outbox pass failed", "err", err)
		case res.Sent > 0 || res.Dead > 0:
			wait = 0 // there may be more behind this batch
		case !res.Next.IsZero():
			wait = min(wait, max(0, res.Next.Sub(w.o.Now())))
		}
		timer.Reset(wait)
	}
}
