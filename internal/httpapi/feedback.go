package httpapi

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/vigil-cctv/vigil/internal/store"
)

// Feedback acts on operators' verdicts. The service implements it: a
// dismissed alert suppresses its situation (or teaches the camera's
// baseline that it was normal), a confirmed one keeps alerting.
type Feedback interface {
	// Verdict is called after an alert moved to confirmed or false_alarm.
	// Its error is logged; the transition itself has already been stored.
	Verdict(ctx context.Context, a store.Alert, by string) error
	// Lift removes a suppression from the store and from the cameras
	// (an error wrapping store.ErrNotFound when there is none).
	Lift(ctx context.Context, id int64) error
}

// Baselines shows what each camera has learned to be normal. Errors
// wrapping store.ErrNotFound mean the camera has no baseline.
type Baselines interface {
	// BaselineState is a JSON-encodable summary of a camera's baseline.
	BaselineState(camera string) (any, error)
	// Heatmap is a PNG of what the camera learned (see HeatmapQuery).
	Heatmap(camera string, q HeatmapQuery) ([]byte, error)
}

// HeatmapQuery selects a heatmap: Kind is occupancy, speed, direction or
// dwell; Class "" is every class; Hour is an hour of the week 0..167
// (Monday 00:00 is 0) or -1 for all hours.
type HeatmapQuery struct {
	Kind, Class string
	Hour        int
}

// HeatmapKinds are the heatmaps a baseline draws.
var HeatmapKinds = []string{"occupancy", "speed", "direction", "dwell"}

// verdict tells Feedback about a confirmation or a dismissal.
func (a *api) verdict(ctx context.Context, al store.Alert, by string) {
	if a.deps.Feedback == nil || (al.State != store.StateConfirmed && al.State != store.StateFalseAlarm) {
		return
	}
	if err := a.deps.Feedback.Verdict(ctx, al, by); err != nil {
		a.log.Warn("verdict feedback failed", "alert", al.ID, "err", err)
	}
}

func (a *api) listSuppressions(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r, "camera")
	if err != nil {
		return err
	}
	camera, err := filterParam(q, "camera")
	if err != nil {
		return err
	}
	list, err := a.deps.Store.ListSuppressions(r.Context(), camera, a.opts.Now())
	if err != nil {
		return err
	}
	list = onlyVisible(r.Context(), list, func(s store.Suppression) string { return s.Camera })
	writeJSON(w, http.StatusOK, map[string]any{"suppressions": nonNil(list)})
	return nil
}

func (a *api) deleteSuppression(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return badRequest("suppression id must be a positive integer")
	}
	ctx, cancel := detach(r)
	defer cancel()
	before, err := a.suppression(ctx, id)
	if err != nil {
		return err
	}
	if a.deps.Feedback != nil {
		err = a.deps.Feedback.Lift(ctx, id)
	} else {
		err = a.deps.Store.DeleteSuppression(ctx, id)
	}
	if errors.Is(err, store.ErrNotFound) {
		return notFound("suppression %d not found", id)
	}
	if err != nil {
		return err
	}
	a.log.Info("suppression lifted", "suppression", id)
	a.audit(r, "suppression.delete", "suppression/"+strconv.FormatInt(id, 10), before, nil)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ruleVerdicts is one rule's verdicts over the window: per day and in all.
type ruleVerdicts struct {
	Camera     string               `json:"camera"`
	Rule       string               `json:"rule"`
	Name       string               `json:"name,omitempty"`
	Confirmed  int                  `json:"confirmed"`
	FalseAlarm int                  `json:"false_alarm"`
	Precision  *float64             `json:"precision"` // null before any verdict
	Days       []store.VerdictCount `json:"days"`
}

