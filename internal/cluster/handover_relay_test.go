package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/cluster/clustertest"
)

func TestClusterHandoverKeepsStateAndFences(t *testing.T) {
	cl := clustertest.Start(t, 1, clustertest.Options{})
	old, next := openNode(t, cl, "w1", 0).Handover(), openNode(t, cl, "w2", 0).Handover()
	ctx := context.Background()
	_, _, err := next.Load(ctx, "cam-1")
	require.ErrorIs(t, err, ErrNotFound)

	big := bytes.Repeat([]byte("baseline"), 300_000) // 2.4 MB: larger than one message
	st := HandoverState{Baseline: big, Motion: []byte("flow"), Suppression: nil}
	require.NoError(t, old.Save(ctx, Lease{Camera: "cam-1", Node: "w1", Fence: 10}, st))
	got, fence, err := next.Load(ctx, "cam-1")
	require.NoError(t, err)
	require.EqualValues(t, 10, fence)
	require.Equal(t, big, got.Baseline)
	require.Equal(t, []byte("flow"), got.Motion)
	require.Empty(t, got.Suppression)

	require.NoError(t, next.Save(ctx, Lease{Camera: "cam-1", Node: "w2", Fence: 14}, HandoverState{Baseline: []byte("newer")}))
	err = old.Save(ctx, Lease{Camera: "cam-1", Node: "w1", Fence: 10}, st)
	require.ErrorIs(t, err, ErrFenced, "the old owner's late save is refused")
	got, fence, err = old.Load(ctx, "cam-1")
	require.NoError(t, err)
	require.EqualValues(t, 14, fence)
	require.Equal(t, []byte("newer"), got.Baseline)
}

func FuzzDecodeHandover(f *testing.F) {
	f.Add([]byte(handoverMagic + "\x00\x00\x00\x01a\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte("VHO1\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		st, err := decodeHandover(data)
		if err == nil {
			require.LessOrEqual(t, len(st.Baseline)+len(st.Motion)+len(st.Suppression), len(data))
		}
	})
}

func TestClusterLiveRelay(t *testing.T) {
	cl := clustertest.Start(t, 1, clustertest.Options{})
	worker, api := openNode(t, cl, "w1", 0), openNode(t, cl, "api", 0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = worker.ServeLive(ctx, func(camera string) ([]byte, error) {
			switch camera {
			case "cam-1":
				return []byte("\xff\xd8jpeg of cam-1"), nil
			case "cam-big":
				return make([]byte, MaxFrameBytes+1), nil
			}
			return nil, fmt.Errorf("camera %s is not running here", camera)
		}, LiveOptions{PerCameraFPS: 0.01}) // one frame, then one per 100 s
	}()
	t.Cleanup(func() { cancel(); <-done })
	for _, cam := range []string{"cam-1", "cam-big", "cam-gone"} {
		require.NoError(t, api.applyMove(context.Background(), Move{Camera: cam, To: "w1"}))
	}
	_, err := api.LiveFrame(context.Background(), "cam-none", time.Second)
	require.ErrorIs(t, err, ErrNotRunning, "no assignment")

	var frame []byte
	waitCond(t, "the responder subscribed", func() bool {
		frame, err = api.LiveFrame(context.Background(), "cam-1", 5*time.Second)
		return !errors.Is(err, ErrNotRunning)
	})
	require.NoError(t, err)
	require.Equal(t, "\xff\xd8jpeg of cam-1", string(frame))
	_, err = api.LiveFrame(context.Background(), "cam-1", 5*time.Second)
	require.ErrorContains(t, err, "rate limited")
	_, err = api.LiveFrame(context.Background(), "cam-big", 5*time.Second)
	require.ErrorContains(t, err, "exceeds")
	_, err = api.LiveFrame(context.Background(), "cam-gone", 5*time.Second)
	require.ErrorContains(t, err, "not running here")
	_, err = api.LiveFrame(context.Background(), "bad.id", time.Second)
	require.Error(t, err)

	require.NoError(t, api.applyMove(context.Background(), Move{Camera: "cam-x", To: "dead-node"}))
	_, err = api.LiveFrame(context.Background(), "cam-x", 5*time.Second)
	require.ErrorIs(t, err, ErrNotRunning, "the node has no responder")
}

// A handover request that timed out is tried again, a bounded number of
// times; other errors, and a cancelled caller, are final.
func TestHandoverRetriesTimeouts(t *testing.T) {
	calls := func(ctx context.Context, errs ...error) (int, error) {
		n := 0
		err := retryTimeouts(ctx, func() error {
			n++
			if n <= len(errs) {
				return errs[n-1]
			}
			return nil
		})
		return n, err
	}
	ctx := context.Background()
	n, err := calls(ctx, nats.ErrTimeout, fmt.Errorf("get: %w", context.DeadlineExceeded))
	require.NoError(t, err)
	require.Equal(t, 3, n)
	n, err = calls(ctx, nats.ErrTimeout, nats.ErrTimeout, nats.ErrTimeout, nats.ErrTimeout)
	require.ErrorIs(t, err, nats.ErrTimeout)
	require.Equal(t, loadAttempts, n)
	n, err = calls(ctx, ErrFenced)
	require.ErrorIs(t, err, ErrFenced)
	require.Equal(t, 1, n)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	n, err = calls(cancelled, nats.ErrTimeout)
	require.ErrorIs(t, err, nats.ErrTimeout)
	require.Equal(t, 1, n)
}
