package deliver_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/deliver"
	"github.com/vigil-cctv/vigil/internal/store/postgres"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
	"github.com/vigil-cctv/vigil/internal/store/storetest"
)

// Environment of the delivering subprocess.
const (
	helperStore = "VIGIL_DELIVER_HELPER_STORE" // sqlite:PATH or postgres:DSN
	helperURL   = "VIGIL_DELIVER_HELPER_URL"
	killSecret  = "kill9-secret"
	helperBatch = 30 // at most one pass is redelivered after a crash
)

type outboxDB interface {
	deliver.Store
	Close() error
}

func openTarget(ctx context.Context, target string) (outboxDB, error) {
	if dsn, ok := strings.CutPrefix(target, "postgres:"); ok {
		return postgres.Open(ctx, dsn)
	}
	return sqlite.Open(ctx, strings.TrimPrefix(target, "sqlite:"))
}

// TestHelperDeliverer is the delivering process of TestKill9Delivery: it
// runs a worker until the outbox is empty, or until it is killed.
func TestHelperDeliverer(t *testing.T) {
	target := os.Getenv(helperStore)
	if target == "" {
		t.Skip("helper process for TestKill9Delivery")
	}
	ctx, cancel := context.WithCancel(context.Background())
	st, err := openTarget(ctx, target)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper: open:", err)
		os.Exit(2)
	}
	wh, err := deliver.NewWebhook(deliver.Destination{Name: "hook", URL: os.Getenv(helperURL), Secret: []byte(killSecret)}, nil)
	if err != nil {
		os.Exit(3)
	}
	w := deliver.NewWorker(st, map[string]deliver.Transport{"hook": wh}, deliver.Options{Poll: 10 * time.Millisecond, Parallel: 3, Batch: helperBatch})
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		if b, err := st.Backlog(ctx); err == nil && b.Pending == 0 {
			cancel()
			<-done
			st.Close()
			os.Exit(0)
		}
		time.Sleep(20 * time.Millisecond) // polls its own store; nothing else to wait on
	}
	os.Exit(4)
}

// TestKill9Delivery is the acceptance test: the process delivering is
// killed with -9 mid-delivery, restarted, and everything is delivered;
// the receiver, deduplicating by id, has every message once and in order
// per camera, and the test reports how many were delivered twice.
func TestKill9Delivery(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		kill9(t, "sqlite:"+filepath.Join(t.TempDir(), "vigil.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		kill9(t, "postgres:"+storetest.FreshPostgres(t))
	})
}

func kill9(t *testing.T, target string) {
	ctx := context.Background()
	st, err := openTarget(ctx, target)
	require.NoError(t, err)
	clk := &fakeClock{t: time.Now().Add(-time.Second)}
	cams := []string{"north", "south", "east"}
	for _, c := range cams {
		enqueue(t, st, clk, "hook", c, 100, 0)
	}
	require.NoError(t, st.Close())

	var mu sync.Mutex
	var child *exec.Cmd
	killed := make(chan struct{})
	var once sync.Once
	rcv := newReceiver(t, []byte(killSecret))
	// Kill the deliverer while it waits for the answer to the 120th
	// message: that one is received but never marked delivered.
	rcv.mu.Lock()
	rcv.hook = func(n int) {
		if n == 120 {
			once.Do(func() {
				mu.Lock()
				_ = child.Process.Kill()
				mu.Unlock()
				close(killed)
			})
		}
	}
	rcv.mu.Unlock()

	run := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperDeliverer$", "-test.count=1")
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // dies with the test, even one killed before its cleanup
		cmd.Env = append(os.Environ(), helperStore+"="+target, helperURL+"="+rcv.srv.URL+"/hook")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		mu.Lock()
		child = cmd
		require.NoError(t, cmd.Start())
		mu.Unlock()
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		return cmd
	}
	first := run()
	<-killed
	_ = first.Wait()
	require.Contains(t, first.ProcessState.String(), "killed", "the deliverer died by SIGKILL")
	before := len(rcv.got())
	require.Less(t, before, 300, "killed mid-delivery")

	second := run()
	require.NoError(t, second.Wait(), "the restarted deliverer drained the outbox")

	got := rcv.got()
	require.Len(t, got, 300, "every message delivered")
	perCamera := map[string][]int{}
	for _, id := range got {
		c, n, _ := strings.Cut(id, "-")
		var i int
		_, err := fmt.Sscan(n, &i)
		require.NoError(t, err)
		perCamera[c] = append(perCamera[c], i)
	}
	for _, c := range cams {
		require.True(t, slices.IsSorted(perCamera[c]), "camera %s in order", c)
		require.Len(t, perCamera[c], 100)
	}
	redelivered := rcv.redeliveries()
	t.Logf("%s: %d of 300 received before kill -9; %d redelivered after the restart (dropped by id at the receiver)",
		strings.SplitN(target, ":", 2)[0], before, redelivered)
	require.GreaterOrEqual(t, redelivered, 1, "the message in flight at the kill comes again")
	require.LessOrEqual(t, redelivered, helperBatch, "at most one pass is sent again")
	require.Empty(t, rcv.bad, "every request was signed")
}
