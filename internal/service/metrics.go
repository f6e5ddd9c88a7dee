package service

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the service's Prometheus series. Labels carry camera ids,
// never URLs, so no credential can reach a scrape.
type Metrics struct {
	Registry *prometheus.Registry
	Frames   *prometheus.CounterVec // camera, stage: in, gated, analysed, detected, dropped
	// Decisions count the detection plan's decisions per camera and mode
	// (full, regions, carry); Regions the crops detected.
	Decisions  *prometheus.CounterVec   // camera, mode
	Regions    *prometheus.CounterVec   // camera
	Inference  *prometheus.HistogramVec // camera
	Latency    *prometheus.HistogramVec // camera: frame submit → result
	QueueDepth *prometheus.GaugeVec     // camera
	Alerts     *prometheus.CounterVec   // camera, rule
	Suppressed *prometheus.CounterVec   // camera, rule: alerts hidden by a suppression
	State      *prometheus.GaugeVec     // camera, state (1 for the current one)
	Reconnects *prometheus.CounterVec   // camera
	// AlertLatency is from a frame's arrival to its alert being published
	// on the event stream.
	AlertLatency *prometheus.HistogramVec // camera
	// BaselineTime and BaselineTracks are what a camera's baseline has
	// learned, as of its last save: model time and tracks. They go on
	// from the handed-over figures when a camera moves to another node.
	BaselineTime   *prometheus.GaugeVec // camera
	BaselineTracks *prometheus.GaugeVec // camera
	// Unstarted is 1 for a camera leased to this cluster worker that has
	// not started yet (its start is being retried).
	Unstarted *prometheus.GaugeVec // camera
}

// NewMetrics registers the series on a fresh registry (no globals).
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Frames: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_frames_total",
			Help: "Frames per camera and stage (in: decoded from the source; gated: skipped by the motion gate; analysed: through the analysis chain, detected or carried by the tracker; detected: inferred, whole or in regions; dropped: lost to a full queue)."},
			[]string{"camera", "stage"}),
		Decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_detplan_decisions_total",
			Help: "Analysed frames per camera by the detection plan's decision (full: whole frame detected; regions: crops around motion and tracks; carry: tracker prediction, no detection)."},
			[]string{"camera", "mode"}),
		Regions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_detplan_regions_total",
			Help: "Crops detected per camera by region detection."}, []string{"camera"}),
		Inference: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "vigil_inference_seconds",
			Help: "Detector time per frame.", Buckets: prometheus.ExponentialBuckets(0.005, 1.6, 12)}, []string{"camera"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "vigil_detect_latency_seconds",
			Help: "Time from a frame entering the detector queue to its detections.", Buckets: prometheus.ExponentialBuckets(0.01, 1.6, 14)}, []string{"camera"}),
		QueueDepth: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vigil_queue_depth",
			Help: "Frames waiting for the detector per camera."}, []string{"camera"}),
		Alerts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_alerts_total",
			Help: "Alerts raised per camera and rule."}, []string{"camera", "rule"}),
		Suppressed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_alerts_suppressed_total",
			Help: "Alerts not raised because an operator dismissed the same situation."}, []string{"camera", "rule"}),
		State: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vigil_camera_state",
			Help: "1 for the camera's current state."}, []string{"camera", "state"}),
		AlertLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "vigil_alert_latency_seconds",
			Help:    "From a frame's arrival to the alert it raised being published on the event stream.",
			Buckets: prometheus.ExponentialBuckets(0.01, 1.5, 16)}, []string{"camera"}),
		Reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_camera_reconnects_total",
			Help: "Times a camera's source was restarted."}, []string{"camera"}),
		BaselineTime: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vigil_baseline_model_seconds",
			Help: "Stream time a camera's baseline has observed, as of its last save (it continues from the handed-over baseline when the camera moves)."}, []string{"camera"}),
		BaselineTracks: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vigil_baseline_learned_tracks",
			Help: "Tracks a camera's baseline has learned, as of its last save."}, []string{"camera"}),
		Unstarted: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vigil_cluster_camera_unstarted",
			Help: "1 for a camera leased to this worker that has not started (its config not yet readable, or its start failed); the start is retried while the lease lasts."}, []string{"camera"}),
	}
	m.Registry.MustRegister(m.Frames, m.Decisions, m.Regions, m.Inference, m.Latency, m.QueueDepth, m.Alerts, m.Suppressed, m.State, m.Reconnects, m.AlertLatency,
		m.BaselineTime, m.BaselineTracks, m.Unstarted,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// SetState marks state as the camera's current one.
func (m *Metrics) SetState(camera, state string, all []string) {
	for _, s := range all {
		v := 0.0
		if s == state {
			v = 1
		}
		m.State.WithLabelValues(camera, s).Set(v)
	}
}
