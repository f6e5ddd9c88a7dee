package cli

import (
	"github.com/vigil-cctv/vigil/internal/moteval"
	"github.com/vigil-cctv/vigil/internal/motfile"
)

type evalMOTCmd struct {
	GT   string  `name:"gt" required:"" help:"Ground-truth MOT file (gt.txt)." type:"existingfile"`
	Pred string  `name:"pred" required:"" help:"Tracker output MOT file." type:"existingfile"`
	IoU  float64 `name:"iou" help:"Match threshold." default:"0.5"`
	JSON bool    `name:"json" help:"Print the result as JSON."`
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
	res, err := moteval.Evaluate(gt, pred, moteval.Options{IoU: c.IoU})
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(e.stdout, res)
	}
	return res.WriteTable(e.stdout)
}
