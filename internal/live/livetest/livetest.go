// Package livetest provides a realistic live picture for benchmarks of
// package live and the HTTP layer: a frame of the sample footage
// rendered with overlays and encoded as the service does.
package livetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"sync/atomic"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/render"
)

// Vtest is the sample footage (PETS09-S2L1, 768×576), from opencv-doc.
const Vtest = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

// Frame decodes the first frame of the sample footage.
func Frame(ctx context.Context) (*decode.Frame, error) {
	if _, err := os.Stat(Vtest); err != nil {
		return nil, fmt.Errorf("sample footage missing (run make setup): %w", err)
	}
	src, err := decode.Open(ctx, Vtest, decode.Options{MaxFrames: 1})
	if err != nil {
		return nil, err
	}
	frames, err := src.Start(ctx)
	if err != nil {
		return nil, err
	}
	var first *decode.Frame
	for f := range frames {
		if first == nil {
			first = f
		}
	}
	_ = src.Wait()
	if first == nil {
		return nil, errors.New("no frame decoded")
	}
	return first, nil
}

// Encode renders f the way the service's live view does (a copy of the
// pixels, ten tracked boxes, the HUD) and encodes it as JPEG at quality.
func Encode(f *decode.Frame, quality int) ([]byte, error) {
	pix := append([]byte(nil), f.Pix...)
	c := render.FromFrame(&decode.Frame{Width: f.Width, Height: f.Height, Pix: pix})
	objs := make([]render.Object, 10)
	for i := range objs {
		x := float64(40 + 70*i)
		objs[i] = render.Object{ID: i + 1, Class: detect.Person, Box: geom.Box{X: x, Y: 200, W: 40, H: 120}, Score: 0.9}
	}
	render.DrawObjects(c, objs, nil)
	render.DrawHUD(c, "plaza", "12.3s")
	var buf bytes.Buffer
	err := jpeg.Encode(&buf, c.RGBA(image.Rect(0, 0, f.Width, f.Height)), &jpeg.Options{Quality: quality})
	return buf.Bytes(), err
}

// Changing is a live source whose picture is new at every look, so that
// every tick encodes: the worst case, a camera always in motion.
type Changing struct {
	Frame   *decode.Frame
	Quality int
	n       atomic.Int64
}

// Latest returns a new identity each call and the encoder of the frame.
func (c *Changing) Latest() (any, func() ([]byte, error)) {
	return c.n.Add(1), func() ([]byte, error) { return Encode(c.Frame, c.Quality) }
}
