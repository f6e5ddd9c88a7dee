package eventeval

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/event"
)

// ev builds an event on camera "c1" in zone "z1" unless changed by mods.
func ev(rule string, start, end float64, mods ...func(*event.Event)) event.Event {
	e := event.Event{Rule: rule, Camera: "c1", Zone: "z1", Start: start, End: end}
	for _, m := range mods {
		m(&e)
	}
	return e
}

func zone(z string) func(*event.Event)   { return func(e *event.Event) { e.Zone = z } }
func cam(c string) func(*event.Event)    { return func(e *event.Event) { e.Camera = c } }
func dir(d string) func(*event.Event)    { return func(e *event.Event) { e.Direction = d } }
func tracks(t ...int) func(*event.Event) { return func(e *event.Event) { e.Tracks = t } }
func line(l string) func(*event.Event) {
	return func(e *event.Event) { e.Zone, e.Line = "", l }
}

func noSlack() Options { o := DefaultOptions(); o.Slack = 0; return o }

func TestEvaluateTable(t *testing.T) {
	tests := []struct {
		name       string
		gt, pred   []event.Event
		opt        Options
		tp, fp, fn int
		matches    []Match // checked when non-nil (TIoU ignored)
	}{
		{name: "exact overlap", opt: noSlack(),
			gt: []event.Event{ev("intrusion", 10, 20)}, pred: []event.Event{ev("intrusion", 10, 20)},
			tp: 1},
		{name: "near miss without slack", opt: noSlack(),
			gt: []event.Event{ev("intrusion", 10, 12)}, pred: []event.Event{ev("intrusion", 12.5, 13)},
			fp: 1, fn: 1},
		{name: "slack rescues near miss", opt: DefaultOptions(),
			gt: []event.Event{ev("intrusion", 10, 12)}, pred: []event.Event{ev("intrusion", 12.5, 13)},
			tp: 1},
		{name: "touching intervals overlap", opt: noSlack(),
			gt: []event.Event{ev("intrusion", 10, 12)}, pred: []event.Event{ev("intrusion", 12, 13)},
			tp: 1},
		{name: "different place never matches", opt: DefaultOptions(),
			gt: []event.Event{ev("intrusion", 10, 20, zone("a"))}, pred: []event.Event{ev("intrusion", 10, 20, zone("b"))},
			fp: 1, fn: 1},
		{name: "zone and line of the same name are the same place", opt: DefaultOptions(),
			gt: []event.Event{ev("intrusion", 10, 20, zone("a"))}, pred: []event.Event{ev("intrusion", 10, 20, line("a"))},
			tp: 1},
		{name: "line crossing direction must match", opt: DefaultOptions(),
			gt:   []event.Event{ev("line_crossing", 5, 5, line("gate"), dir("in"))},
			pred: []event.Event{ev("line_crossing", 5, 5, line("gate"), dir("out"))},
			fp:   1, fn: 1},
		{name: "line crossing direction unset on one side", opt: DefaultOptions(),
			gt:   []event.Event{ev("line_crossing", 5, 5, line("gate"), dir("in"))},
			pred: []event.Event{ev("line_crossing", 5.5, 5.5, line("gate"))},
			tp:   1},
		{name: "direction ignored for other rules", opt: DefaultOptions(),
			gt: []event.Event{ev("wrong_way", 5, 9, dir("in"))}, pred: []event.Event{ev("wrong_way", 5, 9, dir("out"))},
			tp: 1},
		{name: "one long gt, two short preds: no double match", opt: DefaultOptions(),
			gt:   []event.Event{ev("loitering", 0, 100)},
			pred: []event.Event{ev("loitering", 10, 12), ev("loitering", 50, 60)},
			tp:   1, fp: 1, matches: []Match{{GT: 0, Pred: 1}}},
		{name: "two gt, one pred", opt: DefaultOptions(),
			gt:   []event.Event{ev("intrusion", 0, 10), ev("intrusion", 9, 12)},
			pred: []event.Event{ev("intrusion", 8, 12)},
			tp:   1, fn: 1, matches: []Match{{GT: 1, Pred: 0}}},
		{name: "cross-rule never matches", opt: DefaultOptions(),
			gt: []event.Event{ev("intrusion", 0, 10)}, pred: []event.Event{ev("loitering", 0, 10)},
			fp: 1, fn: 1},
		{name: "camera mismatch", opt: DefaultOptions(),
			gt: []event.Event{ev("intrusion", 0, 10, cam("c1"))}, pred: []event.Event{ev("intrusion", 0, 10, cam("c2"))},
			fp: 1, fn: 1},
		{name: "camera ignored when ByCamera is off", opt: Options{Slack: 1},
			gt: []event.Event{ev("intrusion", 0, 10, cam("c1"))}, pred: []event.Event{ev("intrusion", 0, 10, cam("c2"))},
			tp: 1},
		{name: "camera unset on one side", opt: DefaultOptions(),
			gt: []event.Event{ev("intrusion", 0, 10, cam(""))}, pred: []event.Event{ev("intrusion", 0, 10, cam("c2"))},
			tp: 1},
		{name: "min overlap rejects small IoU", opt: Options{MinOverlap: 0.5, ByCamera: true},
			gt: []event.Event{ev("intrusion", 0, 10)}, pred: []event.Event{ev("intrusion", 8, 20)},
			fp: 1, fn: 1},
		{name: "min overlap accepts large IoU", opt: Options{MinOverlap: 0.5, ByCamera: true},
			gt: []event.Event{ev("intrusion", 0, 10)}, pred: []event.Event{ev("intrusion", 2, 10)},
			tp: 1},
		{name: "track ids ignored by default", opt: DefaultOptions(),
			gt: []event.Event{ev("intrusion", 0, 10, tracks(1))}, pred: []event.Event{ev("intrusion", 0, 10, tracks(7))},
			tp: 1},
		{name: "track overlap required", opt: Options{Slack: 1, ByCamera: true, RequireTrackOverlap: true},
			gt:   []event.Event{ev("intrusion", 0, 10, tracks(1, 2))},
			pred: []event.Event{ev("intrusion", 0, 10, tracks(7)), ev("intrusion", 0, 10, tracks(3, 2))},
			tp:   1, fp: 1, matches: []Match{{GT: 0, Pred: 1}}},
		{name: "track overlap required but one side has none", opt: Options{Slack: 1, ByCamera: true, RequireTrackOverlap: true},
			gt: []event.Event{ev("intrusion", 0, 10, tracks(1))}, pred: []event.Event{ev("intrusion", 0, 10)},
			tp: 1},
		{name: "tie broken by larger overlap", opt: noSlack(),
			gt:   []event.Event{ev("intrusion", 0, 10)},
			pred: []event.Event{ev("intrusion", 5, 15), ev("intrusion", 0, 10)},
			tp:   1, fp: 1, matches: []Match{{GT: 0, Pred: 1}}},
		{name: "optimal beats greedy", opt: noSlack(),
			// Greedy by best IoU takes gt0–pred0 (IoU 1) and strands gt1,
			// whose only partner is pred0; optimal pairs gt0–pred1 instead.
			gt:   []event.Event{ev("intrusion", 0, 10), ev("intrusion", -5, 1)},
			pred: []event.Event{ev("intrusion", 0, 10), ev("intrusion", 8, 20)},
			tp:   2, matches: []Match{{GT: 0, Pred: 1}, {GT: 1, Pred: 0}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Evaluate(tc.gt, tc.pred, tc.opt)
			o := r.Overall
			require.Equal(t, []int{tc.tp, tc.fp, tc.fn}, []int{o.TP, o.FP, o.FN})
			require.Equal(t, len(tc.gt), o.GT)
			require.Equal(t, len(tc.pred), o.Pred)
			if tc.matches != nil {
				for i := range r.Matches {
					r.Matches[i].TIoU = 0
				}
				require.Equal(t, tc.matches, r.Matches)
			}
		})
	}
}

