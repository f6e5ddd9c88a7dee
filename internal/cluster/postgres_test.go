package cluster

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/cluster/clustertest"
	"github.com/vigil-cctv/vigil/internal/store/postgres"
)

// freshPostgres makes an empty schema and returns a DSN for it through a
// proxy the test controls.
func freshPostgres(t *testing.T) (dsn string, proxy *clustertest.Proxy) {
	t.Helper()
	u := clustertest.PostgresSchema(t)
	proxy = clustertest.StartProxy(t, u.Host)
	u.Host = proxy.Addr()
	return u.String(), proxy
}

func TestFailoverPostgresDownEventsLandAfterwards(t *testing.T) {
	dsn, proxy := freshPostgres(t)
	cl := clustertest.Start(t, 3, clustertest.Options{})
	worker, api := openNode(t, cl, "w1", 0), openNode(t, cl, "api", 1)
	ctx := context.Background()
	s, err := postgres.Open(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	var failed sync.Map
	cw := newCountingWriter(StoreWriter{Store: s})
	runConsumer(t, api, &errorNoter{w: cw, failed: &failed})

	l := Lease{Camera: "cam-pg", Node: "w1", Fence: 4}
	for i := range 10 {
		require.NoError(t, worker.Publisher().Event(ctx, l, alertFor("cam-pg", i)))
	}
	cw.waitWrites(t, 10)

	proxy.SetDown(true) // PostgreSQL goes away, connections drop
	for i := 10; i < 30; i++ {
		require.NoError(t, worker.Publisher().Event(ctx, l, alertFor("cam-pg", i)))
	}
	waitCond(t, "writes failing while PostgreSQL is down", func() bool {
		n := 0
		failed.Range(func(any, any) bool { n++; return true })
		return n >= 5
	})
	st, err := api.Status(ctx)
	require.NoError(t, err)
	require.Zero(t, st.DeadLetters)

	proxy.SetDown(false)
	cw.waitWrites(t, 20)
	var n, distinct int
	require.NoError(t, s.R.QueryRow(`SELECT count(*), count(DISTINCT msg_id) FROM alerts`).Scan(&n, &distinct))
	require.Equal(t, 30, n, "every alert landed")
	require.Equal(t, 30, distinct)
}

// errorNoter records the keys whose writes failed.
type errorNoter struct {
	w      Writer
	failed *sync.Map
}

func (e *errorNoter) WriteBatch(ctx context.Context, rs []Record) error {
	err := e.w.WriteBatch(ctx, rs)
	if err != nil {
		for _, r := range rs {
			e.failed.Store(r.Key, true)
		}
	}
	return err
}
