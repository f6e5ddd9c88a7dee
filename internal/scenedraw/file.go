package scenedraw

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/render"
	"github.com/vigil-cctv/vigil/internal/scene"
)

// RenderFile draws sc in full (grid and labels on) over frame frameIndex
// (0-based) of input, a video file or image-sequence directory, and writes
// the result to out as a PNG. The frame must be the size the scene was
// drawn for: scene coordinates are pixels of that frame, so on any other
// size the drawing would be silently misplaced.
func RenderFile(ctx context.Context, sc *scene.Scene, input, out string, frameIndex int) error {
	if sc == nil {
		return errors.New("scene draw: no scene")
	}
	if frameIndex < 0 {
		return fmt.Errorf("scene draw: frame index %d is negative", frameIndex)
	}
	f, err := ReadFrame(ctx, sc, input, frameIndex)
	if err != nil {
		return err
	}
	Draw(render.FromFrame(f), sc, Options{Grid: true, Labels: true})
	return WritePNG(out, f)
}

// ReadFrame decodes frames up to frameIndex and returns that one. The size
// is checked against the scene's (if sc is not nil) before decoding
// anything.
func ReadFrame(ctx context.Context, sc *scene.Scene, input string, frameIndex int) (*decode.Frame, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	src, err := decode.Open(ctx, input, decode.Options{MaxFrames: frameIndex + 1})
	if err != nil {
		return nil, fmt.Errorf("scene draw: %w", err)
	}
	if err := checkSize(sc, src.Input.String(), src.Info.Width, src.Info.Height); err != nil {
		return nil, err
	}
	frames, err := src.Start(ctx)
	if err != nil {
		return nil, fmt.Errorf("scene draw: %w", err)
	}
	var got *decode.Frame
	n := 0
	for f := range frames {
		n++
		if f.Index == frameIndex {
			got = f
		}
	}
	if err := src.Wait(); err != nil {
		return nil, fmt.Errorf("scene draw: %w", err)
	}
	if got == nil {
		return nil, fmt.Errorf("scene draw: %s has %d frames, no frame %d", src.Input, n, frameIndex)
	}
	return got, checkSize(sc, src.Input.String(), got.Width, got.Height)
}

// checkSize names both sizes, since the fix is either another input or
// rescaling the scene.
func checkSize(sc *scene.Scene, input string, w, h int) error {
	if sc == nil || w == sc.Image.Width && h == sc.Image.Height {
		return nil
	}
	name := sc.Camera
	if sc.File != "" {
		name = sc.File
	}
	return fmt.Errorf("scene draw: %s has frames of %dx%d but scene %s is drawn for %dx%d",
		input, w, h, name, sc.Image.Width, sc.Image.Height)
}

// WritePNG writes the RGB24 frame to path as a PNG, through a temporary file
// renamed into place so that a reader never sees half an image.
func WritePNG(path string, f *decode.Frame) error {
	img, err := toRGBA(f)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("scene draw: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".scenedraw-*.png")
	if err != nil {
		return fmt.Errorf("scene draw: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := png.Encode(tmp, img); err != nil {
		tmp.Close()
		return fmt.Errorf("scene draw: encoding %s: %w", path, err)
	}
	// CreateTemp makes the file private; a drawing is meant to be shared.
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("scene draw: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("scene draw: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("scene draw: %w", err)
	}
	return nil
}

// toRGBA copies packed RGB24 into an opaque image.RGBA.
func toRGBA(f *decode.Frame) (*image.RGBA, error) {
	if f == nil || f.Width <= 0 || f.Height <= 0 || len(f.Pix) < f.Width*f.Height*3 {
		return nil, errors.New("scene draw: empty or short frame")
	}
	return render.FromFrame(f).RGBA(image.Rect(0, 0, f.Width, f.Height)), nil
}
