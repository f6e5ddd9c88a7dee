package incident

import (
	"cmp"
	"context"
	"slices"
)

// maxStatsIncidents bounds the incidents one statistics request reads.
const maxStatsIncidents = 100_000

// ResponseStat is one camera's, rule's and unit type's response times.
type ResponseStat struct {
	Camera   string               `json:"camera"`
	Rule     string               `json:"rule"`
	UnitType string               `json:"unit_type"`
	Stages   map[string]Quantiles `json:"stages"` // acknowledge, dispatch, on_scene, resolve
}

// Quantiles of one stage, in seconds.
type Quantiles struct {
	N      int     `json:"n"`
	Median float64 `json:"median_s"`
	P90    float64 `json:"p90_s"`
}

// ResponseTimes groups incidents by camera, rule and unit type (dispatched,
// else suggested)
// and gives the median and p90 of each response stage they reached.
func ResponseTimes(incs []Incident) []ResponseStat {
	type key struct{ camera, rule, unit string }
	samples := map[key]map[string][]float64{}
	for _, in := range incs {
		k := key{in.Camera, in.Rule, unitOf(in)}
		for _, st := range stages(in) {
			if samples[k] == nil {
				samples[k] = map[string][]float64{}
			}
			samples[k][st.name] = append(samples[k][st.name], st.d.Seconds())
		}
	}
	out := make([]ResponseStat, 0, len(samples))
	for k, byStage := range samples {
		rs := ResponseStat{Camera: k.camera, Rule: k.rule, UnitType: k.unit, Stages: map[string]Quantiles{}}
		for name, v := range byStage {
			slices.Sort(v)
			rs.Stages[name] = Quantiles{N: len(v), Median: quantile(v, 0.5), P90: quantile(v, 0.9)}
		}
		out = append(out, rs)
	}
	slices.SortFunc(out, func(a, b ResponseStat) int {
		return cmp.Or(cmp.Compare(a.Camera, b.Camera), cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.UnitType, b.UnitType))
	})
	return out
}

// quantile interpolates linearly between the order statistics of sorted v.
func quantile(v []float64, q float64) float64 {
	pos := q * float64(len(v)-1)
	i := int(pos)
	if i+1 >= len(v) {
		return v[len(v)-1]
	}
	return v[i] + (pos-float64(i))*(v[i+1]-v[i])
}

// ResponseTimes reads the incidents f selects (Limit and After ignored)
// and summarises their response times.
func (e *Engine) ResponseTimes(ctx context.Context, f Filter) ([]ResponseStat, error) {
	var all []Incident
	f.After, f.Limit = 0, 500
	for len(all) < maxStatsIncidents {
		page, err := e.store.ListIncidents(ctx, f)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < f.Limit {
			break
		}
		f.After = page[len(page)-1].ID
	}
	return ResponseTimes(all), nil
}
