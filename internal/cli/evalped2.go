package cli

import (
	"github.com/vigil-cctv/vigil/internal/motion"
)

type evalPed2Cmd struct {
	Data  string `help:"UCSD Ped2 folder (frames and frame_gt.csv)." default:"../shared/data/ucsd-ped2" type:"existingdir"`
	JSON  bool   `name:"json" help:"Print the report as JSON."`
	Split bool   `name:"split" help:"Also report the held-out check: learn Train001-008 only, then rank the anomalous test frames against the unseen normal frames of Train009-016."`
}

func (c *evalPed2Cmd) Run(e *env) error {
	rep, err := motion.EvalPed2(e.ctx, c.Data, motion.Options{Split: c.Split})
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(e.stdout, rep)
	}
	rep.WriteTable(e.stdout)
	return nil
}
