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
	return encodeJPEG(f.Width, f.Height, pix, quality)
}

// encodeJPEG converts packed RGB24 to JPEG.
func encodeJPEG(w, h int, pix []byte, quality int) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i, j := 0, 0; i+2 < len(pix) && j+3 < len(img.Pix); i, j = i+3, j+4 {
		img.Pix[j], img.Pix[j+1], img.Pix[j+2], img.Pix[j+3] = pix[i], pix[i+1], pix[i+2], 255
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
