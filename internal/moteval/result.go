package moteval

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Result is the score of one sequence. Rates are fractions in 0..1 (MOTA
// and MOTAL can go below 0); MOTChallenge tables print them ×100.
type Result struct {
	// CLEAR-MOT.
	MOTA float64 `json:"mota"`
	// MOTP is the mean IoU of matched pairs, MOTChallenge's convention;
	// py-motmetrics' "motp" is 1 − MOTP.
	MOTP float64 `json:"motp"`
	// MOTAL counts ID switches as log10(IDSW+1), as the devkit prints it.
	MOTAL     float64 `json:"motal"`
	Recall    float64 `json:"recall"`
	Precision float64 `json:"precision"`
	// FAR is false positives per frame.
	FAR float64 `json:"far"`

	// Identity measures.
	IDF1 float64 `json:"idf1"`
	IDP  float64 `json:"idp"`
	IDR  float64 `json:"idr"`

	// HOTA family, each averaged over the IoU thresholds 0.05 … 0.95.
	HOTA float64 `json:"hota"`
	DetA float64 `json:"deta"`
	AssA float64 `json:"assa"`
	LocA float64 `json:"loca"`

	// Counts. TP+FN = NumGT and TP+FP = NumPred.
	TP   int `json:"tp"`
	FP   int `json:"fp"`
	FN   int `json:"fn"`
	IDSW int `json:"idsw"`
	Frag int `json:"frag"`
	// MT, PT, ML classify gt trajectories (they sum to GTIDs).
	MT   int `json:"mt"`
	PT   int `json:"pt"`
	ML   int `json:"ml"`
	IDTP int `json:"idtp"`
	IDFP int `json:"idfp"`
	IDFN int `json:"idfn"`

	// Size of the evaluated data, after preprocessing.
	NumGT   int `json:"num_gt"`   // gt boxes
	NumPred int `json:"num_pred"` // predicted boxes
	GTIDs   int `json:"gt_ids"`   // gt trajectories (the devkit's "GT" column)
	PredIDs int `json:"pred_ids"` // predicted trajectories
	Frames  int `json:"frames"`   // frames 1 … last gt frame
}

// String is the WriteTable form.
func (r Result) String() string {
	var b strings.Builder
	_ = r.WriteTable(&b) // a strings.Builder never fails
	return b.String()
}

// WriteTable prints the result as two aligned tables: the MOTChallenge
// devkit's columns (percentages to one decimal, as published) and then
// HOTA plus the evaluated data sizes, so numbers can be compared by eye
// with published tables.
func (r Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	pct := func(v float64) string { return fmt.Sprintf("%.1f", 100*v) }
	rows := [][2][]string{
		{
			{"IDF1", "IDP", "IDR", "Rcll", "Prcn", "GT", "MT", "PT", "ML", "FP", "FN", "IDs", "FM", "MOTA", "MOTP", "MOTAL"},
			{pct(r.IDF1), pct(r.IDP), pct(r.IDR), pct(r.Recall), pct(r.Precision),
				fmt.Sprint(r.GTIDs), fmt.Sprint(r.MT), fmt.Sprint(r.PT), fmt.Sprint(r.ML),
				fmt.Sprint(r.FP), fmt.Sprint(r.FN), fmt.Sprint(r.IDSW), fmt.Sprint(r.Frag),
				pct(r.MOTA), pct(r.MOTP), pct(r.MOTAL)},
		},
		{
			{"HOTA", "DetA", "AssA", "LocA", "Frames", "GTBoxes", "PredBoxes", "PredIDs", "TP", "IDTP", "IDFP", "IDFN"},
			{pct(r.HOTA), pct(r.DetA), pct(r.AssA), pct(r.LocA),
				fmt.Sprint(r.Frames), fmt.Sprint(r.NumGT), fmt.Sprint(r.NumPred), fmt.Sprint(r.PredIDs),
				fmt.Sprint(r.TP), fmt.Sprint(r.IDTP), fmt.Sprint(r.IDFP), fmt.Sprint(r.IDFN)},
		},
	}
	for i, table := range rows {
		if i > 0 {
			// An empty line ends a tabwriter block, so each table aligns
			// on its own.
			fmt.Fprintln(tw)
		}
		for _, line := range table {
			fmt.Fprintln(tw, strings.Join(line, "\t")+"\t")
		}
	}
	return tw.Flush()
}
