package cli

import (
	"github.com/vigil-cctv/vigil/internal/motion"
)

type evalPed2Cmd struct {
	Data string `help:"UCSD Ped2 folder (frames and frame_gt.csv)." default:"../shared/data/ucsd-ped2" type:"existingdir"`
	JSON bool   `name:"json" help:"Print the report as JSON."`
}

func (c *evalPed2Cmd) Run(e *env) error {
	rep, err := motion.EvalPed2(e.ctx, c.Data, motion.Options{})
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(e.stdout, rep)
	}
	rep.WriteTable(e.stdout)
	return nil
}
