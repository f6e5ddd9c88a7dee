package cli

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/vigil-cctv/vigil/internal/moteval"
	"github.com/vigil-cctv/vigil/internal/motfile"
)

type evalMOTCmd struct {
	GT        string  `name:"gt" required:"" help:"Ground-truth MOT file (gt.txt)." type:"existingfile"`
	Pred      string  `name:"pred" required:"" help:"Tracker output MOT file." type:"existingfile"`
	IoU       float64 `name:"iou" help:"Match threshold." default:"0.5"`
	Benchmark string  `help:"Ground-truth convention: auto (9-column gt with classes is MOT17, anything else MOT15), mot15, mot17 (also MOT16) or mot20. MOT17/MOT20 drop hypotheses on distractor classes and score only flagged pedestrians, as TrackEval does." default:"auto" enum:"auto,mot15,mot16,mot17,mot20"`
	JSON      bool    `name:"json" help:"Print the result as JSON."`
}

func (c *evalMOTCmd) Run(e *env) error {
	gt, err := motfile.ReadFile(c.GT)
	if err != nil {
		return err
	}
	pred, err := motfile.ReadFile(c.Pred)
	if err != nil {
		return err
	}
	bench, err := c.benchmark()
	if err != nil {
		return err
	}
	res, err := moteval.Evaluate(gt, pred, moteval.Options{IoU: c.IoU, Benchmark: bench})
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(e.stdout, res)
	}
	return res.WriteTable(e.stdout)
}

// benchmark resolves --benchmark. MOT16/17/20 gt has exactly 9 columns
// (class and visibility after the flag); MOT15 gt has 6 or 10 (world
// coordinates), so auto looks at the first line's column count.
func (c *evalMOTCmd) benchmark() (moteval.Benchmark, error) {
	if c.Benchmark != "auto" {
		return moteval.ParseBenchmark(c.Benchmark)
	}
	f, err := os.Open(c.GT)
	if err != nil {
		return moteval.MOT15, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			if len(strings.Split(line, ",")) == 9 {
				return moteval.MOT17, nil
			}
			return moteval.MOT15, nil
		}
	}
	if err := sc.Err(); err != nil {
		return moteval.MOT15, fmt.Errorf("%s: %v", c.GT, err)
	}
	return moteval.MOT15, nil
}
