package httpapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-cctv/vigil/internal/deliver"
	"github.com/vigil-cctv/vigil/internal/incident"
	"github.com/vigil-cctv/vigil/internal/protocol"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/store"
)

// MessageIncident is the event-stream message type of an incident that
// opened or changed; its data is the incident as GET
// /api/v1/incidents/{id} shows it. The service publishes the engine's
// changes (incident.Options.OnChange); the API publishes operators'
// transitions when the Broker is a Publisher.
const MessageIncident = "incident"

// Incidents is the operator queue: the incident engine implements it.
type Incidents interface {
	Get(ctx context.Context, id int64) (incident.Incident, error)
	List(ctx context.Context, f incident.Filter) ([]incident.Incident, error)
	Transition(ctx context.Context, id int64, ch incident.Change, by string, at time.Time) (incident.Incident, []int64, error)
	ResponseTimes(ctx context.Context, f incident.Filter) ([]incident.ResponseStat, error)
	Protocols() (*protocol.Set, string)
	ReplaceProtocols(ctx context.Context, yaml []byte, author string) (int, error)
}

// Outbox lists and retries undeliverable messages; the store implements
// it. Retried messages are picked up by the delivery worker at its next
// pass (Deps.Redeliver wakes it at once).
type Outbox interface {
	DeadLetters(ctx context.Context, f deliver.DeadFilter) ([]deliver.Message, error)
	RetryDead(ctx context.Context, seq int64, now time.Time) (deliver.Message, error)
	Backlog(ctx context.Context) (deliver.Backlog, error)
}

// who is the user a request acts as, from its session or token (the
// guard has checked it), never from the body.
func who(r *http.Request) string { return principal(r).Name() }

func (a *api) incidents() (Incidents, error) {
	if a.deps.Incidents == nil {
		return nil, unavailable("incidents are not available")
	}
	return a.deps.Incidents, nil
}

// incidentView is an incident with its API links.
type incidentView struct {
	incident.Incident
	Links incidentLinks `json:"links"`
}

type incidentLinks struct {
	Self       string `json:"self"`
	Transition string `json:"transition"`
	Best       string `json:"best_event"` // the alert whose snapshot and clip show it
	Snapshot   string `json:"snapshot"`
	Clip       string `json:"clip"`
}

// ViewIncident is an incident as the API and the event stream show it.
func ViewIncident(in incident.Incident) any { return viewIncident(in) }

func viewIncident(in incident.Incident) incidentView {
	self := "/api/v1/incidents/" + strconv.FormatInt(in.ID, 10)
	best := "/api/v1/alerts/" + strconv.FormatInt(in.Best, 10)
	return incidentView{Incident: in, Links: incidentLinks{Self: self, Transition: self + "/transition", Best: best,
		Snapshot: best + "/snapshot", Clip: best + "/clip"}}
}

func incidentFilter(r *http.Request) (incident.Filter, error) {
	q, err := parseQuery(r, "camera", "rule", "state", "priority", "since", "until", "cursor", "limit")
	if err != nil {
		return incident.Filter{}, err
	}
	var f incident.Filter
	for name, dst := range map[string]*string{"camera": &f.Camera, "rule": &f.Rule, "priority": &f.Priority} {
		if *dst, err = filterParam(q, name); err != nil {
			return f, err
		}
	}
	if s := q.Get("state"); s != "" {
		for _, st := range strings.Split(s, ",") {
			if !slices.Contains(incident.States(), incident.State(st)) {
				return f, badRequest("parameter \"state\" must be a comma-separated list of %s", incidentStateList())
			}
			f.States = append(f.States, incident.State(st))
		}
	}
	if f.Priority != "" && protocol.Priority(f.Priority).Rank() == 0 {
		return f, badRequest("parameter \"priority\" must be one of low, medium, high, critical")
	}
	if f.Since, f.Until, err = timeRange(q); err != nil {
		return f, err
	}
	if f.After, err = decodeCursor(q.Get("cursor")); err != nil {
		return f, err
	}
	f.Limit, err = limitParam(q.Get("limit"))
	return f, err
}

func incidentStateList() string {
	var s []string
	for _, st := range incident.States() {
		s = append(s, string(st))
	}
	return strings.Join(s, ", ")
}

