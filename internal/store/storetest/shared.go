package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/deliver"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/incident"
	"github.com/vigil-cctv/vigil/internal/protocol"
	"github.com/vigil-cctv/vigil/internal/store"
)

// PairOpener returns two handles on one fresh, empty database, as two
// processes (two api nodes) would have; it registers its own cleanup.
type PairOpener func(t *testing.T) (a, b store.Store)

// RunShared runs the tests of what processes sharing one database must
// never do twice: claim one outbox lane, or open two incidents where the
// protocols say one.
func RunShared(t *testing.T, open PairOpener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, a, b store.Store)
	}{
		{"ClaimsExclusive", testClaimsExclusive},
		{"ClaimsLapse", testClaimsLapse},
		{"GroupingConcurrent", testGroupingConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, b := open(t)
			tc.fn(t, a, b)
		})
	}
}

// laneMessages enqueues n messages in each of lanes lanes (one camera
// each) through s.
func laneMessages(t *testing.T, s deliver.Store, lanes, n int) {
	t.Helper()
	var msgs []deliver.Message
	for i := range n {
		for l := range lanes {
			cam := fmt.Sprintf("cam%02d", l)
			msgs = append(msgs, deliver.Message{ID: fmt.Sprintf("%s-%d", cam, i), Destination: "hook", Camera: cam,
				Kind: deliver.KindEvent, Subject: "r", Payload: []byte("{}"), Created: at(0)})
		}
	}
	require.NoError(t, s.Enqueue(context.Background(), msgs))
}

// testClaimsExclusive: claimers on two handles, racing with small
// batches, never get one message twice while the claims live, and never
// a message behind a head another holds: every lane goes to one claimer,
// whole and in order.
func testClaimsExclusive(t *testing.T, a, b store.Store) {
	const lanes, perLane = 12, 5
	laneMessages(t, outboxStore(t, a), lanes, perLane)
	now, until := at(10), at(10).Add(time.Hour)
	var mu sync.Mutex
	owner := map[int64]string{}
	laneOwner := map[string]string{}
	var wrong []string
	record := func(who string, got []deliver.Message) {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range got {
			if o, ok := owner[m.Seq]; ok {
				wrong = append(wrong, fmt.Sprintf("message %s claimed by %s and %s", m.ID, o, who))
			}
			owner[m.Seq] = who
			if o, ok := laneOwner[m.Camera]; ok && o != who {
				wrong = append(wrong, fmt.Sprintf("lane %s split between %s and %s", m.Camera, o, who))
			}
			laneOwner[m.Camera] = who
		}
	}
	var wg sync.WaitGroup
	for i, s := range []store.Store{a, b, a, b} {
		who := fmt.Sprintf("node%d", i)
		ob := outboxStore(t, s)
		wg.Go(func() {
			for range lanes * perLane { // each claim takes one at least
				got, err := ob.Claim(context.Background(), who, now, until, 7)
				if err != nil || len(got) == 0 {
					require.NoError(t, err)
					return
				}
				record(who, got)
			}
		})
	}
	wg.Wait()
	require.Empty(t, wrong)
	// Each claimer stops at its first empty claim, and a lane cut by the
	// batch size stays with its claimer: what is left is only behind
	// claimed heads.
	for _, s := range []store.Store{a, b} {
		got, err := outboxStore(t, s).Claim(context.Background(), "late", now, until, 100)
		require.NoError(t, err)
		require.Empty(t, got, "nothing is claimable while the claims live")
	}
	require.NotEmpty(t, owner)
}

