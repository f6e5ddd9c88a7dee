package cli

import (
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/eventeval"
)

type evalEventsCmd struct {
	GT         string  `name:"gt" required:"" help:"Reference events (JSON lines)." type:"existingfile"`
	Pred       string  `name:"pred" required:"" help:"Predicted events (JSON lines)." type:"existingfile"`
	Slack      float64 `help:"Seconds of tolerance added to both ends of each event before testing overlap." default:"1"`
	MinOverlap float64 `name:"min-overlap" help:"Minimum temporal IoU (after slack) for a match."`
	Tracks     bool    `name:"require-track-overlap" help:"Also require a shared track id (only when both files share an id space)."`
	JSON       bool    `name:"json" help:"Print the report as JSON."`
}

func (c *evalEventsCmd) Run(e *env) error {
	gt, err := event.ReadFile(c.GT)
	if err != nil {
		return err
	}
	pred, err := event.ReadFile(c.Pred)
	if err != nil {
		return err
	}
	opt := eventeval.DefaultOptions()
	opt.Slack, opt.MinOverlap, opt.RequireTrackOverlap = c.Slack, c.MinOverlap, c.Tracks
	rep := eventeval.Evaluate(gt, pred, opt)
	if c.JSON {
		return printJSON(e.stdout, rep)
	}
	return rep.WriteTable(e.stdout)
}
