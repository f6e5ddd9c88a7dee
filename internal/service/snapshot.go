package service

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"time"

	"golang.org/x/image/draw"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/store"
)

// snapshotQuality is the JPEG quality of wall tiles: small files for
// low-rate thumbnails.
const snapshotQuality = 70

// Snapshot is a camera's latest analysed frame as JPEG, without overlays,
// scaled down to at most maxWidth pixels wide (httpapi.Snapshotter): the
// wall's tiles and the scene editor's background.
func (s *Service) Snapshot(_ context.Context, camera string, maxWidth int) ([]byte, time.Time, error) {
	s.mu.Lock()
	r := s.cams[camera]
	s.mu.Unlock()
	if r == nil {
		return nil, time.Time{}, fmt.Errorf("camera %s is not running: %w", camera, store.ErrNotFound)
	}
	lf := r.proc.live.Load()
	if lf == nil || lf.frame == nil || lf.frame.Pix == nil {
		return nil, time.Time{}, fmt.Errorf("camera %s has no frame yet: %w", camera, store.ErrNotFound)
	}
	jpg, err := EncodeSnapshot(lf.frame, maxWidth)
	return jpg, lf.frame.Received, err
}

// EncodeSnapshot is a frame as a JPEG at most maxWidth pixels wide: what
// one wall tile costs the server.
func EncodeSnapshot(f *decode.Frame, maxWidth int) ([]byte, error) {
	src := image.NewRGBA(image.Rect(0, 0, f.Width, f.Height))
	for i, j := 0, 0; i+2 < len(f.Pix) && j+3 < len(src.Pix); i, j = i+3, j+4 {
		src.Pix[j], src.Pix[j+1], src.Pix[j+2], src.Pix[j+3] = f.Pix[i], f.Pix[i+1], f.Pix[i+2], 0xff
	}
	var img image.Image = src
	if f.Width > maxWidth {
		h := max(1, f.Height*maxWidth/f.Width)
		dst := image.NewRGBA(image.Rect(0, 0, maxWidth, h))
		draw.ApproxBiLinear.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
		img = dst
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: snapshotQuality}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
