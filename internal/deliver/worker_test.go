package deliver_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/vigil-cctv/vigil/internal/deliver"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func newStore(t testing.TB) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), ":memory:")
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// fakeClock is the injected clock: only the test moves it.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// flaky is a transport that fails while down and records what it got.
type flaky struct {
	mu    sync.Mutex
	down  bool
	perm  bool
	got   []deliver.Message
	tries int
}

func (f *flaky) Send(_ context.Context, m deliver.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tries++
	if f.perm {
		return deliver.Permanent(errors.New("rejected with 400"))
	}
	if f.down {
		return errors.New("receiver answered 503")
	}
	f.got = append(f.got, m)
	return nil
}

func (f *flaky) set(down, perm bool) {
	f.mu.Lock()
	f.down, f.perm = down, perm
	f.mu.Unlock()
}

func (f *flaky) ids() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, m := range f.got {
		out = append(out, m.ID)
	}
	return out
}

func enqueue(t testing.TB, st deliver.Store, clk *fakeClock, dest, camera string, n, from int) {
	t.Helper()
	var msgs []deliver.Message
	for i := range n {
		id := fmt.Sprintf("%s-%d", camera, from+i)
		msgs = append(msgs, deliver.Message{ID: id, Destination: dest, Camera: camera, Kind: deliver.KindEvent,
			Subject: "r", Payload: []byte(`{"id":"` + id + `"}`), Created: clk.now()})
	}
	require.NoError(t, st.Enqueue(context.Background(), msgs))
}

func TestBackoffOrderAndRecovery(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	clk := &fakeClock{t: tNotice}
	tr := &flaky{down: true}
	w := deliver.NewWorker(st, map[string]deliver.Transport{"d": tr}, deliver.Options{Now: clk.now, Rand: func() float64 { return 1 },
		BaseDelay: time.Second, MaxDelay: 8 * time.Second})
	enqueue(t, st, clk, "d", "cam", 3, 0)

	// Down: one attempt per due head, waits 1, 2, 4, 8, 8 s (jitter 1).
	var waits []time.Duration
	for range 5 {
		res, err := w.Drain(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, res.Failed, "a failed head stops its lane")
		waits = append(waits, res.Next.Sub(clk.now()))
		res, err = w.Drain(ctx)
		require.NoError(t, err)
		require.Zero(t, res.Failed, "nothing is due before the backoff ends")
		clk.advance(res.Next.Sub(clk.now()))
	}
	require.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}, waits)

	tr.set(false, false)
	res, err := w.Drain(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, res.Sent)
	require.Equal(t, []string{"cam-0", "cam-1", "cam-2"}, tr.ids(), "in order")
	b, err := st.Backlog(ctx)
	require.NoError(t, err)
	require.Zero(t, b.Pending)
}

func TestJitter(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	clk := &fakeClock{t: tNotice}
	w := deliver.NewWorker(st, map[string]deliver.Transport{"d": &flaky{down: true}}, deliver.Options{Now: clk.now,
		Rand: func() float64 { return 0 }, BaseDelay: 10 * time.Second})
	enqueue(t, st, clk, "d", "cam", 1, 0)
	res, err := w.Drain(ctx)
	require.NoError(t, err)
	require.Equal(t, 5*time.Second, res.Next.Sub(clk.now()), "jitter takes the wait down to half, never below")
}

func TestDeadLetterAndRetry(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	clk := &fakeClock{t: tNotice}
	tr := &flaky{perm: true}
	reg := prometheus.NewRegistry()
	w := deliver.NewWorker(st, map[string]deliver.Transport{"d": tr}, deliver.Options{Now: clk.now})
	require.NoError(t, w.Register(reg))
	enqueue(t, st, clk, "d", "cam", 2, 0)
	res, err := w.Drain(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, res.Dead, "a permanent failure dead-letters at once and the lane goes on")
	dead, err := st.DeadLetters(ctx, deliver.DeadFilter{})
	require.NoError(t, err)
	require.Len(t, dead, 2)
	require.Equal(t, 2.0, testutil.ToFloat64(mustGauge(t, reg, "vigil_outbox_dead")))

	tr.set(false, false)
	_, err = st.RetryDead(ctx, dead[1].Seq, clk.now())
	require.NoError(t, err)
	res, err = w.Drain(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, res.Sent)
	require.Equal(t, []string{dead[1].ID}, tr.ids())

	// Too many transient failures also dead-letter.
	w2 := deliver.NewWorker(st, map[string]deliver.Transport{"d": &flaky{down: true}}, deliver.Options{Now: clk.now, MaxAttempts: 3})
	enqueue(t, st, clk, "d", "cam2", 1, 0)
	for range 3 {
		res, err = w2.Drain(ctx)
		require.NoError(t, err)
		clk.advance(time.Hour)
	}
	require.Equal(t, 1, res.Dead)
}

func TestUnknownDestination(t *testing.T) {
	st := newStore(t)
	clk := &fakeClock{t: tNotice}
	w := deliver.NewWorker(st, map[string]deliver.Transport{}, deliver.Options{Now: clk.now, MaxAttempts: 1})
	enqueue(t, st, clk, "gone", "cam", 1, 0)
	res, err := w.Drain(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, res.Dead)
	dead, err := st.DeadLetters(context.Background(), deliver.DeadFilter{})
	require.NoError(t, err)
	require.Contains(t, dead[0].LastError, `destination "gone" is not configured`)
}

func mustGauge(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name {
			return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: "x"}, func() float64 {
				return mf.GetMetric()[0].GetGauge().GetValue()
			})
		}
	}
	t.Fatalf("no metric %s", name)
	return nil
}

// TestRunDeliversOnNotify: Run's goroutine delivers what is enqueued as
// soon as Notify is called, and returns when its context ends (goleak
// checks nothing is left).
func TestRunDeliversOnNotify(t *testing.T) {
	st := newStore(t)
	clk := &fakeClock{t: time.Now()}
	tr := &notifying{got: make(chan string, 10)}
	w := deliver.NewWorker(st, map[string]deliver.Transport{"d": tr}, deliver.Options{Poll: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	enqueue(t, st, clk, "d", "cam", 1, 0)
	w.Notify()
	require.Equal(t, "cam-0", <-tr.got)
	cancel()
	require.NoError(t, <-done)
}

type notifying struct{ got chan string }

func (n *notifying) Send(_ context.Context, m deliver.Message) error {
	n.got <- m.ID
	return nil
}
