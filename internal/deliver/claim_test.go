package deliver_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/deliver"
)

// slowSend is a transport whose every send takes step on the injected
// clock (a slow receiver).
type slowSend struct {
	clk  *fakeClock
	step time.Duration
	mu   sync.Mutex
	got  []string
}

func (s *slowSend) Send(_ context.Context, m deliver.Message) error {
	s.clk.advance(s.step)
	s.mu.Lock()
	s.got = append(s.got, m.ID)
	s.mu.Unlock()
	return nil
}

// TestLaneStopsAtHalfLease: a pass sends a lane only in the first half
// of its claim (the rest leaves time to record what was sent before the
// claim lapses and another node may take the lane); the next pass goes
// on from there, in order, and a worker on another node never gets a
// lane this one holds.
func TestLaneStopsAtHalfLease(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	clk := &fakeClock{t: tNotice}
	enqueue(t, st, clk, "d", "cam", 6, 0)
	tr := &slowSend{clk: clk, step: 20 * time.Second}
	w := deliver.NewWorker(st, map[string]deliver.Transport{"d": tr}, deliver.Options{Now: clk.now, Node: "a",
		Lease: 2 * time.Minute, Parallel: 1})
	res, err := w.Drain(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, res.Sent, "sends at 0, 20 and 40 s; stops at 60 s, half the lease")
	res, err = w.Drain(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, res.Sent, "the next pass takes the lane on at once")
	require.Equal(t, []string{"cam-0", "cam-1", "cam-2", "cam-3", "cam-4", "cam-5"}, tr.got)

	// Node a holds a lane (a pass in flight, as a claim); node b's worker
	// sends nothing of it until the claim lapses.
	enqueue(t, st, clk, "d", "cam", 2, 6)
	held, err := st.Claim(ctx, "a", clk.now(), clk.now().Add(2*time.Minute), 10)
	require.NoError(t, err)
	require.Len(t, held, 2)
	other := &slowSend{clk: clk}
	b := deliver.NewWorker(st, map[string]deliver.Transport{"d": other}, deliver.Options{Now: clk.now, Node: "b"})
	res, err = b.Drain(ctx)
	require.NoError(t, err)
	require.Zero(t, res.Sent)
	clk.advance(2 * time.Minute)
	res, err = b.Drain(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, res.Sent, "a lapsed claim is taken over")
	require.Equal(t, []string{"cam-6", "cam-7"}, other.got)
}
