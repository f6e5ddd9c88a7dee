package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/vigil-cctv/vigil/internal/event"
)

// An operator's verdict on an anomaly alert is taken on an api node, but
// the baseline that raised the alert (and moves its thresholds by the
// verdict) runs on the worker that holds the camera: the verdict is
// relayed there by request/reply, like a live frame.

// VerdictFunc applies an operator's verdict on an anomaly alert to the
// baseline of the camera that raised it, running on this worker.
type VerdictFunc func(ev event.Event, confirmed bool) error

// maxVerdictBytes bounds a relayed verdict (one event).
const maxVerdictBytes = 64 << 10

type verdictRequest struct {
	Event     event.Event `json:"event"`
	Confirmed bool        `json:"confirmed"`
}

func verdictSubject(node, camera string) string { return "vigil.verdict." + node + "." + camera }

// ServeVerdicts applies the verdicts relayed to this worker's cameras
// (vigil.verdict.<node>.<camera>) with fn, answering each with fn's error,
// until ctx ends.
func (c *Cluster) ServeVerdicts(ctx context.Context, fn VerdictFunc) error {
	prefix := "vigil.verdict." + c.opts.Node + "."
	sub, err := c.NC.Subscribe(prefix+"*", func(m *nats.Msg) {
		reply := nats.NewMsg(m.Reply)
		if err := applyVerdict(m.Data, m.Subject[len(prefix):], fn); err != nil {
			reply.Header.Set(headerError, err.Error())
		}
		_ = m.RespondMsg(reply)
	})
	if err != nil {
		return fmt.Errorf("cluster: serve verdicts: %w", err)
	}
	<-ctx.Done()
	return sub.Unsubscribe()
}

func applyVerdict(data []byte, camera string, fn VerdictFunc) error {
	var req verdictRequest
	if len(data) > maxVerdictBytes {
		return fmt.Errorf("verdict of %d bytes exceeds %d", len(data), maxVerdictBytes)
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return fmt.Errorf("verdict not understood: %w", err)
	}
	if req.Event.Camera != camera {
		return fmt.Errorf("verdict on camera %q sent for camera %q", req.Event.Camera, camera)
	}
	return fn(req.Event, req.Confirmed)
}

// Verdict relays an operator's verdict on an anomaly alert to the worker
// that runs its camera, and returns what the worker answered.
func (c *Cluster) Verdict(ctx context.Context, ev event.Event, confirmed bool, timeout time.Duration) error {
	node, err := c.runningNode(ctx, ev.Camera)
	if err != nil {
		return fmt.Errorf("cluster: verdict: %w", err)
	}
	data, err := json.Marshal(verdictRequest{Event: ev, Confirmed: confirmed})
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	m, err := c.NC.RequestWithContext(rctx, verdictSubject(node, ev.Camera), data)
	if errors.Is(err, nats.ErrNoResponders) {
		return fmt.Errorf("cluster: verdict on %s: %w", ev.Camera, ErrNotRunning)
	}
	if err != nil {
		return fmt.Errorf("cluster: verdict on %s (node %s): %w", ev.Camera, node, err)
	}
	if msg := m.Header.Get(headerError); msg != "" {
		return fmt.Errorf("node %s: %s", node, msg)
	}
	return nil
}

// runningNode is the node a camera is assigned to (ErrNotRunning when
// none).
func (c *Cluster) runningNode(ctx context.Context, camera string) (string, error) {
	if err := ValidID(camera); err != nil {
		return "", err
	}
	e, err := c.assign.Get(ctx, camera)
	if err != nil {
		return "", fmt.Errorf("%s: %w", camera, ErrNotRunning)
	}
	var a Assignment
	if json.Unmarshal(e.Value(), &a) != nil || a.Node == "" {
		return "", fmt.Errorf("%s: %w", camera, ErrNotRunning)
	}
	return a.Node, nil
}
