package deliver

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the worker's own. Labels name destinations by their
// configured name, never by URL.
type metrics struct {
	sent        *prometheus.CounterVec
	failures    *prometheus.CounterVec
	deadTotal   *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	pending     prometheus.Gauge
	dead        prometheus.Gauge
	storeErrors prometheus.Counter
}

func newMetrics() *metrics {
	return &metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_delivery_sent_total",
			Help: "Messages delivered, by destination and kind."}, []string{"destination", "kind"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_delivery_failures_total",
			Help: "Failed delivery attempts, by destination."}, []string{"destination"}),
		deadTotal: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_delivery_dead_letters_total",
			Help: "Messages moved to the dead letters, by destination."}, []string{"destination"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "vigil_delivery_latency_seconds",
			Help:    "From enqueue to the receiver's acknowledgement.",
			Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 1800}}, []string{"destination"}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_outbox_pending",
			Help: "Messages waiting in the outbox."}),
		dead: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_outbox_dead",
			Help: "Messages in the dead letters."}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_outbox_store_errors_total",
			Help: "Outbox passes that failed on the store (retried at the next poll)."}),
	}
}

// Register adds the worker's metrics to reg.
func (w *Worker) Register(reg prometheus.Registerer) error {
	m := w.m
	var errs []error
	for _, c := range []prometheus.Collector{m.sent, m.failures, m.deadTotal, m.latency, m.pending, m.dead, m.storeErrors} {
		errs = append(errs, reg.Register(c))
	}
	return errors.Join(errs...)
}
