package cli

import (
	"fmt"
	"image"
	"image/png"
	"os"

	"github.com/vigil-cctv/vigil/internal/baseline"
	"github.com/vigil-cctv/vigil/internal/render"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/scenedraw"
)

type baselineCmd struct {
	Heatmap baselineHeatmapCmd `cmd:"" help:"Draw what a saved baseline learned (occupancy, speed, direction, dwell) as a PNG."`
	Show    baselineShowCmd    `cmd:"" help:"Print a saved baseline's state: learned tracks, thresholds, feedback."`
}

// baselineFile names a saved baseline and the scene it was learned with.
type baselineFile struct {
	Model string `arg:"" help:"Saved baseline (eval anomaly --save)." type:"existingfile"`
	Scene string `help:"Scene file the baseline was learned with (needed when it was calibrated)." type:"existingfile"`
}

func (b baselineFile) open() (*baseline.Model, *scene.Scene, error) {
	var sc *scene.Scene
	if b.Scene != "" {
		var err error
		if sc, err = scene.Load(b.Scene); err != nil {
			return nil, nil, err
		}
	}
	m, err := baseline.New(baseline.Config{}, sc)
	if err != nil {
		return nil, nil, err
	}
	return m, sc, loadBaseline(m, b.Model)
}

type baselineHeatmapCmd struct {
	baselineFile
	Kind       string `help:"What to draw: occupancy, speed, direction or dwell." default:"occupancy" enum:"occupancy,speed,direction,dwell"`
	Class      string `help:"Only this class (default: all)."`
	Hour       int    `help:"Hour of the week, Monday 00:00 = 0 (default -1: all hours)." default:"-1"`
	Background string `help:"Video, image directory or image to draw over (its first frame)."`
	Out        string `help:"PNG file to write." required:"" type:"path"`
}

func (c *baselineHeatmapCmd) Run(e *env) error {
	m, sc, err := c.open()
	if err != nil {
		return err
	}
	opt := baseline.HeatmapOptions{Kind: c.Kind, Class: c.Class, Hour: c.Hour, Legend: true}
	if c.Background != "" {
		f, err := scenedraw.ReadFrame(e.ctx, sc, c.Background, 0)
		if err != nil {
			return err
		}
		cv := render.FromFrame(f)
		opt.Background = cv.RGBA(image.Rect(0, 0, cv.W, cv.H))
	}
	img, err := m.Heatmap(opt)
	if err != nil {
		return err
	}
	out, err := os.Create(c.Out)
	if err != nil {
		return err
	}
	if err := png.Encode(out, img); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "heatmap:", c.Out)
	return nil
}

type baselineShowCmd struct {
	baselineFile
}

func (c *baselineShowCmd) Run(e *env) error {
	m, _, err := c.open()
	if err != nil {
		return err
	}
	return printJSON(e.stdout, m.State())
}
