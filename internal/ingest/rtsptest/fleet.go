package rtsptest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Footage is one kind of camera view for a capacity test.
type Footage struct {
	Name string // short label: "plaza", "highway", "parking", "static"
	// Source is a video file or an image directory (images named in
	// playback order, read at SourceFPS).
	Source    string
	SourceFPS float64
	// Static makes a frozen view: Source's first frame with fresh noise in
	// every frame, as a night-time street looks.
	Static bool
}

// DefaultFootage is the mix the capacity benchmark uses, relative to the
// repository root: the PETS09 plaza, the CDnet highway, the parking clip
// and a static view. Entries whose source is missing are left out.
func DefaultFootage(root string) []Footage {
	all := []Footage{
		{Name: "plaza", Source: "/usr/share/doc/opencv-doc/examples/data/vtest.avi"},
		{Name: "highway", Source: filepath.Join(root, "../shared/data/cdnet-highway/input"), SourceFPS: 30},
		{Name: "parking", Source: filepath.Join(root, "../shared/data/videos/car-detection.mp4")},
		{Name: "static", Source: "/usr/share/doc/opencv-doc/examples/data/vtest.avi", Static: true},
	}
	var out []Footage
	for _, f := range all {
		if _, err := os.Stat(f.Source); err == nil {
			out = append(out, f)
		}
	}
	return out
}

// MakeFootage encodes seconds of f as an Annex-B H.264 stream at fps with a
// key picture every gop pictures, ready for Start.
func MakeFootage(ctx context.Context, f Footage, dst string, seconds, fps float64, gop int) error {
	if f.Static {
		return makeStatic(ctx, f.Source, dst, seconds, fps, gop, "h264")
	}
	if st, err := os.Stat(f.Source); err == nil && st.IsDir() {
		rate := f.SourceFPS
		if rate <= 0 {
			rate = 25
		}
		return encode(ctx, []string{"-framerate", fmt.Sprint(rate), "-pattern_type", "glob", "-i", filepath.Join(f.Source, "*.jpg")}, dst, seconds, fps, gop, "h264")
	}
	return MakeClip(ctx, f.Source, dst, seconds, fps, gop)
}

// MakeStaticClip writes seconds of a static view made from src's first
// frame (fresh noise in every frame) as an H.264 MP4 at fps.
func MakeStaticClip(ctx context.Context, src, dst string, seconds, fps float64) error {
	return makeStatic(ctx, src, dst, seconds, fps, int(2*fps), "mp4")
}

func makeStatic(ctx context.Context, src, dst string, seconds, fps float64, gop int, format string) error {
	still := dst + ".still.png"
	defer os.Remove(still)
	out, err := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", src,
		"-frames:v", "1", still).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ffmpeg: %v: %s", err, out)
	}
	return encode(ctx, []string{"-loop", "1", "-framerate", fmt.Sprint(fps), "-i", still, "-vf", "noise=alls=8:allf=t"},
		dst, seconds, fps, gop, format)
}

func encode(ctx context.Context, input []string, dst string, seconds, fps float64, gop int, format string) error {
	args := append([]string{"-hide_banner", "-loglevel", "error", "-y"}, input...)
	args = append(args, "-t", fmt.Sprint(seconds), "-an", "-r", fmt.Sprint(fps),
		"-c:v", "libx264", "-preset", "veryfast", "-bf", "0", "-g", fmt.Sprint(gop),
		"-pix_fmt", "yuv420p", "-f", format, dst)
	out, err := exec.CommandContext(ctx, "ffmpeg", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ffmpeg %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// Fleet is N in-process RTSP cameras, one server each, streaming H.264 at
// their own rate in a loop: what the capacity benchmark and a full-service
// test point Vigil at.
type Fleet struct {
	Cameras []FleetCamera
}

// FleetCamera is one camera of a fleet.
type FleetCamera struct {
	Footage Footage
	Server  *Server
}

// URL is the camera's stream address.
func (c FleetCamera) URL() string { return c.Server.URL() }

// StartFleet encodes each footage once (seconds long, at fps, a key
// picture every second) into dir and starts n cameras cycling through
// them. Close stops them all. Camera i starts its loop i/n of the way in:
// a loop's end is a cut, everything in view jumping at once, that real
// cameras do not all have in the same instant; in step, every camera
// would ask for a whole-frame pass in the same frame.
func StartFleet(ctx context.Context, dir string, footage []Footage, n int, seconds, fps float64) (*Fleet, error) {
	if len(footage) == 0 {
		return nil, fmt.Errorf("rtsptest: no footage for a fleet")
	}
	clips := make([]string, len(footage))
	for i, f := range footage {
		clips[i] = filepath.Join(dir, fmt.Sprintf("%02d-%s.h264", i, f.Name))
		if err := MakeFootage(ctx, f, clips[i], seconds, fps, int(fps)); err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
	}
	fl := &Fleet{}
	for i := range n {
		k := i % len(footage)
		srv, err := Start(clips[k], Options{Path: fmt.Sprintf("cam%d", i), FPS: fps, Start: float64(i) / float64(n)})
		if err != nil {
			fl.Close()
			return nil, err
		}
		fl.Cameras = append(fl.Cameras, FleetCamera{Footage: footage[k], Server: srv})
	}
	return fl, nil
}

// Close stops every camera.
func (f *Fleet) Close() {
	for _, c := range f.Cameras {
		c.Server.Close()
	}
}
