package cluster

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/cluster/clustertest"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

// openNode connects a bare node (no loops) to the cluster.
func openNode(t *testing.T, cl *clustertest.Cluster, name string, server int) *Cluster {
	t.Helper()
	urls := cl.URLs()
	urls = append(urls[server:], urls[:server]...)
	nc, err := Connect(context.Background(), NATSOptions{URLs: urls, Name: name})
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	c, err := Open(context.Background(), nc, Options{Node: name, Replicas: len(cl.Servers), NodeTTL: testNodeTTL, LeaderTTL: testLeaderTTL, MaxDeliver: 3})
	require.NoError(t, err)
	return c
}

func openSQLite(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "vigil.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// runConsumer runs an api consumer until the test ends.
func runConsumer(t *testing.T, c *Cluster, w Writer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := c.RunConsumer(ctx, ConsumerOptions{Writer: w, Concurrency: 4, AckWait: 5 * time.Second, MaxRetryDelay: 200 * time.Millisecond})
		if err != nil {
			panic(err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// countingWriter wraps a Writer, lets a test fail a batch after it was
// committed (the acknowledgement is lost), and signals every record
// written.
type countingWriter struct {
	w           Writer
	afterCommit func(r Record, attempt int) error // nil: never fails
	mu          sync.Mutex
	seen        map[string]int // key → attempts
	ok          chan Record
}

func newCountingWriter(w Writer) *countingWriter {
	return &countingWriter{w: w, seen: map[string]int{}, ok: make(chan Record, 10000)}
}

func (cw *countingWriter) WriteBatch(ctx context.Context, rs []Record) error {
	cw.mu.Lock()
	attempts := make([]int, len(rs))
	for i, r := range rs {
		cw.seen[r.Key]++
		attempts[i] = cw.seen[r.Key]
	}
	cw.mu.Unlock()
	if err := cw.w.WriteBatch(ctx, rs); err != nil {
		return err
	}
	for i, r := range rs {
		if cw.afterCommit != nil {
			if err := cw.afterCommit(r, attempts[i]); err != nil {
				return err
			}
		}
	}
	for _, r := range rs {
		cw.ok <- r
	}
	return nil
}

func (cw *countingWriter) waitWrites(t *testing.T, n int) []Record {
	t.Helper()
	var got []Record
	deadline := time.After(waitLimit)
	for len(got) < n {
		select {
		case r := <-cw.ok:
			got = append(got, r)
		case <-deadline:
			t.Fatalf("only %d of %d records written", len(got), n)
		}
	}
	return got
}

func alertFor(camera string, i int) event.Event {
	return event.Event{Rule: "intrusion", Name: "fence", Camera: camera, Tracks: []int{i}, Class: "person",
		Start: float64(i) + 0.25, End: float64(i) + 1, Severity: event.High, Explanation: fmt.Sprintf("track %d", i)}
}

func storedKeys(t *testing.T, s *sqlite.Store) map[string]int {
	t.Helper()
	rows, err := s.R.Query(`SELECT msg_id FROM alerts`)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		require.NoError(t, rows.Scan(&k))
		out[k]++
	}
	require.NoError(t, rows.Err())
	return out
}

func TestClusterExactlyOnceWithRedelivery(t *testing.T) {
	cl := clustertest.Start(t, 3, clustertest.Options{})
	worker, api := openNode(t, cl, "w1", 0), openNode(t, cl, "api", 1)
	s := openSQLite(t)
	var alerts atomic.Int64
	sw := StoreWriter{Store: s, OnAlert: func(int64, event.Event) { alerts.Add(1) }}
	cw := newCountingWriter(sw)
	// Every third alert is committed but its acknowledgement is lost (the
	// writer reports failure after the commit): it is redelivered, with
	// whatever shared its batch.
	cw.afterCommit = func(r Record, attempt int) error {
		if r.Event != nil && r.Event.Tracks[0]%3 == 0 && attempt == 1 {
			return errors.New("connection reset after commit")
		}
		return nil
	}
	runConsumer(t, api, cw)
	ctx := context.Background()
	l := Lease{Camera: "cam-1", Node: "w1", Fence: 7}
	const n = 30
	for i := range n {
		require.NoError(t, worker.Publisher().Event(ctx, l, alertFor("cam-1", i)))
		if i%5 == 0 { // a publish retry: same id, dropped by the stream
			require.NoError(t, worker.Publisher().Event(ctx, l, alertFor("cam-1", i)))
		}
	}
	require.NoError(t, worker.Publisher().Counts(ctx, l, 1, []store.Count{{Camera: "cam-1", Name: "gate", Class: "car", Bucket: time.Unix(0, 0), N: 2}}))
	require.NoError(t, worker.Publisher().Counts(ctx, l, 1, []store.Count{{Camera: "cam-1", Name: "gate", Class: "car", Bucket: time.Unix(0, 0), N: 2}}))
	require.NoError(t, worker.Publisher().Track(ctx, l, store.TrackSummary{Camera: "cam-1", TrackID: 3, Class: "car", Start: time.Unix(5, 0), End: time.Unix(9, 0)}))
	require.NoError(t, worker.Publisher().Baseline(ctx, l, 1, []byte("model-v1")))

	cw.waitWrites(t, n+3)
	keys := storedKeys(t, s)
	require.Len(t, keys, n)
	for i := range n {
		e := alertFor("cam-1", i)
		require.Equal(t, 1, keys[EventKey("cam-1", e.Rule, e.Name, i, e.Start)], "alert %d stored once", i)
	}
	require.EqualValues(t, n, alerts.Load(), "OnAlert once per alert despite redeliveries")
	cw.mu.Lock()
	redelivered := 0
	for _, a := range cw.seen {
		if a > 1 {
			redelivered++
		}
	}
	cw.mu.Unlock()
	require.GreaterOrEqual(t, redelivered, 10, "the ten lost acks were redelivered")
	counts, err := s.ListCounts(ctx, store.CountFilter{Camera: "cam-1"})
	require.NoError(t, err)
	require.EqualValues(t, 2, counts[0].N, "the repeated batch counted once")
	bl, _, err := s.GetBaseline(ctx, "cam-1")
	require.NoError(t, err)
	require.Equal(t, "model-v1", string(bl))
}

// downWriter fails every write while down is set.
type downWriter struct {
	w    Writer
	down atomic.Bool
	errs atomic.Int64
}

func (d *downWriter) WriteBatch(ctx context.Context, rs []Record) error {
	if d.down.Load() {
		d.errs.Add(1)
		return errors.New("store unavailable")
	}
	return d.w.WriteBatch(ctx, rs)
}

func TestClusterStoreDownEventsWaitInStream(t *testing.T) {
	cl := clustertest.Start(t, 3, clustertest.Options{})
	worker, api := openNode(t, cl, "w1", 0), openNode(t, cl, "api", 1)
	s := openSQLite(t)
	dw := &downWriter{w: StoreWriter{Store: s}}
	dw.down.Store(true)
	cw := newCountingWriter(dw)
	runConsumer(t, api, cw)
	ctx := context.Background()
	l := Lease{Camera: "cam-2", Node: "w1", Fence: 3}
	const n = 20
	for i := range n {
		require.NoError(t, worker.Publisher().Event(ctx, l, alertFor("cam-2", i)))
	}
	// Wait until every record was tried and refused at least once.
	waitCond(t, "all records tried while the store is down", func() bool {
		cw.mu.Lock()
		defer cw.mu.Unlock()
		return len(cw.seen) == n
	})
	require.Empty(t, storedKeys(t, s))
	waitCond(t, "all records counted as waiting in the stream", func() bool {
		st, err := api.Status(ctx)
		require.NoError(t, err)
		require.Zero(t, st.DeadLetters, "a store outage is not poison")
		lag := st.Consumers[streamName(KindEvent)]
		return lag.Error == "" && lag.Pending+uint64(lag.AckPending) == n
	})
	require.Empty(t, storedKeys(t, s))

	dw.down.Store(false)
	cw.waitWrites(t, n)
	require.Len(t, storedKeys(t, s), n)
	require.Positive(t, dw.errs.Load())
}

// waitCond polls a condition the test cannot be signalled about (the
// state of another component), with a deadline; it never sleeps for a
// fixed time to let something happen.
func waitCond(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(waitLimit)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestClusterPoisonedMessageGoesToDeadLetter(t *testing.T) {
	cl := clustertest.Start(t, 1, clustertest.Options{})
	worker, api := openNode(t, cl, "w1", 0), openNode(t, cl, "api", 0)
	s := openSQLite(t)
	cw := newCountingWriter(StoreWriter{Store: s})
	runConsumer(t, api, cw)
	ctx := context.Background()

	dead, err := api.JS.OrderedConsumer(ctx, StreamDead, jetstream.OrderedConsumerConfig{})
	require.NoError(t, err)
	bad := nats.NewMsg(Subject(KindEvent, "cam-3"))
	bad.Data = []byte("{not json")
	bad.Header.Set(jetstream.MsgIDHeader, "poison-1")
	bad.Header.Set(HeaderCamera, "cam-3")
	bad.Header.Set(HeaderFence, "1")
	bad.Header.Set(HeaderSeq, "0")
	_, err = worker.JS.PublishMsg(ctx, bad)
	require.NoError(t, err)
	l := Lease{Camera: "cam-3", Node: "w1", Fence: 1}
	require.NoError(t, worker.Publisher().Event(ctx, l, alertFor("cam-3", 1)))

	m, err := dead.Next(jetstream.FetchMaxWait(waitLimit))
	require.NoError(t, err)
	require.Equal(t, DeadSubject(KindEvent, "cam-3"), m.Subject())
	require.Equal(t, "{not json", string(m.Data()))
	require.Contains(t, m.Headers().Get(HeaderReason), "decode events record")
	require.Contains(t, m.Headers().Get(HeaderOrigin), "VIGIL_EVENTS:")
	cw.waitWrites(t, 1) // the good record behind it landed

	st, err := api.Status(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, st.DeadLetters)
	require.Equal(t, map[string]uint64{DeadSubject(KindEvent, "cam-3"): 1}, st.DeadBySubject)
	waitCond(t, "poison acknowledged (terminated)", func() bool {
		st, err := api.Status(ctx)
		require.NoError(t, err)
		c := st.Consumers[streamName(KindEvent)]
		return c.Pending == 0 && c.AckPending == 0
	})
}

func TestClusterRejectsBadCameraIDs(t *testing.T) {
	for _, id := range []string{"", "a.b", "cam*", "cam>", "has space", "-lead", "tab\t", "ünï", string(make([]byte, 65))} {
		require.Error(t, ValidID(id), "%q", id)
	}
	for _, id := range []string{"cam-1", "Gate_2", "x", "0a"} {
		require.NoError(t, ValidID(id), "%q", id)
	}
	cl := clustertest.Start(t, 1, clustertest.Options{})
	c := openNode(t, cl, "w1", 0)
	_, err := c.Config().PutCamera(context.Background(), CameraConfig{ID: "bad.id"})
	require.ErrorContains(t, err, `character '.'`)
	err = c.Publisher().Event(context.Background(), Lease{Camera: "a>b"}, event.Event{Camera: "a>b"})
	require.Error(t, err)
}
