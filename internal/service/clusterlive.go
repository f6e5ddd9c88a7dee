package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-cctv/vigil/internal/cluster"
	"github.com/vigil-cctv/vigil/internal/httpapi"
	"github.com/vigil-cctv/vigil/internal/live"
)

// liveRequestTimeout bounds one frame request to the worker running a
// camera.
const liveRequestTimeout = 2 * time.Second

// clusterLive serves the console's live views and wall snapshots on a
// cluster node: a camera this node runs comes from its own hub; any other
// camera is relayed from the worker that runs it (found through the
// assignment bucket) over NATS request/reply, at live.fps.
type clusterLive struct{ s *Service }

// Subscribe streams a camera's frames (httpapi.LiveFeed).
func (c clusterLive) Subscribe(camera string) (<-chan []byte, func(), error) {
	frames, cancel, err := c.s.hub.Subscribe(camera)
	if !errors.Is(err, live.ErrNotRunning) {
		return frames, cancel, err
	}
	node := c.s.clusterNode()
	if node == nil || c.s.runCtx == nil {
		return nil, nil, err
	}
	ctx, stop := context.WithCancel(c.s.runCtx)
	first, ferr := node.LiveFrame(ctx, camera, liveRequestTimeout)
	if ferr != nil {
		stop()
		if errors.Is(ferr, cluster.ErrNotRunning) {
			return nil, nil, fmt.Errorf("%w (%v)", live.ErrNotRunning, ferr)
		}
		return nil, nil, ferr
	}
	out := make(chan []byte, 1)
	out <- first
	go c.relay(ctx, node, camera, out)
	return out, stop, nil
}

// relay fetches a frame every 1/live.fps until ctx ends or the camera
// runs nowhere, dropping frames a slow viewer has not taken.
func (c clusterLive) relay(ctx context.Context, node *cluster.Node, camera string, out chan []byte) {
	defer close(out)
	fps := c.s.cfg.Live.FPS
	if fps <= 0 {
		fps = 5
	}
	t := time.NewTicker(time.Duration(float64(time.Second) / fps))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		jpg, err := node.LiveFrame(ctx, camera, liveRequestTimeout)
		if errors.Is(err, cluster.ErrNotRunning) {
			return
		}
		if err != nil {
			continue // a slow worker: try the next tick
		}
		select {
		case out <- jpg:
		default:
		}
	}
}

// Snapshot is a camera's latest frame (httpapi.Snapshotter): local, or
// relayed at the worker's full size.
func (c clusterLive) Snapshot(ctx context.Context, camera string, maxWidth int) ([]byte, time.Time, error) {
	jpg, at, err := c.s.Snapshot(ctx, camera, maxWidth)
	node := c.s.clusterNode()
	if err == nil || node == nil {
		return jpg, at, err
	}
	relayed, rerr := node.LiveFrame(ctx, camera, liveRequestTimeout)
	if rerr != nil {
		return nil, time.Time{}, err
	}
	return relayed, time.Now(), nil
}

// liveFeeds is where the API's live views and snapshots come from.
func (s *Service) liveFeeds() (httpapi.LiveFeed, httpapi.Snapshotter) {
	if s.clu != nil {
		return clusterLive{s}, clusterLive{s}
	}
	return s.hub, s
}
