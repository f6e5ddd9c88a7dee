package service

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"time"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detplan"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/live"
	"github.com/vigil-cctv/vigil/internal/render"
	"github.com/vigil-cctv/vigil/internal/scenedraw"
)

// liveSource is a camera's latest analysed frame for the live hub, which
// encodes it (with its overlays) once per tick for all its viewers, and
// only while someone watches.
func (s *Service) liveSource(p *processor) live.Source {
	return live.SourceFunc(func() (any, func() ([]byte, error)) {
		lf := p.live.Load()
		if lf == nil || lf.frame.Pix == nil {
			return nil, nil
		}
		return lf, func() ([]byte, error) { return renderLive(lf, p.id, s.cfg.Live.Quality, s.cfg.Live.Debug) }
	})
}

// planColor is the debug overlay's colour for the crops detected.
var planColor = color.RGBA{R: 255, G: 200, A: 255}

func renderLive(lf *liveFrame, name string, quality int, debug bool) ([]byte, error) {
	f := lf.frame
	pix := append([]byte(nil), f.Pix...)
	c := render.FromFrame(&decode.Frame{Width: f.Width, Height: f.Height, Pix: pix})
	if lf.scene != nil {
		scenedraw.DrawZonesLight(c, lf.scene)
	}
	objs := make([]render.Object, len(lf.tracks))
	for i, t := range lf.tracks {
		objs[i] = render.Object{ID: t.ID, Class: t.Class, Box: t.Box, Score: t.Score}
	}
	render.DrawObjects(c, objs, nil)
	hud := []string{name, f.PTS.Round(time.Millisecond).String()}
	if debug {
		hud = append(hud, planLine(lf.decision))
		if lf.decision.Mode == detplan.Regions {
			for _, reg := range lf.decision.Regions {
				r := reg.Rect
				c.Rect(geom.BoxFromCorners(float64(r.Min.X), float64(r.Min.Y), float64(r.Max.X), float64(r.Max.Y)), planColor, 2)
			}
		}
	}
	render.DrawHUD(c, hud...)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, c.RGBA(image.Rect(0, 0, f.Width, f.Height)), &jpeg.Options{Quality: quality}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// planLine is the debug overlay's line for a plan decision: the mode, the
// crops and the reason.
func planLine(d detplan.Decision) string {
	if d.Mode == detplan.Regions {
		return fmt.Sprintf("plan: %d regions (%s)", len(d.Regions), d.Reason)
	}
	return fmt.Sprintf("plan: %s (%s)", d.Mode, d.Reason)
}
