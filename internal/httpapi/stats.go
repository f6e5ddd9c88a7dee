package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/vigil-cctv/vigil/internal/store"
)

// Bounds on the aggregate routes, so that one request cannot make the
// store scan a city's whole history.
const (
	defaultWindow = 24 * time.Hour
	maxWindow     = 31 * 24 * time.Hour
	// maxStatsAlerts caps the alerts /stats reads; beyond it the answer
	// says truncated rather than taking unbounded time.
	maxStatsAlerts = 20 * maxLimit
)

// window reads since and until, defaulting to the last 24 hours and
// refusing ranges longer than maxWindow.
func (a *api) window(r *http.Request, allowed ...string) (q url.Values, since, until time.Time, err error) {
	vals, err := parseQuery(r, allowed...)
	if err != nil {
		return nil, since, until, err
	}
	if since, until, err = timeRange(vals); err != nil {
		return nil, since, until, err
	}
	if until.IsZero() {
		until = a.opts.Now().UTC()
	}
	if since.IsZero() {
		since = until.Add(-defaultWindow)
	}
	if !since.Before(until) {
		return nil, since, until, badRequest("parameter \"since\" must be before \"until\"")
	}
	if until.Sub(since) > maxWindow {
		return nil, since, until, badRequest("the time range may span at most %d days", int(maxWindow/(24*time.Hour)))
	}
	return vals, since, until, nil
}

func (a *api) listCounts(w http.ResponseWriter, r *http.Request) error {
	q, since, until, err := a.window(r, "camera", "name", "since", "until")
	if err != nil {
		return err
	}
	f := store.CountFilter{Since: since, Until: until}
	if f.Camera, err = filterParam(q, "camera"); err != nil {
		return err
	}
	if f.Name, err = filterParam(q, "name"); err != nil {
		return err
	}
	cs, err := a.deps.Store.ListCounts(r.Context(), f)
	if err != nil {
		return err
	}
	cs = onlyVisible(r.Context(), cs, func(c store.Count) string { return c.Camera })
	if cs == nil {
		cs = []store.Count{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"since": since, "until": until, "counts": cs})
	return nil
}

// statsView is the alert summary over a time window.
type statsView struct {
	Since     time.Time                           `json:"since"`
	Until     time.Time                           `json:"until"`
	Total     int                                 `json:"total"`
	ByState   map[store.AlertState]int            `json:"by_state"`
	ByRule    map[string]map[store.AlertState]int `json:"by_rule"`
	ByCamera  map[string]int                      `json:"by_camera"`
	Truncated bool                                `json:"truncated"`
}

// stats counts alerts per rule and state by paging through ListAlerts:
// the store interface has no aggregate query, and the scan is bounded by
// the time window and maxStatsAlerts.
func (a *api) stats(w http.ResponseWriter, r *http.Request) error {
	q, since, until, err := a.window(r, "camera", "since", "until")
	if err != nil {
		return err
	}
	f := store.AlertFilter{Since: since, Until: until, Limit: maxLimit, Cameras: visibleCameras(r.Context())}
	if f.Camera, err = filterParam(q, "camera"); err != nil {
		return err
	}
	s := statsView{Since: since, Until: until, ByState: map[store.AlertState]int{},
		ByRule: map[string]map[store.AlertState]int{}, ByCamera: map[string]int{}}
	if s.Truncated, err = pageAlerts(r.Context(), a.deps.Store, f, maxStatsAlerts, s.add); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

// pageAlerts hands each page of the alerts f selects (newest first, f.Limit
// a page) to each until the end or until max have been read, and says
// whether it stopped before the end.
func pageAlerts(ctx context.Context, st store.Store, f store.AlertFilter, max int, each func([]store.Alert)) (truncated bool, err error) {
	for read := 0; ; {
		page, err := st.ListAlerts(ctx, f)
		if err != nil {
			return false, err
		}
		each(page)
		read += len(page)
		if len(page) < f.Limit {
			return false, nil
		}
		if read >= max {
			return true, nil
		}
		f.After = page[len(page)-1].ID
	}
}

func (s *statsView) add(page []store.Alert) {
	for _, al := range page {
		s.Total++
		s.ByState[al.State]++
		s.ByCamera[al.Event.Camera]++
		if s.ByRule[al.Event.Rule] == nil {
			s.ByRule[al.Event.Rule] = map[store.AlertState]int{}
		}
		s.ByRule[al.Event.Rule][al.State]++
	}
}
