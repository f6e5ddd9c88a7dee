package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/vigil-cctv/vigil/internal/store"
)

// Alert list limits: the store's own maximum page, and a default that
// fills an operator's screen.
const (
	defaultLimit = 50
	maxLimit     = 500
	maxFilterLen = 128
	maxNoteLen   = 2000
)

// cursorPrefix versions the cursor format, so it can change without old
// cursors being misread.
const cursorPrefix = "v1:"

// alertStates lists the alert states in lifecycle order.
func alertStates() []store.AlertState {
	return []store.AlertState{store.StateNew, store.StateAcknowledged, store.StateConfirmed,
		store.StateFalseAlarm, store.StateClosed}
}

// alertView is a stored alert with the API links to its media.
type alertView struct {
	store.Alert
	Links alertLinks `json:"links"`
}

type alertLinks struct {
	Self       string `json:"self"`
	Transition string `json:"transition"`
	Snapshot   string `json:"snapshot,omitempty"`
	Crop       string `json:"crop,omitempty"`
	Clip       string `json:"clip,omitempty"` // present when a snapshot is; 404 if no clip was recorded
}

func viewAlert(al store.Alert) alertView {
	self := "/api/v1/alerts/" + strconv.FormatInt(al.ID, 10)
	l := alertLinks{Self: self, Transition: self + "/transition"}
	if al.Event.Snapshot != "" {
		l.Snapshot, l.Clip = self+"/snapshot", self+"/clip"
	}
	if al.Event.Crop != "" {
		l.Crop = self + "/crop"
	}
	return alertView{Alert: al, Links: l}
}

// parseQuery parses the query string strictly: a malformed, unknown or
// repeated parameter is an error, because silently ignoring a misspelt
// filter would show an operator alerts they did not ask for.
func parseQuery(r *http.Request, allowed ...string) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, badRequest("malformed query string")
	}
	for k, vs := range q {
		if !slices.Contains(allowed, k) {
			return nil, badRequest("unknown parameter %q (known: %s)", k, strings.Join(allowed, ", "))
		}
		if len(vs) > 1 {
			return nil, badRequest("parameter %q is given %d times", k, len(vs))
		}
	}
	return q, nil
}

// filterParam reads a free-text filter, bounded so it cannot bloat a query.
func filterParam(q url.Values, name string) (string, error) {
	s := q.Get(name)
	if len(s) > maxFilterLen || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "", badRequest("parameter %q must be at most %d characters without control characters", name, maxFilterLen)
	}
	return s, nil
}

// timeRange reads since and until as RFC 3339 times.
func timeRange(q url.Values) (since, until time.Time, err error) {
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"since", &since}, {"until", &until}} {
		s := q.Get(p.name)
		if s == "" {
			continue
		}
		if *p.t, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return since, until, badRequest("parameter %q must be an RFC 3339 time such as 2024-05-01T08:00:00Z", p.name)
		}
	}
	if !since.IsZero() && !until.IsZero() && !since.Before(until) {
		return since, until, badRequest("parameter \"since\" must be before \"until\"")
	}
	return since, until, nil
}

// alertFilter turns the alert list's query into a store filter.
func alertFilter(r *http.Request) (store.AlertFilter, error) {
	q, err := parseQuery(r, "camera", "rule", "class", "state", "since", "until", "cursor", "limit")
	if err != nil {
		return store.AlertFilter{}, err
	}
	var f store.AlertFilter
	for name, dst := range map[string]*string{"camera": &f.Camera, "rule": &f.Rule, "class": &f.Class} {
		if *dst, err = filterParam(q, name); err != nil {
			return f, err
		}
	}
	if s := q.Get("state"); s != "" {
		f.State = store.AlertState(s)
		if !slices.Contains(alertStates(), f.State) {
			return f, badRequest("parameter \"state\" must be one of %s", stateList())
		}
	}
	if f.Since, f.Until, err = timeRange(q); err != nil {
		return f, err
	}
	if f.After, err = decodeCursor(q.Get("cursor")); err != nil {
		return f, err
	}
	f.Cameras = visibleCameras(r.Context())
	f.Limit, err = limitParam(q.Get("limit"))
	return f, err
}

func limitParam(s string) (int, error) {
	if s == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxLimit {
		return 0, badRequest("parameter \"limit\" must be an integer from 1 to %d", maxLimit)
	}
	return n, nil
}

func stateList() string {
	var s []string
	for _, st := range alertStates() {
		s = append(s, string(st))
	}
	return strings.Join(s, ", ")
}

// encodeCursor makes the opaque cursor for "alerts older than id".
func encodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatInt(id, 10)))
}

func decodeCursor(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	rest, ok := strings.CutPrefix(string(b), cursorPrefix)
	var id int64
	if err == nil && ok {
		id, err = strconv.ParseInt(rest, 10, 64)
	}
	if err != nil || !ok || id < 1 {
		return 0, badRequest("parameter \"cursor\" is not a cursor this server issued")
	}
	return id, nil
}

