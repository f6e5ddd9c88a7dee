package service

import (
	"bytes"
	"image"
	"image/jpeg"
	"time"

	"github.com/vigil-cctv/vigil/internal/decode"
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
		return lf, func() ([]byte, error) { return renderLive(lf, p.id, s.cfg.Live.Quality) }
	})
}

func renderLive(lf *liveFrame, name string, quality int) ([]byte, error) {
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
	render.DrawHUD(c, name, f.PTS.Round(time.Millisecond).String())
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, c.RGBA(image.Rect(0, 0, f.Width, f.Height)), &jpeg.Options{Quality: quality}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
