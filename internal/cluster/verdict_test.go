package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/cluster/clustertest"
	"github.com/vigil-cctv/vigil/internal/event"
)

// An anomaly verdict taken on an api node reaches the worker that runs
// the camera, whose answer comes back; a camera on no live node, a
// mismatched camera and an oversized or garbled request are errors.
func TestClusterVerdictRelay(t *testing.T) {
	cl := clustertest.Start(t, 1, clustertest.Options{})
	worker, api := openNode(t, cl, "w1", 0), openNode(t, cl, "api", 0)
	got := make(chan verdictRequest, 4)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = worker.ServeVerdicts(ctx, func(ev event.Event, confirmed bool) error {
			if ev.Name == "unknown" {
				return errors.New("not an alert the current baseline of camera \"cam-1\" raised")
			}
			got <- verdictRequest{Event: ev, Confirmed: confirmed}
			return nil
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	require.NoError(t, api.applyMove(context.Background(), Move{Camera: "cam-1", To: "w1"}))
	require.ErrorIs(t, api.Verdict(context.Background(), event.Event{Camera: "cam-none"}, true, time.Second), ErrNotRunning)

	ev := event.Event{Rule: "anomaly", Name: "speed", Camera: "cam-1", Tracks: []int{4}, Start: 3.5, End: 5}
	var err error
	waitCond(t, "the responder subscribed", func() bool {
		err = api.Verdict(context.Background(), ev, true, 5*time.Second)
		return !errors.Is(err, ErrNotRunning)
	})
	require.NoError(t, err)
	require.Equal(t, verdictRequest{Event: ev, Confirmed: true}, <-got)

	unknown := ev
	unknown.Name = "unknown"
	require.ErrorContains(t, api.Verdict(context.Background(), unknown, false, 5*time.Second), "w1: not an alert the current baseline")

	// Requests not made by Verdict: another camera's event, garbage, too big.
	for data, want := range map[string]string{
		`{"event":{"camera":"cam-2"}}`:                `verdict on camera "cam-2" sent for camera "cam-1"`,
		`{"event":`:                                   "verdict not understood",
		`{"x":"` + strings.Repeat("a", 70<<10) + `"}`: "exceeds",
	} {
		m, err := api.NC.Request(verdictSubject("w1", "cam-1"), []byte(data), 5*time.Second)
		require.NoError(t, err)
		require.Contains(t, m.Header.Get(headerError), want, fmt.Sprintf("%.40s", data))
	}
	require.Empty(t, got, "none of them reached the baseline")

	require.NoError(t, api.applyMove(context.Background(), Move{Camera: "cam-x", To: "dead-node"}))
	require.ErrorIs(t, api.Verdict(context.Background(), event.Event{Camera: "cam-x"}, true, 5*time.Second), ErrNotRunning)
}
