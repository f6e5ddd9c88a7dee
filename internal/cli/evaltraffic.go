package cli

import (
	"errors"
	"fmt"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/trafficref"
)

// evalTrafficCmd scores wrong-way alerts against vehicles labelled by hand
// (testdata/highway/vehicles.csv): the reference that does not reuse the
// rule's own criterion, for any run over the highway footage (every frame
// detected, the detection plan, another rate).
type evalTrafficCmd struct {
	Labels   string  `required:"" help:"Hand-labelled vehicles (CSV, see testdata/highway/README.md)." type:"existingfile"`
	Scene    string  `required:"" help:"The camera's calibrated scene." type:"existingfile"`
	Events   string  `required:"" help:"Alerts of the run (JSON lines); its wrong-way alerts are scored." type:"existingfile"`
	Frames   int     `help:"Frames in the sequence." default:"1700"`
	FPS      float64 `name:"seq-fps" help:"Frame rate the run assumed for the images." default:"25"`
	Reversed bool    `help:"The frames were played last to first."`
	JSON     bool    `name:"json" help:"Print the report as JSON."`
}

func (c *evalTrafficCmd) Run(e *env) error {
	labels, err := trafficref.Load(c.Labels)
	if err != nil {
		return err
	}
	sc, err := scene.Load(c.Scene)
	if err != nil {
		return err
	}
	if sc.Homography == nil {
		return errors.New("the scene is not calibrated: vehicles are matched along the road in metres")
	}
	evs, err := event.ReadFile(c.Events)
	if err != nil {
		return err
	}
	var wrong []event.Event
	for _, ev := range evs {
		if ev.Rule == string(scene.WrongWay) {
			wrong = append(wrong, ev)
		}
	}
	rep := trafficref.Score(labels, wrong, trafficref.Road{H: *sc.Homography},
		trafficref.Playback{Frames: c.Frames, FPS: c.FPS, Reversed: c.Reversed}, trafficref.DefaultOptions)
	if c.JSON {
		return printJSON(e.stdout, rep)
	}
	_, err = fmt.Fprintf(e.stdout, "wrong-way alerts %d: %s\n", len(wrong), rep)
	return err
}
