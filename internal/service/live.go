package service

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"time"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/render"
	"github.com/vigil-cctv/vigil/internal/scenedraw"
)

// liveStream renders a camera's latest analysed frame with its overlays
// (zones, boxes, ids) as JPEG at a modest rate, only while someone watches.
func liveStream(ctx context.Context, p *processor, fps float64, quality int) <-chan []byte {
	out := make(chan []byte, 1)
	go func() {
		defer close(out)
		tick := time.NewTicker(time.Duration(float64(time.Second) / fps))
		defer tick.Stop()
		var last *liveFrame
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			lf := p.live.Load()
			if lf == nil || lf == last || lf.frame.Pix == nil {
				continue
			}
			last = lf
			img, err := renderLive(lf, p.id, quality)
			if err != nil {
				continue
			}
			select {
			case out <- img:
			default: // the viewer is slow; it gets the next one
			}
		}
	}()
	return out
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
