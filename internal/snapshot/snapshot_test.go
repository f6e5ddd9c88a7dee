package snapshot

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/track"
)

func frame(w, h int) *decode.Frame {
	pix := make([]byte, w*h*3)
	for i := range pix {
		pix[i] = byte(60 + (i/3)%w*100/w) // a horizontal ramp
	}
	return &decode.Frame{Index: 7, PTS: 12345 * time.Millisecond, Width: w, Height: h, Pix: pix}
}

func alert(tracks ...int) *event.Event {
	return &event.Event{Rule: "intrusion", Name: "plant-night", Camera: "cam-1", Tracks: tracks,
		Severity: event.Critical, Start: 12, End: 12.345,
		Explanation: "person entered restricted zone 'plant' and stayed 0.6 s",
		Path:        []event.PathPoint{{PTS: 12, Image: [2]float64{300, 300}}, {PTS: 12.345, Image: [2]float64{320, 280}}}}
}

func decodeJPEG(t *testing.T, path string) image.Image {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	img, err := jpeg.Decode(bytes.NewReader(b))
	require.NoError(t, err, "%s is not a JPEG", path)
	return img
}

func TestWriteFilesAndNames(t *testing.T) {
	dir := t.TempDir()
	f := frame(640, 480)
	orig := append([]byte(nil), f.Pix...)
	tracks := []track.Track{
		{ID: 3, Class: detect.Person, Box: geom.Box{X: 300, Y: 200, W: 40, H: 80}},
		{ID: 4, Class: detect.Car, Box: geom.Box{X: 50, Y: 50, W: 100, H: 60}},
	}
	sc, err := scene.Load(filepath.Join("..", "..", "testdata", "scenes", "example.yaml"))
	require.NoError(t, err)
	files, err := Writer{Dir: dir}.Write(alert(3), f, tracks, sc)
	require.NoError(t, err)
	full, crop := files.Snapshot, files.Crop
	require.Regexp(t, `^`+regexp.QuoteMeta(filepath.Join(dir, "cam-1", "plant-night-3-12345-"))+`[0-9a-f]{8}\.jpg$`, full)
	require.Equal(t, strings.TrimSuffix(full, ".jpg")+"-crop.jpg", crop)
	require.Equal(t, strings.TrimSuffix(full, ".jpg")+".mp4", files.Clip)
	require.Equal(t, files.Clip, ClipOf(full), "one function names a snapshot's clip")
	require.Equal(t, orig, f.Pix, "the caller's frame was drawn on")

	img := decodeJPEG(t, full)
	require.Equal(t, image.Rect(0, 0, 640, 480), img.Bounds())
	// The alert box is thick and red: sample its left edge.
	r, g, b, _ := img.At(301, 240).RGBA()
	require.True(t, r>>8 > 200 && g>>8 < 80 && b>>8 < 80, "alert box not red: %d %d %d", r>>8, g>>8, b>>8)
	decodeJPEG(t, crop)

	// The same rule, track and PTS again (as after a restart, when ids and
	// PTS start over): new files, the first alert's evidence untouched.
	before, err := os.ReadFile(full)
	require.NoError(t, err)
	files2, err := Writer{Dir: dir}.Write(alert(3), frame(640, 480), tracks, sc)
	require.NoError(t, err)
	require.NotEqual(t, full, files2.Snapshot)
	require.NotEqual(t, crop, files2.Crop)
	require.NotEqual(t, files.Clip, files2.Clip)
	after, err := os.ReadFile(full)
	require.NoError(t, err)
	require.Equal(t, before, after, "an earlier alert's snapshot was rewritten")
	entries, err := os.ReadDir(filepath.Join(dir, "cam-1"))
	require.NoError(t, err)
	require.Len(t, entries, 4, "temporary files left behind")
	st, err := os.Stat(full)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), st.Mode().Perm())
}

func TestCropDimensions(t *testing.T) {
	cases := []struct {
		name string
		box  geom.Box
		w, h int // expected crop image size
	}{
		// 40×80 → 60×120 → 64×120 (min side) → ×2 to reach 128.
		{"small", geom.Box{X: 300, Y: 200, W: 40, H: 80}, 128, 240},
		// 200×200 → 300×300, big enough: native size.
		{"large", geom.Box{X: 100, Y: 100, W: 200, H: 200}, 300, 300},
		// In the corner: 64×64 moved inside the frame, then ×2.
		{"corner", geom.Box{X: 625, Y: 465, W: 15, H: 15}, 128, 128},
		// Tiny: 64×64 → ×2.
		{"tiny", geom.Box{X: 10, Y: 10, W: 2, H: 3}, 128, 128},
		// Larger than the frame: clipped to it.
		{"huge", geom.Box{X: -100, Y: -100, W: 900, H: 700}, 640, 480},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tracks := []track.Track{{ID: 9, Class: detect.Person, Box: tc.box}}
			files, err := Writer{Dir: t.TempDir()}.Write(alert(9), frame(640, 480), tracks, nil)
			require.NoError(t, err)
			require.Equal(t, image.Rect(0, 0, tc.w, tc.h), decodeJPEG(t, files.Crop).Bounds())
		})
	}
}