// listAlerts pages newest first. It asks the store for one alert more
// than the page so that next_cursor is empty exactly on the last page.
func (a *api) listAlerts(w http.ResponseWriter, r *http.Request) error {
	f, err := alertFilter(r)
	if err != nil {
		return err
	}
	limit := f.Limit
	f.Limit = fetchLimit(limit)
	als, err := a.deps.Store.ListAlerts(r.Context(), f)
	if err != nil {
		return err
	}
	als, next := page(als, limit, func(al store.Alert) int64 { return al.ID })
	out := make([]alertView, len(als))
	for i, al := range als {
		out[i] = viewAlert(al)
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": out, "next_cursor": next})
	return nil
}

// fetchLimit is what to ask the store for to fill a page of limit: one
// more, so that the last page is known to be the last.
func fetchLimit(limit int) int { return min(limit+1, maxLimit) }

// page cuts what the store returned for a page of limit (asked with
// fetchLimit) and gives the cursor of the next page, empty on the last.
// At the largest page size the store cannot return one more, so a full
// page there always gets a cursor.
func page[T any](items []T, limit int, id func(T) int64) ([]T, string) {
	if len(items) > limit || (len(items) == limit && fetchLimit(limit) == limit) {
		items = items[:limit]
		return items, encodeCursor(id(items[limit-1]))
	}
	return items, ""
}

// alertID reads the alert ID from the path.
func alertID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, badRequest("alert id must be a positive integer")
	}
	return id, nil
}

// alert loads the alert named in the path.
func (a *api) alert(r *http.Request) (store.Alert, error) {
	id, err := alertID(r)
	if err != nil {
		return store.Alert{}, err
	}
	al, err := a.deps.Store.GetAlert(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !canSee(r.Context(), al.Event.Camera)) {
		return store.Alert{}, notFound("alert %d not found", id)
	}
	return al, err
}

func (a *api) getAlert(w http.ResponseWriter, r *http.Request) error {
	al, err := a.alert(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewAlert(al))
	return nil
}

// transitionInput is the body of POST /alerts/{id}/transition. Who moves
// the alert is the logged-in user; a "by" in the body is refused rather
// than ignored, so no client believes it can set it.
type transitionInput struct {
	To   store.AlertState `json:"to"`
	By   json.RawMessage  `json:"by"`
	Note string           `json:"note"`
}

func (in transitionInput) validate() error {
	if !slices.Contains(alertStates(), in.To) {
		return badRequest("field \"to\" must be one of %s", stateList())
	}
	if in.By != nil {
		return errByInBody()
	}
	if len(in.Note) > maxNoteLen {
		return badRequest("field \"note\" must be at most %d bytes", maxNoteLen)
	}
	return nil
}

// transitionAlert moves an alert along its lifecycle. The check against
// the current state gives the operator a clear 409; the store checks
// again, atomically, for moves racing each other.
func (a *api) transitionAlert(w http.ResponseWriter, r *http.Request) error {
	var in transitionInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := in.validate(); err != nil {
		return err
	}
	cur, err := a.alert(r)
	if err != nil {
		return err
	}
	if !store.AllowedTransition(cur.State, in.To) {
		return illegalMove(cur.ID, cur.State, in.To)
	}
	ctx, cancel := detach(r)
	defer cancel()
	by := principal(r).Name()
	al, err := a.deps.Store.Transition(ctx, cur.ID, in.To, by, in.Note)
	switch {
	case errors.Is(err, store.ErrConflict):
		return conflict("alert %d changed meanwhile; reload it and try again", cur.ID)
	case errors.Is(err, store.ErrNotFound):
		return notFound("alert %d not found", cur.ID)
	case err != nil:
		return err
	}
	a.log.Info("alert transition", "alert", al.ID, "from", cur.State, "to", al.State, "by", by)
	a.audit(r, "alert.transition", "alert/"+strconv.FormatInt(al.ID, 10),
		map[string]any{"state": cur.State, "camera": cur.Event.Camera},
		map[string]any{"state": al.State, "camera": al.Event.Camera, "note": in.Note})
	a.verdict(ctx, al, by)
	if p, ok := a.deps.Broker.(Publisher); ok {
		p.Publish(Message{Type: MessageAlertState, Data: viewAlert(al)})
	}
	writeJSON(w, http.StatusOK, viewAlert(al))
	return nil
}

func illegalMove(id int64, from, to store.AlertState) error {
	var next []string
	for _, s := range alertStates() {
		if store.AllowedTransition(from, s) {
			next = append(next, string(s))
		}
	}
	allowed := "none: the alert is " + string(from)
	if len(next) > 0 {
		allowed = strings.Join(next, ", ")
	}
	return conflict("alert %d cannot move from %s to %s (allowed: %s)", id, from, to, allowed)
}

// errByInBody refuses a client naming who acts: that is the login's.
func errByInBody() error {
	return badRequest("field \"by\" is not accepted: the action is recorded under the logged-in user")
}