func TestEvaluateReportsErrorsAndRatios(t *testing.T) {
	gt := []event.Event{ev("intrusion", 0, 10), ev("intrusion", 50, 60), ev("loitering", 0, 100)}
	pred := []event.Event{ev("intrusion", 1, 9), ev("crowd", 3, 4), ev("loitering", 20, 30)}
	r := Evaluate(gt, pred, DefaultOptions())
	require.Equal(t, []int{1}, r.MissedGT)
	require.Equal(t, []int{1}, r.FalsePred)
	require.Len(t, r.Matches, 2)
	require.InDelta(t, 10.0/12, r.Matches[0].TIoU, 1e-12) // [-1,11] vs [0,10]

	require.Equal(t, []string{"crowd", "intrusion", "loitering"}, rules(r.PerRule))
	crowd, intr := r.PerRule[0], r.PerRule[1]
	require.Equal(t, Counts{Rule: "crowd", Pred: 1, FP: 1, Precision: 0, Recall: 1, F1: 0}, crowd)
	require.Equal(t, Counts{Rule: "intrusion", GT: 2, Pred: 1, TP: 1, FN: 1, Precision: 1, Recall: 0.5, F1: 2.0 / 3}, intr)
	require.Equal(t, Counts{GT: 3, Pred: 3, TP: 2, FP: 1, FN: 1, Precision: 2.0 / 3, Recall: 2.0 / 3, F1: 2.0 / 3}, r.Overall)
}

