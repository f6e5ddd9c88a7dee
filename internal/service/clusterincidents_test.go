package service

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/cluster"
	"github.com/vigil-cctv/vigil/internal/cluster/clustertest"
	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/deliver"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/incident"
	"github.com/vigil-cctv/vigil/internal/store/postgres"
	"github.com/vigil-cctv/vigil/internal/store/storetest"
)

// countingHook is a webhook receiver counting deliveries by message id.
type countingHook struct {
	mu  sync.Mutex
	got map[string]int
}

func (h *countingHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.got[r.Header.Get("Vigil-Message-Id")]++
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (h *countingHook) counts() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]int, len(h.got))
	for k, v := range h.got {
		out[k] = v
	}
	return out
}

const twoNodeProtocols = `version: 1
events: {notify: [hook]}
protocols:
  - name: fence
    match: {rules: [intrusion]}
    priority: high
    notify: [hook]
    group_window: 1h
    escalate: {after: 1m, priority: critical}
`

// startAPINode runs an api node over a PostgreSQL schema shared with
// other nodes.
func startAPINode(t *testing.T, node, natsURL, dsn, hook, protocols string) (string, *Service) {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Parse([]byte(fmt.Sprintf(`version: 1
listen: "127.0.0.1:0"
data_dir: %s
cluster:
  node: %s
  roles: [api]
  replicas: 1
  nats: {urls: [%q]}
incidents:
  protocols: %s
  tick: 1m
  destinations:
    - {name: hook, type: webhook, url: %q}
`, dir, node, natsURL, protocols, hook)), "test.yaml")
	require.NoError(t, err)
	cfg.Auth.Disabled = true
	ctx, cancel := context.WithCancel(context.Background())
	st, err := postgres.Open(ctx, dsn)
	require.NoError(t, err)
	svc, err := New(cfg, Deps{Store: st})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
		st.Close()
	})
	return "http://" + ln.Addr().String(), svc
}

// TestClusterIncidentsOnceAcrossAPINodes: two api nodes share one
// PostgreSQL schema and one JetStream consumer. One camera's alerts reach
// both (through the stream, and through both store writers at once); the
// protocol groups them into one incident, each outbox message reaches the
// webhook exactly once though both nodes' delivery workers run, both
// nodes' ticks escalate it once, and an operator's verdict given through
// node B is what node A's engine decides on next.
func TestClusterIncidentsOnceAcrossAPINodes(t *testing.T) {
	dsn := storetest.FreshPostgres(t)
	nc := clustertest.Start(t, 1, clustertest.Options{})
	hook := &countingHook{got: map[string]int{}}
	srv := httptest.NewServer(hook)
	defer srv.Close()
	protocols := filepath.Join(t.TempDir(), "protocols.yaml")
	require.NoError(t, os.WriteFile(protocols, []byte(twoNodeProtocols), 0o600))
	_, svcA := startAPINode(t, "api-a", nc.URLs()[0], dsn, srv.URL, protocols)
	baseB, svcB := startAPINode(t, "api-b", nc.URLs()[0], dsn, srv.URL, protocols)

	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	alert := func(i int) event.Event {
		return event.Event{Camera: "gate", Rule: "intrusion", Name: "fence", Zone: "fence", Class: "person",
			Tracks: []int{i}, Start: float64(i), Severity: event.High, Explanation: "over the fence", At: t0.Add(time.Duration(i) * time.Second)}
	}
	// Half the alerts through the stream (whichever node fetches them)...
	conn, err := cluster.Connect(context.Background(), cluster.NATSOptions{URLs: nc.URLs()})
	require.NoError(t, err)
	defer conn.Close()
	pub, err := cluster.Open(context.Background(), conn, cluster.Options{Node: "camera-worker"})
	require.NoError(t, err)
	lease := cluster.Lease{Camera: "gate", Node: "camera-worker", Fence: 1}
	const streamed, direct = 10, 10
	for i := range streamed {
		require.NoError(t, pub.Publisher().Event(context.Background(), lease, alert(i)))
	}
	// ...and half through both nodes' store writers at once, as the
	// consumer calls them: both engines decide on the camera together.
	var wg sync.WaitGroup
	for n, svc := range []*Service{svcA, svcB} {
		wg.Go(func() {
			for i := streamed + n; i < streamed+direct; i += 2 {
				e := alert(i)
				rec := cluster.Record{Kind: cluster.KindEvent, Camera: "gate", Key: fmt.Sprintf("direct-%d", i), Event: &e}
				require.NoError(t, apiWriter{s: svc}.WriteBatch(context.Background(), []cluster.Record{rec}))
			}
		})
	}
	wg.Wait()
	eng := svcA.queue.eng
	var opened incident.Incident
	require.Eventually(t, func() bool {
		list, err := eng.List(context.Background(), incident.Filter{Camera: "gate"})
		if err != nil || len(list) == 0 || list[0].Count < streamed+direct {
			return false
		}
		opened = list[0]
		return true
	}, hangTimeout, 20*time.Millisecond, "every alert stored")
	list, err := eng.List(context.Background(), incident.Filter{Camera: "gate"})
	require.NoError(t, err)
	require.Len(t, list, 1, "one incident for the camera's one situation")
	require.Equal(t, streamed+direct, opened.Count)

	// Both nodes tick past the escalation at once: one escalation.
	var ticks sync.WaitGroup
	for _, svc := range []*Service{svcA, svcB} {
		ticks.Go(func() { require.NoError(t, svc.queue.eng.Tick(context.Background(), t0.Add(time.Hour))) })
	}
	ticks.Wait()
	esc, err := eng.Get(context.Background(), opened.ID)
	require.NoError(t, err)
	require.Equal(t, "critical", esc.Priority)

	// Every message the outbox holds reaches the webhook exactly once.
	want := streamed + direct + 2 // each event, the opening, the escalation
	require.Eventually(t, func() bool {
		b, err := svcA.queue.st.Backlog(context.Background())
		return err == nil && b.Pending == 0 && len(hook.counts()) >= want
	}, hangTimeout, 20*time.Millisecond, "the outbox drained")
	got := hook.counts()
	require.Len(t, got, want)
	for id, n := range got {
		require.Equal(t, 1, n, "message %s delivered once", id)
	}
	require.Equal(t, 1, got[fmt.Sprintf("incident-%d-escalated", opened.ID)])
	require.Equal(t, 1, got[deliver.OpenedID(opened.ID)])

	// The operator acknowledges and resolves through node B's API...
	for _, to := range []string{"acknowledged", "resolved"} {
		resp, err := http.Post(fmt.Sprintf("%s/api/v1/incidents/%d/transition", baseB, opened.ID), "application/json",
			strings.NewReader(`{"to":"`+to+`"}`))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, to)
	}
	// ...and node A's engine, deciding the camera's next alert, sees the
	// verdict: the alert opens a new incident instead of joining.
	next := alert(100)
	res, err := svcA.queue.eng.Handle(context.Background(), next, next.At)
	require.NoError(t, err)
	require.True(t, res.Opened, "node A saw node B's verdict")
	require.NotEqual(t, opened.ID, res.Incident.ID)
}
