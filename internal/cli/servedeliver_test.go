package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/deliver"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

// hookReceiver is the webhook receiver of the crash test: it records every
// request by message id and calls onNew for each id it had not seen.
type hookReceiver struct {
	mu     sync.Mutex
	bodies map[string][]byte // first body per id
	hits   map[string]int    // requests per id
	same   bool              // every repeat carried the first body
	onNew  func(distinct int, id string)
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	id := r.Header.Get(deliver.HeaderID)
	h.mu.Lock()
	first, seen := h.bodies[id]
	h.hits[id]++
	if seen {
		h.same = h.same && bytes.Equal(first, body)
	} else {
		h.bodies[id] = body
	}
	n, hook := len(h.bodies), h.onNew
	h.mu.Unlock()
	if !seen && hook != nil {
		hook(n, id) // may kill the sender before it hears the answer
	}
	w.WriteHeader(http.StatusNoContent)
}

// hitsOf copies the request count of each id.
func (h *hookReceiver) hitsOf(ids []string) map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]int{}
	for _, id := range ids {
		out[id] = h.hits[id]
	}
	return out
}

// since reports whether each id came again after the counts in before.
func (h *hookReceiver) since(before map[string]int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, n := range before {
		if h.hits[id] <= n {
			return false
		}
	}
	return true
}

// TestServeKill9Delivery kills `vigil serve` with SIGKILL while it posts
// incidents and events to a webhook, restarts it on the same data folder
// and checks that every message still pending in the outbox at the kill
// reaches the receiver afterwards, and that a message sent twice (the one
// in flight at the kill) is the same message under the same id, so the
// receiver's dedupe by id leaves no duplicate (issue 11, crash). The
// restarted run raises the same alerts again on the same track ids and
// times: no two alerts share an evidence file (issue 16 item 1).
func TestServeKill9Delivery(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess service test skipped in -short mode")
	}
	needSetup(t)
	dir := t.TempDir()
	rcv := &hookReceiver{bodies: map[string][]byte{}, hits: map[string]int{}, same: true}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	cfg, base := writeDeliveryConfig(t, dir, srv.URL+"/hook")

	var mu sync.Mutex
	var child *exec.Cmd
	killed := make(chan struct{})
	var once sync.Once
	var inFlight string
	rcv.mu.Lock()
	rcv.onNew = func(n int, id string) {
		if n == 4 { // mid-delivery: this one is received, never acknowledged
			once.Do(func() {
				inFlight = id
				mu.Lock()
				_ = child.Process.Kill()
				mu.Unlock()
				close(killed)
			})
		}
	}
	rcv.mu.Unlock()
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServe$", "-test.count=1")
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // dies with the test, even one killed before its cleanup
		cmd.Env = append(os.Environ(), serveHelperEnv+"="+cfg)
		mu.Lock()
		child = cmd
		require.NoError(t, cmd.Start())
		mu.Unlock()
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		return cmd
	}

	first := start()
	select {
	case <-killed:
	case <-time.After(hangTimeout):
		t.Fatal("no delivery reached the receiver")
	}
	_ = first.Wait()
	pending := pendingIDs(t, filepath.Join(dir, "vigil.db"))
	firstRun := len(storedAlerts(t, filepath.Join(dir, "vigil.db")))
	require.Contains(t, pending, inFlight, "the message in flight at the kill was never acknowledged")

	rcv.mu.Lock()
	rcv.onNew = nil
	rcv.mu.Unlock()
	before := rcv.hitsOf(pending)
	second := start()
	require.Eventually(t, func() bool { return rcv.since(before) }, hangTimeout, 50*time.Millisecond,
		"every message pending at the kill is delivered after the restart")
	// The second run replays the same footage from the start: the same
	// rules fire on the same track ids at the same times as before.
	require.Eventually(t, func() bool { return len(alertIDs(base)) >= 2*firstRun }, hangTimeout, 100*time.Millisecond)
	_ = second.Process.Kill()
	_ = second.Wait()

	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	require.True(t, rcv.same, "a message sent again carries the same body under the same id")
	require.Greater(t, rcv.hits[inFlight], 1, "the message in flight at the kill is sent again")
	evidenceDistinct(t, dir, storedAlerts(t, filepath.Join(dir, "vigil.db")))
	t.Logf("%d pending at the kill, all delivered after the restart; %d distinct messages, %d sent again (dropped by id)",
		len(pending), len(rcv.bodies), resent(rcv.hits))
}

// storedAlerts reads every alert from the store at db.
func storedAlerts(t *testing.T, db string) []store.Alert {
	st, err := sqlite.Open(context.Background(), db)
	require.NoError(t, err)
	defer st.Close()
	all, err := st.ListAlerts(context.Background(), store.AlertFilter{Limit: 100000})
	require.NoError(t, err)
	return all
}

// evidenceDistinct checks issue 16 item 1 across a restart: no two
// alerts name the same snapshot or crop, and each file is there.
func evidenceDistinct(t *testing.T, dir string, alerts []store.Alert) {
	seen := map[string]int64{}
	for _, a := range alerts {
		for _, name := range []string{a.Event.Snapshot, a.Event.Crop} {
			if name == "" {
				continue
			}
			other, dup := seen[name]
			require.False(t, dup, "alerts %d and %d share the evidence file %s", other, a.ID, name)
			seen[name] = a.ID
			path := name
			if !filepath.IsAbs(path) {
				path = filepath.Join(dir, "media", name)
			}
			_, err := os.Stat(path)
			require.NoError(t, err, "alert %d's evidence", a.ID)
		}
	}
	require.NotEmpty(t, seen, "the alerts have evidence")
}

// pendingIDs lists the ids of the messages the outbox still owes.
func pendingIDs(t *testing.T, db string) []string {
	st, err := sqlite.Open(context.Background(), db)
	require.NoError(t, err)
	defer st.Close()
	due, err := st.Due(context.Background(), time.Now().Add(24*time.Hour), 100000)
	require.NoError(t, err)
	ids := make([]string, 0, len(due))
	for _, m := range due {
		ids = append(ids, m.ID)
	}
	return ids
}

// writeDeliveryConfig writes a service config whose looping plaza camera
// queues every event as an incident and posts it, and every event, to the
// webhook at url.
func writeDeliveryConfig(t *testing.T, dir, url string) (cfg, base string) {
	addr := freeAddr(t)
	scene, err := filepath.Abs("../../scenes/pets09-s2l1.yaml")
	require.NoError(t, err)
	protocols := filepath.Join(dir, "protocols.yaml")
	require.NoError(t, os.WriteFile(protocols, []byte(`version: 1
events: {notify: [hook]}
protocols:
  - {name: everything, match: {}, priority: high, notify: [hook]}
`), 0o644))
	cfg = filepath.Join(dir, "vigil.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(`version: 1
listen: %q
data_dir: %s
auth: {disabled: true}
incidents:
  protocols: %s
  destinations:
    - {name: hook, type: webhook, url: %q}
  delivery: {base_delay: 50ms, max_delay: 1s}
cameras:
  - {id: plaza, url: %s, loop: true, fps: 5, classes: person, scene: %s}
`, addr, dir, protocols, url, vtest, scene)), 0o644))
	return cfg, "http://" + addr
}

// resent counts the ids that came more than once.
func resent(hits map[string]int) int {
	n := 0
	for _, h := range hits {
		if h > 1 {
			n++
		}
	}
	return n
}