func rules(cs []Counts) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Rule)
	}
	return out
}

func TestRatioConventions(t *testing.T) {
	tests := []struct {
		gt, pred, tp int
		p, r, f1     float64
	}{
		{0, 0, 0, 1, 1, 1},
		{3, 0, 0, 0, 0, 0},
		{0, 2, 0, 0, 1, 0},
		{4, 2, 2, 1, 0.5, 2.0 / 3},
	}
	for _, tc := range tests {
		c := Counts{GT: tc.gt, Pred: tc.pred, TP: tc.tp}.finish()
		require.Equal(t, []float64{tc.p, tc.r, tc.f1}, []float64{c.Precision, c.Recall, c.F1}, "%+v", tc)
	}
}

func TestEvaluateEmpty(t *testing.T) {
	r := Evaluate(nil, nil, DefaultOptions())
	require.Empty(t, r.PerRule)
	require.Equal(t, Counts{Precision: 1, Recall: 1, F1: 1}, r.Overall)
	b, err := json.Marshal(r)
	require.NoError(t, err)
	// Empty lists stay [] rather than null so JSON consumers need no check.
	require.JSONEq(t, `{"per_rule":[],"overall":{"gt":0,"pred":0,"tp":0,"fp":0,"fn":0,"precision":1,"recall":1,"f1":1},
		"matches":[],"missed_gt":[],"false_pred":[]}`, string(b))
}

func TestWriteTable(t *testing.T) {
	gt := []event.Event{ev("loitering", 0, 10), ev("intrusion", 0, 10)}
	pred := []event.Event{ev("intrusion", 0, 10)}
	var buf bytes.Buffer
	require.NoError(t, Evaluate(gt, pred, DefaultOptions()).WriteTable(&buf))
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	require.Len(t, lines, 4)
	require.Equal(t, []string{"rule", "gt", "pred", "tp", "fp", "fn", "P", "R", "F1"}, strings.Fields(lines[0]))
	require.Equal(t, []string{"intrusion", "1", "1", "1", "0", "0", "1.000", "1.000", "1.000"}, strings.Fields(lines[1]))
	require.Equal(t, []string{"loitering", "1", "0", "0", "0", "1", "0.000", "0.000", "0.000"}, strings.Fields(lines[2]))
	require.Equal(t, []string{"overall", "2", "1", "1", "0", "1", "1.000", "0.500", "0.667"}, strings.Fields(lines[3]))
}
