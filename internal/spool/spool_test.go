package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// gate is a Sleep the test steps by hand: each backoff wait announces
// itself on entered (so the test knows the failure was recorded) and
// blocks until the test sends on step.
type gate struct {
	entered chan time.Duration
	step    chan struct{}
}

func newGate() *gate { return &gate{entered: make(chan time.Duration, 16), step: make(chan struct{})} }

func (g *gate) sleep(ctx context.Context, d time.Duration) bool {
	g.entered <- d
	select {
	case <-g.step:
		return true
	case <-ctx.Done():
		return false
	}
}

func runAsync(t *testing.T, run func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func TestSpoolRetriesWithBackoffUntilDelivered(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := newGate()
	sp, err := Open(filepath.Join(t.TempDir(), "x.spool"), Options{Name: "alerts", Registerer: reg, Sleep: g.sleep,
		BackoffBase: time.Second, BackoffMax: 4 * time.Second})
	require.NoError(t, err)
	defer sp.Close()
	require.NoError(t, sp.Ready())
	require.NoError(t, sp.Add("a", []byte("1")))
	require.NoError(t, sp.Add("a", []byte("1")), "adding a pending key again is a no-op")
	require.NoError(t, sp.Add("b", []byte("2")))
	require.ErrorContains(t, sp.Ready(), "2 alerts wait in the spool for the store")

	var failures atomic.Int32
	failures.Store(4)
	delivered := make(chan string, 10)
	runAsync(t, func(ctx context.Context) error {
		return sp.Run(ctx, func(_ context.Context, key string, data []byte) error {
			if failures.Add(-1) >= 0 {
				return errors.New("database is read-only")
			}
			delivered <- key + "=" + string(data)
			return nil
		})
	})
	var waits []time.Duration
	for range 4 {
		waits = append(waits, <-g.entered)
		g.step <- struct{}{}
	}
	require.Equal(t, "a=1", <-delivered)
	require.Equal(t, "b=2", <-delivered)
	require.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second}, waits)
	require.Eventually(t, func() bool { return sp.Ready() == nil }, 10*time.Second, time.Millisecond)
	require.Equal(t, 2.0, testutil.ToFloat64(metric(t, reg, "vigil_spool_added_total")))
	require.Equal(t, 2.0, testutil.ToFloat64(metric(t, reg, "vigil_spool_delivered_total")))
	require.Equal(t, 4.0, testutil.ToFloat64(metric(t, reg, "vigil_spool_failed_deliveries_total")))
	info, err := os.Stat(sp.path)
	require.NoError(t, err)
	require.Zero(t, info.Size(), "emptied once everything is delivered")
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}

// metric finds a registered collector by name.
func metric(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name {
			return gathered{reg: reg, name: name}
		}
	}
	t.Fatalf("metric %s not registered", name)
	return nil
}

// gathered exposes one gathered metric to testutil.ToFloat64.
type gathered struct {
	reg  *prometheus.Registry
	name string
}

func (g gathered) Describe(chan<- *prometheus.Desc) {}
func (g gathered) Collect(ch chan<- prometheus.Metric) {
	mfs, _ := g.reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != g.name {
			continue
		}
		v := mf.GetMetric()[0]
		val := v.GetCounter().GetValue() + v.GetGauge().GetValue()
		ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(g.name, "", nil, nil), prometheus.UntypedValue, val)
	}
}

func TestSpoolSurvivesRestartAndTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.spool")
	sp, err := Open(path, Options{})
	require.NoError(t, err)
	for i := range 3 {
		require.NoError(t, sp.Add(fmt.Sprint("k", i), []byte(fmt.Sprint("v", i))))
	}
	require.NoError(t, sp.Close())
	// A crash in the middle of the next append leaves half a record.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write(record(kindPut, "k3", []byte("v3"))[:5])
	require.NoError(t, err)
	require.NoError(t, f.Close())

	sp, err = Open(path, Options{})
	require.NoError(t, err)
	require.Equal(t, 3, sp.Pending())
	require.NoError(t, sp.Add("k4", []byte("v4")))
	var got []string
	ctx, cancel := context.WithCancel(context.Background())
	err = sp.Run(ctx, func(_ context.Context, key string, data []byte) error {
		got = append(got, key+"="+string(data))
		if len(got) == 4 {
			cancel()
		}
		return nil
	})
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, []string{"k0=v0", "k1=v1", "k2=v2", "k4=v4"}, got)
	require.NoError(t, sp.Close())
	sp, err = Open(path, Options{})
	require.NoError(t, err)
	require.Zero(t, sp.Pending())
	require.NoError(t, sp.Close())
}

// flakyStore is a real SQLite store that refuses writes while down is set,
// and whose first write after coming back commits but reports failure
// (the answer lost): the ambiguous case the idempotent key is for.
type flakyStore struct {
	*sqlite.Store
	down      atomic.Bool
	ambiguous atomic.Bool
}

func (f *flakyStore) AddAlertOnce(ctx context.Context, key string, e event.Event) (int64, bool, error) {
	if f.down.Load() {
		return 0, false, errors.New("attempt to write a readonly database (8)")
	}
	id, added, err := f.Store.AddAlertOnce(ctx, key, e)
	if err == nil && f.ambiguous.CompareAndSwap(true, false) {
		return 0, false, errors.New("connection reset after commit")
	}
	return id, added, err
}

// Issue 16 item 7: when the database write of an alert failed, the alert
// was dropped with no retry and no metric. Now it is spooled, /readyz
// reports it, and once the store accepts writes again every alert is
// stored exactly once, in order.
func TestAlertsSurviveStoreOutage(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "vigil.db"))
	require.NoError(t, err)
	defer st.Close()
	fs := &flakyStore{Store: st}
	g := newGate()
	stored := make(chan int64, 100)
	as, err := OpenAlerts(filepath.Join(t.TempDir(), "alerts.spool"), fs, func(id int64, _ string, _ event.Event) { stored <- id },
		Options{Sleep: g.sleep})
	require.NoError(t, err)
	defer as.Close()
	runAsync(t, as.Run)
	ctx := context.Background()
	ev := func(i int) event.Event {
		return event.Event{Rule: "intrusion", Name: fmt.Sprint("r", i), Camera: "cam", Class: "person", Start: float64(i)}
	}

	id, key, err := as.Add(ctx, ev(0))
	require.NoError(t, err)
	require.NotZero(t, id, "stored at once while the store is up")
	require.NotEmpty(t, key)
	fs.down.Store(true)
	for i := 1; i <= 10; i++ {
		id, key2, err := as.Add(ctx, ev(i))
		require.NoError(t, err)
		require.Zero(t, id, "spooled")
		require.NotEqual(t, key, key2)
	}
	<-g.entered // the first spooled alert was tried and refused
	require.ErrorContains(t, as.Ready(), "10 alerts wait in the spool for the store")
	require.ErrorContains(t, as.Ready(), "readonly database")
	fs.down.Store(false)
	fs.ambiguous.Store(true)
	g.step <- struct{}{} // the retry commits, but the answer is lost
	<-g.entered
	g.step <- struct{}{} // retried under the same key: found, not added again
	for range 10 {
		<-stored
	}
	require.Eventually(t, func() bool { return as.Ready() == nil }, 10*time.Second, time.Millisecond)
	all, err := st.ListAlerts(ctx, store.AlertFilter{Limit: 500})
	require.NoError(t, err)
	require.Len(t, all, 11, "every alert once")
	for i, a := range all { // newest first
		require.Equal(t, fmt.Sprint("r", 10-i), a.Event.Name, "in the order raised")
	}
}
