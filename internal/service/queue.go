package service

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/vigil-cctv/vigil/internal/deliver"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/httpapi"
	"github.com/vigil-cctv/vigil/internal/incident"
	"github.com/vigil-cctv/vigil/internal/protocol"
	"github.com/vigil-cctv/vigil/internal/spool"
	"github.com/vigil-cctv/vigil/internal/store"
)

// queueStore is what the operator opQueue needs of the store: incidents,
// the outbox, and keyed alert writes for the spool. The SQLite and
// PostgreSQL stores have all three.
type queueStore interface {
	store.Store
	incident.Store
	deliver.Store
	spool.AlertStore
}

// opQueue, the operator queue, is the path from an event to the operator: every event is stored
// through the spool (a refused write waits on disk and is retried), by the
// incident engine, which decides with the alert protocols whether it opens
// or joins an incident and commits the messages to send with it; the
// delivery worker drains those messages.
type opQueue struct {
	st     queueStore
	eng    *incident.Engine
	worker *deliver.Worker
	alerts *spool.AlertSpool
	mqtt   []string // destinations that take availability and counts
	tick   time.Duration
}

// newQueue builds the operator queue from the config.
func (s *Service) newQueue() (*opQueue, error) {
	st, ok := s.store.(queueStore)
	if !ok {
		return nil, fmt.Errorf("the store %T cannot keep incidents", s.store)
	}
	in := s.cfg.Incidents
	dests, err := in.Deliver(nil)
	if err != nil {
		return nil, err
	}
	transports, err := deliver.Transports(dests)
	if err != nil {
		return nil, err
	}
	set, yaml, err := s.protocols()
	if err != nil {
		return nil, err
	}
	d := in.Delivery
	q := &opQueue{st: st, tick: time.Duration(in.Tick)}
	q.worker = deliver.NewWorker(st, transports, deliver.Options{BaseDelay: time.Duration(d.BaseDelay),
		MaxDelay: time.Duration(d.MaxDelay), MaxAttempts: d.MaxAttempts, Keep: time.Duration(d.Keep), Logger: s.log,
		Node: s.deliveryNode()})
	for _, dst := range dests {
		if dst.Type == "mqtt" {
			q.mqtt = append(q.mqtt, dst.Name)
		}
	}
	q.eng = incident.NewEngine(st, set, yaml, incident.Options{OnChange: s.incidentChanged, Committed: q.worker.Notify,
		Destination: s.destinationKnown, Logger: s.log})
	var keyed spool.AlertStore = engineStore{eng: q.eng}
	if s.clu.worker() {
		keyed = clusterSink{Store: s.store, s: s} // published, not stored here
	}
	q.alerts, err = spool.OpenAlerts(filepath.Join(s.cfg.DataDir, "alerts.spool"), keyed, s.spooledAlertStored,
		spool.Options{Registerer: s.metrics.Registry})
	if err != nil {
		return nil, err
	}
	if err := q.eng.Register(s.metrics.Registry); err != nil {
		return nil, err
	}
	q.worker.Register(s.metrics.Registry)
	return q, nil
}

// deliveryNode names this node's outbox claims: the cluster node name, so
// api nodes sharing the store claim apart and a restarted node takes up
// its own claims at once ("local" on a single node).
func (s *Service) deliveryNode() string {
	if s.clu != nil {
		return s.clu.cfg.Node
	}
	return "local"
}

// protocols reads the alert protocols named in the config (nil: the
// built-in set, which queues nothing for line crossings and info events).
func (s *Service) protocols() (*protocol.Set, string, error) {
	path := s.cfg.Incidents.Protocols
	if path == "" {
		return nil, "", nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("incidents.protocols: %w", err)
	}
	set, err := protocol.Parse(data, path, protocol.Options{Destination: s.destinationKnown})
	if err != nil {
		return nil, "", fmt.Errorf("%s is not valid:\n%w", path, err)
	}
	return set, string(data), nil
}

func (s *Service) destinationKnown(name string) bool {
	return slices.Contains(s.cfg.Incidents.DestinationNames(), name)
}

// engineStore stores the spool's alerts through the incident engine: the
// spool's key is the event's key, so a retried write is stored once.
type engineStore struct{ eng *incident.Engine }

func (e engineStore) AddAlertOnce(ctx context.Context, key string, ev event.Event) (int64, bool, error) {
	ev.ID = key
	at := ev.At
	if at.IsZero() {
		at = time.Now() // a camera without a known clock
	}
	res, err := e.eng.Handle(ctx, ev, at)
	return res.Alert, err == nil && !res.Existed, err
}

// start puts the protocols saved through the API in force (the engine
// reads open incidents from the store as it needs them).
func (q *opQueue) start(ctx context.Context) error {
	if err := q.eng.LoadProtocols(ctx); err != nil {
		return fmt.Errorf("loading protocols: %w", err)
	}
	return nil
}

// ticks escalates and auto-closes incidents on the wall clock (operator
// response is a human, wall-clock matter) until ctx ends.
func (q *opQueue) ticks(ctx context.Context, log func(error)) error {
	t := time.NewTicker(q.tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			if err := q.eng.Tick(ctx, now); err != nil {
				log(err)
			}
		}
	}
}

// incidentChanged publishes an incident change on the event stream.
func (s *Service) incidentChanged(in incident.Incident) {
	s.broker.Publish(Message{Type: httpapi.MessageIncident, Data: httpapi.ViewIncident(in), Camera: in.Camera})
}

// spooledAlertStored publishes an alert the spool stored after the store
// came back.
func (s *Service) spooledAlertStored(id int64, _ string, ev event.Event) {
	s.log.Info("spooled alert stored", "id", id, "camera", ev.Camera, "rule", ev.Name)
	s.publishAlert(context.Background(), id, ev.Camera)
}

// publishAlert puts a stored alert on the event stream.
func (s *Service) publishAlert(ctx context.Context, id int64, camera string) {
	a, err := s.store.GetAlert(ctx, id)
	if err != nil {
		return
	}
	s.broker.Publish(Message{Type: httpapi.MessageAlert, Data: a, Camera: camera})
}

// announce sends messages to the MQTT destinations (camera availability,
// counts); a failure is logged: these are informational, and the next
// state or count supersedes them.
func (q *opQueue) announce(ctx context.Context, msgs []deliver.Message, log func(error)) {
	if q == nil || len(q.mqtt) == 0 || len(msgs) == 0 {
		return
	}
	if err := q.st.Enqueue(ctx, msgs); err != nil {
		log(err)
		return
	}
	q.worker.Notify()
}
