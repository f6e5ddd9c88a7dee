package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/scenedraw"
)

type sceneCmd struct {
	Check sceneCheckCmd `cmd:"" help:"Validate a scene file and summarise it (zones, lines, lanes, rules, calibration error)."`
	Draw  sceneDrawCmd  `cmd:"" help:"Draw a scene (zones, lines, lane arrows, metre grid, calibration points) over a frame of its camera."`
}

type sceneDrawCmd struct {
	File  string `arg:"" help:"Scene YAML file." type:"existingfile"`
	Input string `arg:"" help:"Video file, image directory or rtsp:// URL of the scene's camera."`
	Out   string `help:"PNG file to write." required:"" type:"path"`
	Frame int    `help:"Index of the frame to draw on (0-based)." default:"0"`
}

func (c *sceneDrawCmd) Run(e *env) error {
	sc, err := scene.Load(c.File)
	if err != nil {
		return fmt.Errorf("%s is not valid:\n%w", c.File, err)
	}
	if err := scenedraw.RenderFile(e.ctx, sc, c.Input, c.Out, c.Frame); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "scene drawing:", c.Out)
	return nil
}

type sceneCheckCmd struct {
	File string `arg:"" help:"Scene YAML file." type:"existingfile"`
}

// sceneCheckTimeout bounds how long a scene may take to validate; real
// scenes take milliseconds.
const sceneCheckTimeout = 10 * time.Second

func (c *sceneCheckCmd) Run(e *env) error {
	ctx, cancel := context.WithTimeout(e.ctx, sceneCheckTimeout)
	defer cancel()
	sc, err := scene.LoadContext(ctx, c.File)
	if err != nil {
		// scene.Errors prints one "file:line:col: field: message" per line.
		return fmt.Errorf("%s is not valid:\n%w", c.File, err)
	}
	w := e.stdout
	fmt.Fprintf(w, "%s: camera %q, %dx%d, scene version %d\n", c.File, sc.Camera, sc.Image.Width, sc.Image.Height, sc.Version)
	if cal := sc.Calibration; cal != nil {
		fmt.Fprintf(w, "calibration: %d point pairs, reprojection error RMS %.3f m, worst %.3f m\n", len(cal.Pairs), cal.RMSError, cal.MaxError)
	} else {
		fmt.Fprintln(w, "calibration: none (rules needing metres are not allowed)")
	}
	for _, z := range sc.Zones {
		area := ""
		if z.AreaM2 > 0 {
			area = fmt.Sprintf(", %.1f m²", z.AreaM2)
		}
		fmt.Fprintf(w, "zone %-16s %-12s %d points%s\n", z.Name, z.Type, len(z.Polygon), area)
	}
	for _, l := range sc.Lines {
		fmt.Fprintf(w, "line %-16s in = %s side\n", l.Name, l.In)
	}
	for _, l := range sc.Lanes {
		fmt.Fprintf(w, "lane %-16s in zone %s\n", l.Name, l.Zone.Name)
	}
	for _, r := range sc.Rules {
		fmt.Fprintf(w, "rule %-28s %-26s %s [%s] severity %s\n", r.Name, r.Type, ruleTarget(r), strings.Join(r.Classes, ","), r.Severity)
	}
	fmt.Fprintln(w, "ok")
	return nil
}

func ruleTarget(r *scene.Rule) string {
	switch {
	case r.Lane != nil:
		return "lane " + r.Lane.Name
	case r.Line != nil:
		return "line " + r.Line.Name
	case r.Zone != nil:
		return "zone " + r.Zone.Name
	}
	return ""
}
