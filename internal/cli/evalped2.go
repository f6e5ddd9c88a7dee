package cli

import (
	"github.com/vigil-cctv/vigil/internal/anomaly"
)

type evalPed2Cmd struct {
	Data string `help:"UCSD Ped2 folder (frames and frame_gt.csv)." default:"../shared/data/ucsd-ped2" type:"existingdir"`
	JSON bool   `name:"json" help:"Print the report as JSON."`
}

func (c *evalPed2Cmd) Run(e *env) error {
	rep, err := anomaly.EvalPed2(e.ctx, c.Data, anomaly.Options{})
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(e.stdout, rep)
	}
	rep.WriteTable(e.stdout)
	return nil
}