// testClaimsLapse: a claim whose holder died lapses at its end and
// another process takes the lanes over, from their heads; a holder's
// release frees them at once.
func testClaimsLapse(t *testing.T, a, b store.Store) {
	ctx := context.Background()
	oa, ob := outboxStore(t, a), outboxStore(t, b)
	laneMessages(t, oa, 3, 2)
	held, err := oa.Claim(ctx, "dead", at(10), at(70), 100)
	require.NoError(t, err)
	require.Len(t, held, 6)
	none, err := ob.Claim(ctx, "alive", at(69), at(129), 100)
	require.NoError(t, err)
	require.Empty(t, none, "not before the claim's end")
	b0, err := ob.Backlog(ctx)
	require.NoError(t, err)
	require.True(t, b0.NextAt.Equal(at(70)), "due to others when the claim lapses: %v", b0.NextAt)
	took, err := ob.Claim(ctx, "alive", at(70), at(130), 100)
	require.NoError(t, err)
	require.Equal(t, seqs(held), seqs(took), "taken over whole, in order")

	// The new holder delivers one lane's head and releases the rest.
	require.NoError(t, ob.MarkDelivered(ctx, []int64{took[0].Seq}, at(71)))
	require.NoError(t, ob.Release(ctx, "alive"))
	again, err := oa.Claim(ctx, "other", at(72), at(132), 100)
	require.NoError(t, err)
	require.Equal(t, seqs(took[1:]), seqs(again))
	// A failed attempt ends the claim; a late failure report of a
	// message delivered meanwhile does not reopen it.
	require.NoError(t, oa.MarkFailed(ctx, took[0].Seq, 1, at(80), "late", false, at(73)))
	left, err := ob.Backlog(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(5), left.Pending, "the delivered message stays delivered")
}

func seqs(ms []deliver.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.Seq
	}
	return out
}

const sharedProtocols = `version: 1
protocols:
  - name: intrusion
    match: {rules: [intrusion]}
    priority: high
    group_window: 10m
    escalate: {after: 1m}
`

// testGroupingConcurrent: engines on two handles (two api nodes) take
// one camera's events at once, each half of them; the protocol groups
// them all into one incident, and every event is in it once. Another
// camera's events, taken at the same time, make their own one incident.
func testGroupingConcurrent(t *testing.T, a, b store.Store) {
	set, err := protocol.Parse([]byte(sharedProtocols), "p.yaml", protocol.Options{})
	require.NoError(t, err)
	engines := []*incident.Engine{
		incident.NewEngine(incidentStore(t, a), set, sharedProtocols, incident.Options{}),
		incident.NewEngine(incidentStore(t, b), set, sharedProtocols, incident.Options{}),
	}
	const perEngine = 12
	var wg sync.WaitGroup
	for i, eng := range engines {
		for _, cam := range []string{"gate", "yard"} {
			wg.Go(func() {
				for k := range perEngine {
					e := event.Event{ID: fmt.Sprintf("%s-%d-%d", cam, i, k), Camera: cam, Rule: "intrusion", Name: "fence",
						Zone: "fence", Class: "person", Tracks: []int{100*i + k}, Severity: event.High, Explanation: "x"}
					_, err := eng.Handle(context.Background(), e, at(k))
					require.NoError(t, err)
				}
			})
		}
	}
	wg.Wait()
	is := incidentStore(t, a)
	for _, cam := range []string{"gate", "yard"} {
		list, err := is.ListIncidents(context.Background(), incident.Filter{Camera: cam})
		require.NoError(t, err)
		require.Len(t, list, 1, "camera %s: one incident for one situation", cam)
		full, err := is.GetIncident(context.Background(), list[0].ID)
		require.NoError(t, err)
		require.Equal(t, 2*perEngine, full.Count)
		require.Len(t, full.Events, 2*perEngine)
	}
	// Both engines tick past the escalation: once.
	var esc sync.WaitGroup
	for _, eng := range engines {
		esc.Go(func() { require.NoError(t, eng.Tick(context.Background(), at(120))) })
	}
	esc.Wait()
	list, err := is.ListIncidents(context.Background(), incident.Filter{})
	require.NoError(t, err)
	for _, in := range list {
		require.False(t, in.Escalated.IsZero())
		require.Equal(t, "critical", in.Priority)
	}
}
