package cluster_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/cluster"
	"github.com/vigil-cctv/vigil/internal/cluster/clustertest"
	"github.com/vigil-cctv/vigil/internal/cluster/replay"
	"github.com/vigil-cctv/vigil/internal/store/postgres"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

// BenchmarkClusterScale measures the messaging path alone: N cameras'
// worth of records from 3 worker nodes (in-process clients, each with its
// own connection) through a 3-server JetStream cluster (R3, file
// storage) to one api node's consumer and the store (PostgreSQL from
// VIGIL_TEST_POSTGRES, else SQLite). Per camera: a track summary every
// 2 s, an alert every 30 s, a counter batch every 10 s and a 64 KB
// baseline snapshot every 60 s, and its handover state saved every 60 s.
// Run once per size:
//
//	go test -run '^$' -bench ClusterScale -benchtime 1x -timeout 30m ./internal/cluster/
//
// VIGIL_BENCH_DURATION sets the measured window (default 60s).
func BenchmarkClusterScale(b *testing.B) {
	for _, n := range []int{305, 3000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				benchScale(b, n)
			}
		})
	}
}

type latencies struct {
	mu      sync.Mutex
	ms      map[cluster.Kind][]float64
	writeMs map[cluster.Kind][]float64 // time in the store write alone
	all     int
}

func (l *latencies) Write(r cluster.Record) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ms[r.Kind] = append(l.ms[r.Kind], float64(time.Since(r.Sent).Microseconds())/1000)
	l.all++
}

type latencyWriter struct {
	w cluster.Writer
	l *latencies
}

func (lw latencyWriter) WriteBatch(ctx context.Context, rs []cluster.Record) error {
	t0 := time.Now()
	if err := lw.w.WriteBatch(ctx, rs); err != nil {
		return err
	}
	for _, r := range rs {
		lw.l.Write(r)
		lw.l.mu.Lock()
		lw.l.writeMs[r.Kind] = append(lw.l.writeMs[r.Kind], float64(time.Since(t0).Microseconds())/1000)
		lw.l.mu.Unlock()
	}
	return nil
}

