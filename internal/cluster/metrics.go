package cluster

import "github.com/prometheus/client_golang/prometheus"

// Metrics are one node's cluster metrics; Register adds them to a
// registry (the service's /metrics).
type Metrics struct {
	heartbeatErrors prometheus.Counter
	isLeader        prometheus.Gauge
	casConflicts    prometheus.Counter
	moves           *prometheus.CounterVec
	rebalance       *prometheus.CounterVec
	movesInProgress prometheus.Gauge
	balanceChecks   prometheus.Counter
	assigned        prometheus.Gauge
	fenced          prometheus.Counter
	published       *prometheus.CounterVec
	publishErrors   *prometheus.CounterVec
	written         *prometheus.CounterVec
	duplicates      *prometheus.CounterVec
	writeErrors     *prometheus.CounterVec
	deadLetters     *prometheus.CounterVec
	writeLatency    *prometheus.HistogramVec
	liveRequests    *prometheus.CounterVec
	watchRestarts   *prometheus.CounterVec
}

func newMetrics(node string) *Metrics {
	l := prometheus.Labels{"node": node}
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_cluster_" + name, Help: help, ConstLabels: l})
	}
	vec := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_cluster_" + name, Help: help, ConstLabels: l}, labels)
	}
	return &Metrics{
		heartbeatErrors: counter("heartbeat_errors_total", "Heartbeats the server did not store."),
		isLeader:        prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_cluster_coordinator", Help: "1 while this node is the coordinator.", ConstLabels: l}),
		casConflicts:    counter("assignment_conflicts_total", "Assignment writes refused because the entry changed since it was read."),
		moves: vec("assignment_moves_total", "Assignments written: by the coordinator (reason placed, failover, removed) "+
			"or by a worker handing a camera over (reason rebalance).", "reason"),
		rebalance: vec("rebalance_marks_total", "Planned moves the coordinator started (result started) or gave back "+
			"to their owner (result cancelled).", "result"),
		balanceChecks: counter("rebalance_checks_total", "Times the coordinator, placement settled, asked Rebalance for moves "+
			"(whether or not it found any)."),
		movesInProgress: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_cluster_moves_in_progress",
			Help: "Cameras marked to move that their owner has not handed over yet (coordinator).", ConstLabels: l}),
		assigned:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_cluster_cameras_running", Help: "Cameras this worker runs.", ConstLabels: l}),
		fenced:        counter("self_fenced_total", "Times this worker stopped all its cameras because its heartbeat could not be stored."),
		published:     vec("published_total", "Records published, by kind.", "kind"),
		publishErrors: vec("publish_errors_total", "Publishes that failed after retries, by kind.", "kind"),
		written:       vec("written_total", "Records written to the store, by kind.", "kind"),
		duplicates:    vec("duplicates_total", "Redelivered records the store already had, by kind.", "kind"),
		writeErrors:   vec("write_errors_total", "Store writes that failed and will be retried, by kind.", "kind"),
		deadLetters:   vec("dead_letters_total", "Undecodable records moved to the dead letters, by kind.", "kind"),
		writeLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "vigil_cluster_publish_to_row_seconds", Help: "From a worker's publish to the committed row, by kind.",
			ConstLabels: l, Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"kind"}),
		liveRequests: vec("live_requests_total", "Live frames relayed, by result.", "result"),
		watchRestarts: vec("watch_restarts_total", "Bucket watches the server ended and this node opened again, by bucket.",
			"bucket"),
	}
}

// Register adds this node's metrics to reg.
func (c *Cluster) Register(reg prometheus.Registerer) error {
	m := c.metrics
	for _, col := range []prometheus.Collector{m.heartbeatErrors, m.isLeader, m.casConflicts, m.moves, m.rebalance, m.movesInProgress, m.balanceChecks, m.assigned,
		m.fenced, m.published, m.publishErrors, m.written, m.duplicates, m.writeErrors, m.deadLetters,
		m.writeLatency, m.liveRequests, m.watchRestarts} {
		if err := reg.Register(col); err != nil {
			return err
		}
	}
	return nil
}