// verdicts answers per-rule precision over time: confirmed / (confirmed
// + false alarms), per camera and rule name, with the daily series.
func (a *api) verdicts(w http.ResponseWriter, r *http.Request) error {
	q, since, until, err := a.window(r, "camera", "since", "until")
	if err != nil {
		return err
	}
	f := store.VerdictFilter{Since: since, Until: until}
	if f.Camera, err = filterParam(q, "camera"); err != nil {
		return err
	}
	rows, err := a.deps.Store.Verdicts(r.Context(), f)
	if err != nil {
		return err
	}
	rows = onlyVisible(r.Context(), rows, func(v store.VerdictCount) string { return v.Camera })
	writeJSON(w, http.StatusOK, map[string]any{"since": since, "until": until, "rules": groupVerdicts(rows)})
	return nil
}

func groupVerdicts(rows []store.VerdictCount) []ruleVerdicts {
	type key struct{ camera, rule, name string }
	idx := map[key]int{}
	out := []ruleVerdicts{}
	for _, v := range rows {
		k := key{v.Camera, v.Rule, v.Name}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, ruleVerdicts{Camera: v.Camera, Rule: v.Rule, Name: v.Name})
		}
		rv := &out[i]
		rv.Confirmed += v.Confirmed
		rv.FalseAlarm += v.FalseAlarm
		rv.Days = append(rv.Days, v)
	}
	for i := range out {
		rv := &out[i]
		if n := rv.Confirmed + rv.FalseAlarm; n > 0 {
			p := float64(rv.Confirmed) / float64(n)
			rv.Precision = &p
		}
		slices.SortFunc(rv.Days, func(a, b store.VerdictCount) int { return a.Day.Compare(b.Day) })
	}
	slices.SortFunc(out, func(a, b ruleVerdicts) int {
		return cmp.Or(cmp.Compare(a.Camera, b.Camera), cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// suppression finds a suppression in force that the principal may see.
func (a *api) suppression(ctx context.Context, id int64) (store.Suppression, error) {
	list, err := a.deps.Store.ListSuppressions(ctx, "", a.opts.Now())
	if err != nil {
		return store.Suppression{}, err
	}
	for _, s := range list {
		if s.ID == id && canSee(ctx, s.Camera) {
			return s, nil
		}
	}
	return store.Suppression{}, notFound("suppression %d not found", id)
}

func (a *api) baselineState(w http.ResponseWriter, r *http.Request) error {
	if a.deps.Baselines == nil {
		return unavailable("baselines are not available")
	}
	id := r.PathValue("id")
	if !canSee(r.Context(), id) {
		return notFound("camera %q has no baseline", id)
	}
	st, err := a.deps.Baselines.BaselineState(id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("camera %q has no baseline", id)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (a *api) baselineHeatmap(w http.ResponseWriter, r *http.Request) error {
	if a.deps.Baselines == nil {
		return unavailable("baselines are not available")
	}
	hq, err := heatmapQuery(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if !canSee(r.Context(), id) {
		return notFound("camera %q has no baseline", id)
	}
	png, err := a.deps.Baselines.Heatmap(id, hq)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("camera %q has no baseline", id)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(png)
	return nil
}

func heatmapQuery(r *http.Request) (HeatmapQuery, error) {
	q, err := parseQuery(r, "kind", "class", "hour")
	if err != nil {
		return HeatmapQuery{}, err
	}
	hq := HeatmapQuery{Kind: q.Get("kind"), Hour: -1}
	if hq.Kind == "" {
		hq.Kind = "occupancy"
	}
	if !slices.Contains(HeatmapKinds, hq.Kind) {
		return hq, badRequest("parameter \"kind\" must be one of %v", HeatmapKinds)
	}
	if hq.Class, err = filterParam(q, "class"); err != nil {
		return hq, err
	}
	if h := q.Get("hour"); h != "" {
		n, err := strconv.Atoi(h)
		if err != nil || n < 0 || n > 167 {
			return hq, badRequest("parameter \"hour\" must be an hour of the week, 0 to 167")
		}
		hq.Hour = n
	}
	return hq, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
