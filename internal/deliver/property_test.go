package deliver_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/vigil-cctv/vigil/internal/deliver"
)

// scripted fails each message id a set number of times, then takes it.
type scripted struct {
	mu    sync.Mutex
	fails map[string]int
	perm  map[string]bool
	got   []deliver.Message
}

func (s *scripted) Send(_ context.Context, m deliver.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perm[m.ID] {
		return deliver.Permanent(errors.New("rejected"))
	}
	if s.fails[m.ID] > 0 {
		s.fails[m.ID]--
		return errors.New("unavailable")
	}
	s.got = append(s.got, m)
	return nil
}

// TestPropertyLanes: whatever fails and when, every message is delivered
// once or dead-lettered, and within a lane (destination, camera) no
// message is delivered before an earlier one was delivered or dead.
func TestPropertyLanes(t *testing.T) {
	st := newStore(t) // one store: each run uses its own destinations and leaves nothing pending
	run := 0
	rapid.Check(t, func(rt *rapid.T) {
		ctx := context.Background()
		run++
		da, db := fmt.Sprintf("a%d", run), fmt.Sprintf("b%d", run)
		clk := &fakeClock{t: time.Now().Add(time.Minute)}
		tr := &scripted{fails: map[string]int{}, perm: map[string]bool{}}
		w := deliver.NewWorker(st, map[string]deliver.Transport{da: tr, db: tr}, deliver.Options{Now: clk.now,
			Rand: func() float64 { return 0.5 }, MaxAttempts: 4, Batch: rapid.IntRange(1, 20).Draw(rt, "batch")})
		var all []deliver.Message
		steps := rapid.IntRange(1, 30).Draw(rt, "steps")
		for i := range steps {
			switch rapid.IntRange(0, 2).Draw(rt, "op") {
			case 0:
				m := deliver.Message{ID: fmt.Sprintf("m%d", i), Destination: rapid.SampledFrom([]string{da, db}).Draw(rt, "dest"),
					Camera: rapid.SampledFrom([]string{"c1", "c2", "c3"}).Draw(rt, "cam"), Kind: deliver.KindEvent, Payload: []byte("{}"),
					Created: clk.now()}
				tr.mu.Lock()
				tr.fails[m.ID] = rapid.IntRange(0, 5).Draw(rt, "fails")
				tr.perm[m.ID] = rapid.IntRange(0, 9).Draw(rt, "perm") == 0
				tr.mu.Unlock()
				require.NoError(t, st.Enqueue(ctx, []deliver.Message{m}))
				all = append(all, m)
			case 1:
				_, err := w.Drain(ctx)
				require.NoError(t, err)
			case 2:
				clk.advance(time.Duration(rapid.IntRange(0, 40).Draw(rt, "advance")) * time.Second)
			}
		}
		for range 400 { // then let it settle
			b, err := st.Backlog(ctx)
			require.NoError(t, err)
			if b.Pending == 0 {
				break
			}
			clk.advance(10 * time.Minute)
			_, err = w.Drain(ctx)
			require.NoError(t, err)
		}
		isDead := map[string]bool{}
		for _, d := range []string{da, db} {
			dead, err := st.DeadLetters(ctx, deliver.DeadFilter{Destination: d, Limit: 500})
			require.NoError(t, err)
			for _, m := range dead {
				isDead[m.ID] = true
			}
		}
		delivered := map[string]int{}
		lastIdx := map[string]int{}
		index := map[string]int{}
		for i, m := range all {
			index[m.ID] = i
		}
		for _, m := range tr.got {
			delivered[m.ID]++
			lane := m.Destination + "/" + m.Camera
			if prev, ok := lastIdx[lane]; ok && index[m.ID] < prev {
				// Only a message that was dead-lettered and retried may come late; nothing is retried here.
				t.Fatalf("lane %s: %s delivered after a later message", lane, m.ID)
			}
			lastIdx[lane] = index[m.ID]
		}
		for _, m := range all {
			switch {
			case isDead[m.ID]:
				require.Zero(t, delivered[m.ID], "%s is dead and delivered", m.ID)
			default:
				require.Equal(t, 1, delivered[m.ID], "%s delivered once", m.ID)
			}
		}
	})
}