func TestCropRectBeforeScaling(t *testing.T) {
	r, ok := cropRect(geom.Box{X: 300, Y: 200, W: 40, H: 80}, true, 640, 480)
	require.True(t, ok)
	require.Equal(t, image.Rect(288, 180, 352, 300), r)
	r, ok = cropRect(geom.Box{X: 625, Y: 465, W: 15, H: 15}, true, 640, 480)
	require.True(t, ok)
	require.Equal(t, image.Rect(576, 416, 640, 480), r, "corner crop not moved inside the frame")
	// A frame smaller than the minimum crop: the whole frame.
	r, ok = cropRect(geom.Box{X: 10, Y: 10, W: 5, H: 5}, true, 40, 30)
	require.True(t, ok)
	require.Equal(t, image.Rect(0, 0, 40, 30), r)
}

func TestCropFallbacks(t *testing.T) {
	// Track not in the frame: crop around the end of the path.
	files, err := Writer{Dir: t.TempDir()}.Write(alert(5), frame(640, 480), nil, nil)
	require.NoError(t, err)
	require.Equal(t, image.Rect(0, 0, 128, 128), decodeJPEG(t, files.Crop).Bounds())
	// Neither track nor path: the full frame only.
	ev := alert()
	ev.Path = nil
	files, err = Writer{Dir: t.TempDir()}.Write(ev, frame(640, 480), nil, nil)
	require.NoError(t, err)
	require.Empty(t, files.Crop)
	require.Contains(t, filepath.Base(files.Snapshot), "plant-night-0-12345-")
	decodeJPEG(t, files.Snapshot)
}

func TestPathTraversalNeutralised(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "snaps")
	ev := alert(3)
	ev.Camera = "../../../etc"
	ev.Name = "../../passwd"
	files, err := Writer{Dir: dir}.Write(ev, frame(320, 240), nil, nil)
	require.NoError(t, err)
	for _, p := range []string{files.Snapshot, files.Crop, files.Clip} {
		rel, err := filepath.Rel(dir, p)
		require.NoError(t, err)
		require.False(t, strings.HasPrefix(rel, ".."), "%s escapes %s", p, dir)
		require.Equal(t, dir, filepath.Dir(filepath.Dir(p)), "not exactly <dir>/<camera>/<file>: %s", p)
	}
	entries, err := os.ReadDir(parent)
	require.NoError(t, err)
	require.Len(t, entries, 1, "something was written beside the snapshot directory")
}

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"cam-1":       "cam-1",
		"ring.road_4": "ring.road_4",
	} {
		require.Equal(t, want, Sanitize(in))
	}
	for _, in := range []string{"..", ".", "", "a/b", `a\b`, "../x", ".hidden", "名前", strings.Repeat("x", 300)} {
		s := Sanitize(in)
		require.NotEmpty(t, s)
		require.NotContains(t, s, "/")
		require.NotContains(t, s, `\`)
		require.False(t, strings.HasPrefix(s, "."), "%q → %q", in, s)
		require.LessOrEqual(t, len(s), maxName+10)
	}
	// Names that sanitise alike still get different files.
	require.NotEqual(t, Sanitize("a/b"), Sanitize("a_b"))
	require.NotEqual(t, Sanitize("a/b"), Sanitize(`a\b`))
	require.Equal(t, Sanitize("a/b"), Sanitize("a/b"), "not deterministic")
}

func TestRefusesLinksAndDirectories(t *testing.T) {
	dir := t.TempDir()
	elsewhere := t.TempDir()
	require.NoError(t, os.Symlink(elsewhere, filepath.Join(dir, "cam-1")))
	_, err := Writer{Dir: dir}.Write(alert(3), frame(320, 240), nil, nil)
	require.ErrorContains(t, err, "not a directory")
	entries, _ := os.ReadDir(elsewhere)
	require.Empty(t, entries, "wrote through a symlinked camera directory")

	// Whatever already has a name (a planted link here) is never written
	// through or replaced.
	dir = t.TempDir()
	target := filepath.Join(t.TempDir(), "victim")
	require.NoError(t, os.WriteFile(target, []byte("keep"), 0o600))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "cam-1"), 0o755))
	link := filepath.Join(dir, "cam-1", "planted.jpg")
	require.NoError(t, os.Symlink(target, link))
	require.ErrorIs(t, writeJPEG(link, image.NewRGBA(image.Rect(0, 0, 4, 4))), os.ErrExist)
	got, err := os.ReadFile(target)
	require.NoError(t, err)
	require.Equal(t, "keep", string(got))
}

func TestBadInput(t *testing.T) {
	w := Writer{Dir: t.TempDir()}
	_, err := w.Write(nil, frame(10, 10), nil, nil)
	require.Error(t, err)
	_, err = w.Write(alert(1), &decode.Frame{Width: 10, Height: 10, Pix: make([]byte, 5)}, nil, nil)
	require.Error(t, err)
}

func TestWrap(t *testing.T) {
	require.Equal(t, []string{"aa bb", "cc"}, wrap("aa bb cc", 5))
	require.Equal(t, []string{"abcde", "fg h"}, wrap("abcdefg h", 5))
	require.Equal(t, []string{"abcde", "fghij", "k"}, wrap("abcdefghijk", 5))
	require.Nil(t, wrap("", 5))
}
