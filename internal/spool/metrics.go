package spool

import "github.com/prometheus/client_golang/prometheus"

// metrics count what a spool does; with no Registerer they are kept but
// not exported.
type metrics struct {
	pending    prometheus.Gauge
	added      prometheus.Counter
	delivered  prometheus.Counter
	retries    prometheus.Counter
	diskErrors prometheus.Counter
}

func newMetrics(opt Options) metrics {
	labels := prometheus.Labels{"spool": opt.Name}
	m := metrics{
		pending: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_spool_pending",
			Help: "Records waiting in the spool for the store.", ConstLabels: labels}),
		added: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_spool_added_total",
			Help: "Records spooled because the store refused them.", ConstLabels: labels}),
		delivered: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_spool_delivered_total",
			Help: "Spooled records the store has since accepted.", ConstLabels: labels}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_spool_failed_deliveries_total",
			Help: "Deliveries of spooled records the store refused (each is retried).", ConstLabels: labels}),
		diskErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_spool_write_errors_total",
			Help: "Failures to write the spool file itself: those records were not saved.", ConstLabels: labels}),
	}
	if opt.Registerer != nil {
		opt.Registerer.MustRegister(m.pending, m.added, m.delivered, m.retries, m.diskErrors)
	}
	return m
}
