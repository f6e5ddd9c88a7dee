package incident

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Response stages, timed from the incident's first event (on scene from
// the dispatch: the unit's travel time; resolve to the verdict, resolved
// or false alarm).
const (
	StageAcknowledge = "acknowledge"
	StageDispatch    = "dispatch"
	StageOnScene     = "on_scene"
	StageResolve     = "resolve"
)

type metrics struct {
	events      *prometheus.CounterVec
	opened      *prometheus.CounterVec
	escalated   *prometheus.CounterVec
	autoClosed  *prometheus.CounterVec
	response    *prometheus.SummaryVec
	storeErrors prometheus.Counter
}

func newMetrics() *metrics {
	return &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_events_total",
			Help: "Events stored, by camera, rule and whether a protocol queued them."}, []string{"camera", "rule", "queued"}),
		opened: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_incidents_opened_total",
			Help: "Incidents opened, by camera, rule and priority."}, []string{"camera", "rule", "priority"}),
		escalated: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_incidents_escalated_total",
			Help: "Incidents escalated for want of an acknowledgement."}, []string{"camera"}),
		autoClosed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_incidents_auto_closed_total",
			Help: "Incidents closed after their protocol's quiet time."}, []string{"camera"}),
		// A summary, not a histogram: it gives the median and p90 the
		// control room asks for directly, over the last day, with four
		// series per label set instead of a dozen buckets.
		response: prometheus.NewSummaryVec(prometheus.SummaryOpts{Name: "vigil_incident_response_seconds",
			Help:       "Time to acknowledge, to dispatch and to resolve (from the first event), and dispatch to on scene.",
			Objectives: map[float64]float64{0.5: 0.05, 0.9: 0.01}, MaxAge: 24 * time.Hour, AgeBuckets: 6},
			[]string{"camera", "rule", "unit_type", "stage"}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_incident_store_errors_total",
			Help: "Incident writes that failed (the event was not stored; the caller retries)."}),
	}
}

// Register adds the engine's metrics to reg.
func (e *Engine) Register(reg prometheus.Registerer) error {
	var errs []error
	for _, c := range []prometheus.Collector{e.m.events, e.m.opened, e.m.escalated, e.m.autoClosed, e.m.response, e.m.storeErrors} {
		errs = append(errs, reg.Register(c))
	}
	return errors.Join(errs...)
}

// observe records the response time a transition to s completes.
func (e *Engine) observe(in Incident, s State) {
	for _, st := range stages(in) {
		if st.to == s {
			e.m.response.WithLabelValues(in.Camera, in.Rule, unitOf(in), st.name).Observe(st.d.Seconds())
		}
	}
}

// unitOf is the unit type an incident's times count under: the one
// dispatched, else the one its protocol suggests ("" for none).
func unitOf(in Incident) string {
	if in.UnitType != "" {
		return in.UnitType
	}
	return in.Unit
}

type stage struct {
	name string
	to   State
	d    time.Duration
}

// stages are the response times an incident has reached so far.
func stages(in Incident) []stage {
	var out []stage
	add := func(name string, to State, from, at time.Time) {
		if !from.IsZero() && !at.IsZero() {
			out = append(out, stage{name, to, max(0, at.Sub(from))})
		}
	}
	add(StageAcknowledge, Acknowledged, in.Opened, in.Acked)
	add(StageDispatch, Dispatched, in.Opened, in.Dispatched)
	add(StageOnScene, OnScene, in.Dispatched, in.OnScene)
	// To resolve is to a verdict: resolved or false alarm.
	to := Resolved
	if in.State == FalseAlarm {
		to = FalseAlarm
	}
	add(StageResolve, to, in.Opened, in.Resolved)
	return out
}