// listIncidents pages the queue newest first; ?state=new,acknowledged is
// what an operator's open queue asks for.
func (a *api) listIncidents(w http.ResponseWriter, r *http.Request) error {
	inc, err := a.incidents()
	if err != nil {
		return err
	}
	f, err := incidentFilter(r)
	if err != nil {
		return err
	}
	limit := f.Limit
	f.Limit = fetchLimit(limit)
	list, err := inc.List(r.Context(), f)
	if err != nil {
		return err
	}
	list, next := page(list, limit, func(in incident.Incident) int64 { return in.ID })
	// A user limited to camera groups sees only their cameras' incidents
	// (a page may then be short; the cursor still goes on).
	list = onlyVisible(r.Context(), list, func(in incident.Incident) string { return in.Camera })
	out := make([]incidentView, len(list))
	for i, in := range list {
		out[i] = viewIncident(in)
	}
	writeJSON(w, http.StatusOK, map[string]any{"incidents": out, "next_cursor": next})
	return nil
}

func incidentID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, badRequest("incident id must be a positive integer")
	}
	return id, nil
}

func (a *api) getIncident(w http.ResponseWriter, r *http.Request) error {
	inc, err := a.incidents()
	if err != nil {
		return err
	}
	id, err := incidentID(r)
	if err != nil {
		return err
	}
	in, err := inc.Get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !canSee(r.Context(), in.Camera)) {
		return notFound("incident %d not found", id)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewIncident(in))
	return nil
}

// incidentTransitionInput is the body of POST /incidents/{id}/transition;
// who makes the move comes from the session, not from here.
type incidentTransitionInput struct {
	To       incident.State `json:"to"`
	UnitType string         `json:"unit_type"`
	UnitID   string         `json:"unit_id"`
	Note     string         `json:"note"`
}

// transitionIncident moves an incident along the response; a verdict
// (resolved or false alarm) also judges each grouped event and feeds the
// verdict loop (suppressions, baseline thresholds, per-rule precision).
func (a *api) transitionIncident(w http.ResponseWriter, r *http.Request) error {
	inc, err := a.incidents()
	if err != nil {
		return err
	}
	by := who(r)
	id, err := incidentID(r)
	if err != nil {
		return err
	}
	var in incidentTransitionInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if cur, err := inc.Get(r.Context(), id); errors.Is(err, store.ErrNotFound) || (err == nil && !canSee(r.Context(), cur.Camera)) {
		return notFound("incident %d not found", id)
	}
	ctx, cancel := detach(r)
	defer cancel()
	ch := incident.Change{To: in.To, UnitType: in.UnitType, UnitID: in.UnitID, Note: in.Note}
	out, judged, err := inc.Transition(ctx, id, ch, by, a.opts.Now())
	switch {
	case errors.Is(err, incident.ErrInvalid):
		return badRequest("%s", strings.TrimPrefix(err.Error(), incident.ErrInvalid.Error()+": "))
	case errors.Is(err, store.ErrNotFound):
		return notFound("incident %d not found", id)
	case errors.Is(err, store.ErrConflict):
		return a.illegalIncidentMove(ctx, inc, id, in.To)
	case err != nil:
		return err
	}
	a.log.Info("incident transition", "incident", id, "to", out.State, "by", by)
	a.audit(r, "incident.transition", "incident/"+strconv.FormatInt(id, 10),
		map[string]any{"state": previousState(out), "camera": out.Camera},
		map[string]any{"state": out.State, "camera": out.Camera, "unit_type": in.UnitType, "unit_id": in.UnitID, "note": in.Note})
	for _, alertID := range judged {
		if al, err := a.deps.Store.GetAlert(ctx, alertID); err == nil {
			a.verdict(ctx, al, by)
		} else {
			a.log.Warn("verdict feedback failed", "alert", alertID, "err", err)
		}
	}
	if p, ok := a.deps.Broker.(Publisher); ok {
		p.Publish(Message{Type: MessageIncident, Data: viewIncident(out), Camera: out.Camera})
	}
	writeJSON(w, http.StatusOK, viewIncident(out))
	return nil
}

// previousState is the state an incident was in before its latest
// transition (its history is oldest first).
func previousState(in incident.Incident) incident.State {
	if n := len(in.History); n > 0 {
		return in.History[n-1].From
	}
	return ""
}

func (a *api) illegalIncidentMove(ctx context.Context, inc Incidents, id int64, to incident.State) error {
	cur, err := inc.Get(ctx, id)
	if err != nil {
		return conflict("incident %d changed meanwhile; reload it and try again", id)
	}
	var next []string
	for _, s := range incident.States() {
		if incident.Allowed(cur.State, s) {
			next = append(next, string(s))
		}
	}
	allowed := "none: the incident is " + string(cur.State)
	if len(next) > 0 {
		allowed = strings.Join(next, ", ")
	}
	return conflict("incident %d cannot move from %s to %s (allowed: %s)", id, cur.State, to, allowed)
}