func pct(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func benchStore(b *testing.B) cluster.RecordStore {
	ctx := context.Background()
	if os.Getenv("VIGIL_TEST_POSTGRES") != "" {
		s, err := postgres.Open(ctx, clustertest.PostgresSchema(b).String())
		require.NoError(b, err)
		b.Cleanup(func() { _ = s.Close() })
		b.Log("store: PostgreSQL")
		return s
	}
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "vigil.db"))
	require.NoError(b, err)
	b.Cleanup(func() { _ = s.Close() })
	b.Log("store: SQLite (set VIGIL_TEST_POSTGRES for PostgreSQL)")
	return s
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func benchScale(b *testing.B, cameras int) {
	window := 60 * time.Second
	if d, err := time.ParseDuration(os.Getenv("VIGIL_BENCH_DURATION")); err == nil {
		window = d
	}
	events, err := replay.LoadEvents(scenarioEvents(b)...)
	require.NoError(b, err)
	cl := clustertest.Start(b, 3, clustertest.Options{})
	ctx := context.Background()
	lat := &latencies{ms: map[cluster.Kind][]float64{}, writeMs: map[cluster.Kind][]float64{}}
	api, err := cluster.Start(ctx, cluster.NodeConfig{
		Options: cluster.Options{Node: "api", Replicas: 3}, NATS: cluster.NATSOptions{URLs: cl.URLs()},
		Roles:    []string{cluster.RoleAPI, cluster.RoleCoordinator},
		Consumer: cluster.ConsumerOptions{Writer: latencyWriter{cluster.StoreWriter{Store: benchStore(b)}, lat}},
	})
	require.NoError(b, err)
	defer api.Close()
	rc := replay.Config{Events: events, Every: 2 * time.Second, EventEvery: 30 * time.Second,
		TracksEvery: 2 * time.Second, CountsEvery: 10 * time.Second, BaselineEvery: 60 * time.Second, BaselineBytes: 64 << 10,
		SaveEvery: 60 * time.Second}
	var started sync.Map // camera → first start
	assigned := make(chan struct{}, cameras)
	var reassigned atomic.Int64 // starts after the first: self-fencing under load
	for i := range 3 {
		var w *replay.Worker
		n, err := cluster.Start(ctx, cluster.NodeConfig{
			Options: cluster.Options{Node: fmt.Sprintf("w%d", i+1), Replicas: 3}, NATS: cluster.NATSOptions{URLs: cl.URLs()},
			Roles: []string{cluster.RoleWorker}, Capacity: func() float64 { return float64(cameras) * 5 / 3 * 1.1 },
			Worker: cluster.WorkerCallbacks{
				OnAssign: func(l cluster.Lease) {
					w.Callbacks().OnAssign(l)
					if _, again := started.LoadOrStore(l.Camera, true); again {
						reassigned.Add(1)
						return
					}
					assigned <- struct{}{}
				},
				OnRevoke: func(l cluster.Lease) { w.Callbacks().OnRevoke(l) },
			},
		})
		require.NoError(b, err)
		w = replay.New(n.Cluster, rc)
		defer n.Close()
	}
	t0 := time.Now()
	for i := range cameras {
		cc := cluster.CameraConfig{ID: fmt.Sprintf("cam-%04d", i), FPS: 5}
		for try := 0; ; try++ { // the API's write is retried under load like any store write
			_, err := api.Config().PutCamera(ctx, cc)
			if err == nil {
				break
			}
			require.Less(b, try, 10, "put camera: %v", err)
		}
	}
	for range cameras {
		<-assigned
	}
	b.Logf("%d cameras configured and running in %v", cameras, time.Since(t0).Round(time.Millisecond))

	// Skip the first minute's burst (every camera starts at once), then measure.
	time.Sleep(min(window/4, 15*time.Second)) // warm-up, part of the measurement design
	lat.mu.Lock()
	lat.ms, lat.writeMs, lat.all = map[cluster.Kind][]float64{}, map[cluster.Kind][]float64{}, 0
	lat.mu.Unlock()
	cpu0, start := cpuSeconds(), time.Now()
	var maxLag uint64
	tick := time.NewTicker(2 * time.Second)
	for time.Since(start) < window {
		<-tick.C
		st, err := api.Status(ctx)
		require.NoError(b, err)
		var lag uint64
		for _, c := range st.Consumers {
			lag += c.Pending + uint64(c.AckPending)
		}
		maxLag = max(maxLag, lag)
	}
	tick.Stop()
	elapsed, cpu := time.Since(start).Seconds(), cpuSeconds()-cpu0
	lat.mu.Lock()
	defer lat.mu.Unlock()
	var all []float64
	for k, xs := range lat.ms {
		w := lat.writeMs[k]
		b.Logf("%-9s %6d records  publish→row p50 %7.1f ms  p95 %7.1f ms  p99 %7.1f ms; store write alone p50 %5.1f ms p95 %5.1f ms",
			k, len(xs), pct(xs, 0.5), pct(xs, 0.95), pct(xs, 0.99), pct(w, 0.5), pct(w, 0.95))
		all = append(all, xs...)
	}
	b.ReportMetric(float64(lat.all)/elapsed, "records/s")
	b.ReportMetric(pct(lat.ms[cluster.KindEvent], 0.95), "p95_event_ms")
	b.ReportMetric(pct(all, 0.95), "p95_all_ms")
	b.ReportMetric(float64(maxLag), "max_lag")
	b.ReportMetric(cpu/elapsed, "cpu_cores")
	b.ReportMetric(float64(reassigned.Load()), "restarts")
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	b.ReportMetric(float64(ru.Maxrss)/1024, "maxrss_MiB")
}
