package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"golang.org/x/time/rate"
)

// Live-view relay bounds.
const (
	// MaxFrameBytes is the largest frame relayed (a 1080p JPEG is far
	// below it); it must also fit the servers' max_payload (1 MiB by
	// default).
	MaxFrameBytes = 1 << 20
	headerError   = "Vigil-Error"
)

// FrameFunc returns a camera's latest frame as JPEG.
type FrameFunc func(camera string) ([]byte, error)

// LiveOptions bound the worker side of the relay.
type LiveOptions struct {
	// PerCameraFPS caps how many frames per second one camera serves to
	// the whole cluster (default 10, burst 2 s of it).
	PerCameraFPS float64
}

func liveSubject(node, camera string) string { return "vigil.live." + node + "." + camera }

// ServeLive answers live-frame requests for the cameras this worker runs
// (vigil.live.<node>.<camera>) with frame(camera), at most PerCameraFPS
// per camera and MaxFrameBytes per frame, until ctx ends.
func (c *Cluster) ServeLive(ctx context.Context, frame FrameFunc, o LiveOptions) error {
	if o.PerCameraFPS <= 0 {
		o.PerCameraFPS = 10
	}
	var mu sync.Mutex
	limits := map[string]*rate.Limiter{}
	allow := func(camera string) bool {
		mu.Lock()
		defer mu.Unlock()
		l := limits[camera]
		if l == nil {
			if len(limits) > 10000 { // requests for made-up names cannot grow it without bound
				clear(limits)
			}
			l = rate.NewLimiter(rate.Limit(o.PerCameraFPS), max(1, int(2*o.PerCameraFPS)))
			limits[camera] = l
		}
		return l.Allow()
	}
	prefix := "vigil.live." + c.opts.Node + "."
	sub, err := c.NC.Subscribe(prefix+"*", func(m *nats.Msg) {
		camera := m.Subject[len(prefix):]
		reply := nats.NewMsg(m.Reply)
		if !allow(camera) {
			reply.Header.Set(headerError, "rate limited")
			c.metrics.liveRequests.WithLabelValues("limited").Inc()
		} else if data, err := frame(camera); err != nil {
			reply.Header.Set(headerError, err.Error())
			c.metrics.liveRequests.WithLabelValues("error").Inc()
		} else if len(data) > MaxFrameBytes {
			reply.Header.Set(headerError, fmt.Sprintf("frame of %d bytes exceeds %d", len(data), MaxFrameBytes))
			c.metrics.liveRequests.WithLabelValues("too_large").Inc()
		} else {
			reply.Data = data
			c.metrics.liveRequests.WithLabelValues("ok").Inc()
		}
		_ = m.RespondMsg(reply)
	})
	if err != nil {
		return fmt.Errorf("cluster: serve live frames: %w", err)
	}
	<-ctx.Done()
	return sub.Unsubscribe()
}

// ErrNotRunning is returned when no live node runs the camera.
var ErrNotRunning = errors.New("camera is not running on any node")

// LiveFrame fetches camera's latest JPEG from the worker that runs it
// (found through the assignment bucket), within timeout.
func (c *Cluster) LiveFrame(ctx context.Context, camera string, timeout time.Duration) ([]byte, error) {
	node, err := c.runningNode(ctx, camera)
	if err != nil {
		return nil, fmt.Errorf("cluster: live: %w", err)
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	m, err := c.NC.RequestWithContext(rctx, liveSubject(node, camera), nil)
	if errors.Is(err, nats.ErrNoResponders) {
		return nil, fmt.Errorf("cluster: live %s on %s: %w", camera, node, ErrNotRunning)
	}
	if err != nil {
		return nil, fmt.Errorf("cluster: live %s on %s: %w", camera, node, err)
	}
	if msg := m.Header.Get(headerError); msg != "" {
		return nil, fmt.Errorf("cluster: live %s on %s: %s", camera, node, msg)
	}
	if len(m.Data) > MaxFrameBytes {
		return nil, fmt.Errorf("cluster: live %s: frame of %d bytes exceeds %d", camera, len(m.Data), MaxFrameBytes)
	}
	return m.Data, nil
}