// responseStats answers time to acknowledge, dispatch, on scene and
// resolve (median and p90) per camera, rule and unit type.
func (a *api) responseStats(w http.ResponseWriter, r *http.Request) error {
	inc, err := a.incidents()
	if err != nil {
		return err
	}
	q, since, until, err := a.window(r, "camera", "rule", "since", "until")
	if err != nil {
		return err
	}
	f := incident.Filter{Since: since, Until: until}
	if f.Camera, err = filterParam(q, "camera"); err != nil {
		return err
	}
	if f.Rule, err = filterParam(q, "rule"); err != nil {
		return err
	}
	stats, err := inc.ResponseTimes(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"since": since, "until": until, "groups": nonNil(stats)})
	return nil
}

// getProtocols returns the protocol file in force, as YAML.
func (a *api) getProtocols(w http.ResponseWriter, _ *http.Request) error {
	inc, err := a.incidents()
	if err != nil {
		return err
	}
	_, yaml := inc.Protocols()
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = io.WriteString(w, yaml)
	return nil
}

// putProtocols validates a protocol file, saves it and puts it in force;
// nothing changes unless the whole file is valid. Every problem is listed
// as "protocols.yaml:line:column: field: message".
func (a *api) putProtocols(w http.ResponseWriter, r *http.Request) error {
	inc, err := a.incidents()
	if err != nil {
		return err
	}
	by := who(r)
	if err := requireMediaType(r, "application/yaml", "application/x-yaml", "text/yaml", "text/plain"); err != nil {
		return err
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	ctx, cancel := detach(r)
	defer cancel()
	v, err := inc.ReplaceProtocols(ctx, body, by)
	var es scene.Errors
	if errors.As(err, &es) {
		ae := errorf(http.StatusUnprocessableEntity, codeInvalidProtocols, "the protocol file is invalid")
		for _, e := range es {
			ae.Details = append(ae.Details, e.Error())
		}
		return ae
	}
	if err != nil {
		return err
	}
	a.log.Info("protocols replaced", "version", v, "by", by)
	a.audit(r, "protocols.replace", "protocols", nil, map[string]int{"version": v})
	writeJSON(w, http.StatusOK, map[string]any{"version": v})
	return nil
}

// listDeadLetters lists messages that could not be delivered, newest
// first, with the outbox backlog. Payloads are left out: the list is for
// deciding what to retry, and GET /api/v1/incidents shows the content.
func (a *api) listDeadLetters(w http.ResponseWriter, r *http.Request) error {
	if a.deps.Outbox == nil {
		return unavailable("delivery is not available")
	}
	q, err := parseQuery(r, "destination", "camera", "cursor", "limit")
	if err != nil {
		return err
	}
	var f deliver.DeadFilter
	if f.Destination, err = filterParam(q, "destination"); err != nil {
		return err
	}
	if f.Camera, err = filterParam(q, "camera"); err != nil {
		return err
	}
	if f.After, err = decodeCursor(q.Get("cursor")); err != nil {
		return err
	}
	limit, err := limitParam(q.Get("limit"))
	if err != nil {
		return err
	}
	f.Limit = fetchLimit(limit)
	list, err := a.deps.Outbox.DeadLetters(r.Context(), f)
	if err != nil {
		return err
	}
	list, next := page(list, limit, func(m deliver.Message) int64 { return m.Seq })
	list = onlyVisible(r.Context(), list, func(m deliver.Message) string { return m.Camera })
	for i := range list {
		list[i].Payload = nil
	}
	b, err := a.deps.Outbox.Backlog(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"dead_letters": nonNil(list), "next_cursor": next, "backlog": b})
	return nil
}

// retryDeadLetter makes a dead message pending again.
func (a *api) retryDeadLetter(w http.ResponseWriter, r *http.Request) error {
	if a.deps.Outbox == nil {
		return unavailable("delivery is not available")
	}
	by := who(r)
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil || seq < 1 {
		return badRequest("dead letter id must be a positive integer")
	}
	ctx, cancel := detach(r)
	defer cancel()
	m, err := a.deps.Outbox.RetryDead(ctx, seq, a.opts.Now())
	if errors.Is(err, store.ErrNotFound) {
		return notFound("no dead letter %d", seq)
	}
	if err != nil {
		return err
	}
	if a.deps.Redeliver != nil {
		a.deps.Redeliver()
	}
	a.log.Info("dead letter retried", "seq", seq, "destination", m.Destination, "id", m.ID, "by", by)
	a.audit(r, "delivery.retry", "delivery/"+strconv.FormatInt(seq, 10), map[string]string{"state": "dead"},
		map[string]string{"state": "pending", "destination": m.Destination, "id": m.ID})
	m.Payload = nil
	writeJSON(w, http.StatusOK, m)
	return nil
}
