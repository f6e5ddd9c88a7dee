package eventeval

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/vigil-cctv/vigil/internal/event"
)

// Counts are the event-level scores of one rule, or of all rules.
//
// Conventions for empty sides: Precision = TP/Pred, but 1 when Pred = 0 and
// GT = 0 (nothing to find, nothing claimed) and 0 when Pred = 0 and GT > 0,
// so a silent detector is not rewarded with perfect precision. Recall =
// TP/GT, 1 when GT = 0. F1 is their harmonic mean, 0 when both are 0; so F1
// is 1 when both sides are empty and 0 when exactly one is.
type Counts struct {
	Rule      string  `json:"rule,omitempty"` // empty in Report.Overall
	GT        int     `json:"gt"`
	Pred      int     `json:"pred"`
	TP        int     `json:"tp"`
	FP        int     `json:"fp"`
	FN        int     `json:"fn"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
}

// count tallies events and matches per rule, then derives the ratios.
func count(gt, pred []event.Event, ms []Match) ([]Counts, Counts) {
	by := map[string]*Counts{}
	get := func(rule string) *Counts {
		if by[rule] == nil {
			by[rule] = &Counts{Rule: rule}
		}
		return by[rule]
	}
	for _, e := range gt {
		get(e.Rule).GT++
	}
	for _, e := range pred {
		get(e.Rule).Pred++
	}
	for _, m := range ms {
		get(gt[m.GT].Rule).TP++
	}
	per := make([]Counts, 0, len(by))
	var all Counts
	for _, c := range by {
		per = append(per, c.finish())
		all.GT, all.Pred, all.TP = all.GT+c.GT, all.Pred+c.Pred, all.TP+c.TP
	}
	sort.Slice(per, func(a, b int) bool { return per[a].Rule < per[b].Rule })
	return per, all.finish()
}

// finish fills FP, FN and the ratios from GT, Pred and TP.
func (c Counts) finish() Counts {
	c.FP, c.FN = c.Pred-c.TP, c.GT-c.TP
	switch {
	case c.Pred > 0:
		c.Precision = float64(c.TP) / float64(c.Pred)
	case c.GT == 0:
		c.Precision = 1
	}
	c.Recall = 1
	if c.GT > 0 {
		c.Recall = float64(c.TP) / float64(c.GT)
	}
	if c.Precision+c.Recall > 0 {
		c.F1 = 2 * c.Precision * c.Recall / (c.Precision + c.Recall)
	}
	return c
}

// WriteTable prints one row per rule, sorted by rule, then the overall row.
func (r Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rule\tgt\tpred\ttp\tfp\tfn\tP\tR\tF1\t")
	for _, c := range r.PerRule {
		writeRow(tw, c.Rule, c)
	}
	writeRow(tw, "overall", r.Overall)
	return tw.Flush()
}

func writeRow(w io.Writer, name string, c Counts) {
	fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%.3f\t%.3f\t%.3f\t\n",
		name, c.GT, c.Pred, c.TP, c.FP, c.FN, c.Precision, c.Recall, c.F1)
}
