package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/vigil-cctv/vigil/internal/config"
)

// NodeConfig is everything a node runs with: who it is, how to reach
// NATS, its roles, and the hooks the service supplies for them.
type NodeConfig struct {
	Options
	NATS  NATSOptions
	Roles []string
	// Capacity is read at every heartbeat (analysed frames per second).
	Capacity func() float64
	// Addr is the node's HTTP address (api nodes), shown in status.
	Addr string

	// Worker role: start and stop cameras; serve their live frames.
	Worker WorkerCallbacks
	Frame  FrameFunc
	Live   LiveOptions
	// Verdict applies operators' verdicts on the anomaly alerts of the
	// cameras this worker runs, relayed from the api nodes.
	Verdict VerdictFunc
	// API role: where records go (usually StoreWriter over the store).
	Consumer ConsumerOptions
}

// FromConfig turns the cluster section of vigil.yaml into a NodeConfig
// (hooks and Capacity left for the service to fill in; a configured
// capacity_fps becomes a constant Capacity).
func FromConfig(c *config.Cluster, log *slog.Logger) NodeConfig {
	nc := NodeConfig{
		Options: Options{
			Node: c.Node, Replicas: c.Replicas, NodeTTL: time.Duration(c.NodeTTL),
			LeaderTTL: time.Duration(c.LeaderTTL), RebalanceQuiet: time.Duration(c.RebalanceQuiet), Log: log,
		},
		NATS: NATSOptions{
			URLs: c.NATS.URLs, CredsFile: c.NATS.CredsFile, User: c.NATS.User,
			PasswordFile: c.NATS.PasswordFile, PasswordEnv: c.NATS.PasswordEnv, CAFile: c.NATS.CAFile, Name: "vigil-" + c.Node,
		},
		Roles: c.Roles,
	}
	if fps := c.CapacityFPS; fps > 0 {
		nc.Capacity = func() float64 { return fps }
	}
	if c.NoRebalance {
		nc.Options.RebalanceQuiet = -1
	}
	return nc
}

// Node is a running cluster member.
type Node struct {
	*Cluster
	cancel, cancelBeat context.CancelFunc
	wg, beat           sync.WaitGroup
	mu                 sync.Mutex
	errs               []error
}

// Start connects (failing fast on a wrong URL or credentials), sets up
// the streams and buckets, and starts what the roles need: the heartbeat
// always; the worker loop and live responder for worker; the consumer for
// api; the election and placement for coordinator. Close stops them.
func Start(ctx context.Context, nc NodeConfig) (*Node, error) {
	has := func(r string) bool { return slices.Contains(nc.Roles, r) }
	if has(RoleAPI) && nc.Consumer.Writer == nil {
		return nil, errors.New("cluster: an api node needs Consumer.Writer")
	}
	if has(RoleWorker) && (nc.Worker.OnAssign == nil || nc.Worker.OnRevoke == nil) {
		return nil, errors.New("cluster: a worker node needs Worker.OnAssign and Worker.OnRevoke")
	}
	if nc.NATS.Name == "" {
		nc.NATS.Name = "vigil-" + nc.Node
	}
	conn, err := Connect(ctx, nc.NATS)
	if err != nil {
		return nil, err
	}
	c, err := Open(ctx, conn, nc.Options)
	if err != nil {
		conn.Close()
		return nil, err
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	bctx, cancelBeat := context.WithCancel(context.WithoutCancel(ctx))
	n := &Node{Cluster: c, cancel: cancel, cancelBeat: cancelBeat}
	n.beat.Go(func() {
		_ = c.RunHeartbeat(bctx, HeartbeatOptions{Roles: nc.Roles, Capacity: nc.Capacity, Addr: nc.Addr})
	})
	if has(RoleWorker) {
		n.run("worker", func() error { return c.RunWorker(rctx, nc.Worker) })
		if nc.Frame != nil {
			n.run("live", func() error { return c.ServeLive(rctx, nc.Frame, nc.Live) })
		}
		if nc.Verdict != nil {
			n.run("verdicts", func() error { return c.ServeVerdicts(rctx, nc.Verdict) })
		}
	}
	if has(RoleAPI) {
		n.run("consumer", func() error { return c.RunConsumer(rctx, nc.Consumer) })
	}
	if has(RoleCoordinator) {
		n.run("coordinator", func() error { return c.RunCoordinator(rctx) })
	}
	return n, nil
}

func (n *Node) run(name string, fn func() error) {
	n.wg.Go(func() {
		if err := fn(); err != nil {
			n.opts.Log.Error("cluster: "+name+" stopped", "err", err)
			n.mu.Lock()
			n.errs = append(n.errs, fmt.Errorf("%s: %w", name, err))
			n.mu.Unlock()
		}
	})
}

// Close stops every role (the worker revokes its cameras, the coordinator
// gives its lease up, the heartbeat is deleted so the cameras move at
// once), closes the connection, and returns what failed on the way.
func (n *Node) Close() error {
	n.cancel()
	n.wg.Wait() // cameras stopped before the heartbeat goes
	n.cancelBeat()
	n.beat.Wait()
	n.NC.Close()
	n.mu.Lock()
	defer n.mu.Unlock()
	return errors.Join(n.errs...)
}
