package storetest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/store"
)

// HelperEnv is set in the helper process's environment to what it should
// open (a file path or DSN); a helper test that finds it empty skips.
const HelperEnv = "VIGIL_STORE_HELPER_TARGET"

// committedPrefix starts each line the writer prints after AddAlert returns.
const committedPrefix = "committed "

// writerLifetime bounds an orphaned writer whose parent died without
// killing it. It is not a deadline for the test: on a busy machine the
// race-built writer may take many seconds to start and migrate.
const writerLifetime = 3 * time.Minute

// killAfter is how many committed lines the parent reads before it kills
// the writer: a count, not a duration, so the kill always lands while the
// four writers are busy, however slowly the machine runs them.
const killAfter = 25

// RunWriter is the body of the helper process. It opens a store and adds
// alerts from several goroutines until killed, printing "committed <id>"
// only after AddAlert has returned: every printed ID is a promise that the
// alert is durable.
func RunWriter(open func(ctx context.Context) (store.Store, error)) {
	ctx := context.Background()
	s, err := open(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "writer: open:", err)
		os.Exit(2)
	}
	var mu sync.Mutex // one whole line per write
	for w := range 4 {
		go func() {
			for i := 0; ; i++ {
				e := sampleEvent("kill9", fmt.Sprintf("w%d", w), "car", float64(i))
				id, err := s.AddAlert(ctx, e)
				if err != nil {
					fmt.Fprintln(os.Stderr, "writer: add alert:", err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintf(os.Stdout, "%s%d %s %d\n", committedPrefix, id, e.Rule, i)
				mu.Unlock()
			}
		}()
	}
	time.Sleep(writerLifetime)
	os.Exit(4)
}

// written is one alert the writer reported as committed.
type written struct {
	id   int64
	rule string
	seq  int
}

// KillDuringWrites runs helperTest of this test binary as a writer (with
// env added to its environment, which must include HelperEnv), collects the
// IDs it reports, kills it with SIGKILL after killAfter of them, and checks
// that the store reopen returns holds every reported alert intact.
func KillDuringWrites(t *testing.T, helperTest string, env []string, reopen func(t *testing.T) store.Store) {
	cmd := exec.Command(os.Args[0], "-test.run=^"+helperTest+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() }) // in case a require fails below

	lines := make(chan written)
	go scanCommitted(out, lines)
	got := collect(lines, killAfter, cmd)
	_ = cmd.Wait() // it was killed, so the error is expected
	require.Contains(t, cmd.ProcessState.String(), "killed", "writer must die by SIGKILL, stderr: %s", stderr.String())
	require.GreaterOrEqual(t, len(got), killAfter, "writer committed too few alerts to test; stderr: %s", stderr.String())
	t.Logf("writer reported %d committed alerts before kill -9", len(got))

	s := reopen(t)
	ctx := context.Background()
	for _, w := range got {
		a, err := s.GetAlert(ctx, w.id)
		require.NoError(t, err, "alert %d was reported committed", w.id)
		require.Equal(t, w.rule, a.Event.Rule)
		require.Equal(t, float64(w.seq), a.Event.Start)
		require.Equal(t, store.StateNew, a.State)
	}
}

// collect reads n committed lines, kills the writer, then drains what it
// had written before dying: those alerts were committed too.
func collect(lines <-chan written, n int, cmd *exec.Cmd) []written {
	var got []written
	for w := range lines {
		got = append(got, w)
		if len(got) == n {
			_ = cmd.Process.Kill() // SIGKILL on Unix
		}
	}
	return got // all lines, or fewer if the writer died on its own
}

// scanCommitted parses the writer's stdout; other lines (test framework
// chatter) are ignored.
func scanCommitted(r interface{ Read([]byte) (int, error) }, lines chan<- written) {
	defer close(lines)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), committedPrefix)
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 3 {
			continue // a line cut short by the kill
		}
		id, err1 := strconv.ParseInt(f[0], 10, 64)
		seq, err2 := strconv.Atoi(f[2])
		if err1 == nil && err2 == nil {
			lines <- written{id: id, rule: f[1], seq: seq}
		}
	}
}
