// Package eventeval scores predicted alerts against ground-truth alerts at
// the event level: precision, recall and F1 per rule and overall.
//
// A predicted and a ground-truth event can match when they concern the same
// rule, place (zone, line or lane), camera and — for line crossings — the
// same direction, and their time intervals overlap (after a tolerance).
// Among such compatible pairs the matching is one-to-one and optimal: it
// maximises the number of matches, then the total temporal overlap, so no
// event is ever counted twice and the score does not depend on input order.
package eventeval

import (
	"math"
	"sort"

	"github.com/vigil-cctv/vigil/internal/event"
)

// lineCrossing is the rule type whose events carry a meaningful direction.
// It mirrors scene.LineCrossing; importing scene only for this string would
// tie the evaluator to the scene parser and its YAML dependencies.
const lineCrossing = "line_crossing"

// Options tunes when two events are compatible.
type Options struct {
	// Slack is the tolerance in seconds added to both ends of every interval
	// before testing overlap: annotators and detectors disagree on when an
	// alert starts by a few frames, and instantaneous events (Start == End)
	// need some width to be compared at all. Negative values count as 0.
	Slack float64 `json:"slack"`
	// MinOverlap is the minimum temporal IoU, after slack, for a pair to be
	// compatible. 0 means any overlap, touching intervals included.
	MinOverlap float64 `json:"min_overlap"`
	// RequireTrackOverlap demands a shared track id when both events list
	// tracks. Off by default: ground-truth ids come from annotation and
	// predicted ids from the tracker, so they only agree when both sides
	// share one id space (e.g. events replayed from ground-truth tracks).
	RequireTrackOverlap bool `json:"require_track_overlap"`
	// ByCamera demands the same camera when both events name one.
	ByCamera bool `json:"by_camera"`
}

// DefaultOptions are the settings `vigil eval events` uses: one second of
// slack, any overlap, tracks ignored, cameras compared. The zero Options
// value differs (no slack, cameras ignored), so callers should start here.
func DefaultOptions() Options {
	return Options{Slack: 1.0, MinOverlap: 0, ByCamera: true}
}

// Match pairs ground-truth event GT with predicted event Pred (indices into
// the slices given to Evaluate). TIoU is their temporal IoU after slack.
type Match struct {
	GT   int     `json:"gt"`
	Pred int     `json:"pred"`
	TIoU float64 `json:"tiou"`
}

// Report is the outcome of Evaluate.
type Report struct {
	// PerRule has one entry per rule seen in either input, sorted by rule.
	PerRule []Counts `json:"per_rule"`
	// Overall is micro-averaged: counts summed over rules, then P/R/F1.
	Overall Counts `json:"overall"`
	// Matches is sorted by GT index; MissedGT (false negatives) and
	// FalsePred (false positives) are sorted ascending.
	Matches   []Match `json:"matches"`
	MissedGT  []int   `json:"missed_gt"`
	FalsePred []int   `json:"false_pred"`
}

// Evaluate matches pred against gt and counts hits and errors per rule.
func Evaluate(gt, pred []event.Event, opt Options) Report {
	opt.Slack = math.Max(opt.Slack, 0)
	gtByRule, predByRule := groupByRule(gt), groupByRule(pred)
	rep := Report{Matches: []Match{}}
	for _, rule := range ruleNames(gtByRule, predByRule) {
		rep.Matches = append(rep.Matches, matchRule(gt, pred, gtByRule[rule], predByRule[rule], opt)...)
	}
	sort.Slice(rep.Matches, func(a, b int) bool { return rep.Matches[a].GT < rep.Matches[b].GT })
	rep.MissedGT, rep.FalsePred = unmatched(len(gt), len(pred), rep.Matches)
	rep.PerRule, rep.Overall = count(gt, pred, rep.Matches)
	return rep
}

// groupByRule lists the indices of the events of each rule.
func groupByRule(evs []event.Event) map[string][]int {
	out := map[string][]int{}
	for i, e := range evs {
		out[e.Rule] = append(out[e.Rule], i)
	}
	return out
}

// ruleNames is the sorted union of the rules in both groupings.
func ruleNames(a, b map[string][]int) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string][]int{a, b} {
		for r := range m {
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	sort.Strings(out)
	return out
}

// unmatched lists the gt and pred indices that no match uses.
func unmatched(nGT, nPred int, ms []Match) (missed, falsePred []int) {
	usedGT, usedPred := make([]bool, nGT), make([]bool, nPred)
	for _, m := range ms {
		usedGT[m.GT], usedPred[m.Pred] = true, true
	}
	return unused(usedGT), unused(usedPred)
}

func unused(used []bool) []int {
	out := []int{}
	for i, u := range used {
		if !u {
			out = append(out, i)
		}
	}
	return out
}
