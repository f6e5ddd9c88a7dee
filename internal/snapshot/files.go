package snapshot

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/image/draw"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/event"
)

// maxName bounds one sanitised name component.
const maxName = 64

// names returns the camera directory and the readable start of the file
// names for the alert: <camera>/<rule>-<track>-<pts_ms>. The rule is the
// scene rule name, or the rule type when the event has none; the track is
// the first of the event's tracks, "0" for an event without tracks. These
// repeat after a restart, so Write appends a random suffix.
func names(root string, ev *event.Event, f *decode.Frame) (dir, base string) {
	rule := ev.Name
	if rule == "" {
		rule = ev.Rule
	}
	id := 0
	if len(ev.Tracks) > 0 {
		id = ev.Tracks[0]
	}
	base = fmt.Sprintf("%s-%d-%d", Sanitize(rule), id, f.PTS.Milliseconds())
	return filepath.Join(root, Sanitize(ev.Camera)), base
}

// Sanitize turns a camera or rule name into one safe path component:
// letters, digits, '.', '_' and '-' are kept, anything else (separators
// included) becomes '_', and leading dots are replaced, so no name can
// climb out of the snapshot directory or hide itself. A name that had to
// change gets a short hash of the original appended, so that two different
// names ("a/b", "a_b") never share files.
func Sanitize(name string) string {
	var b strings.Builder
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		case r == '.' && i > 0: // a leading dot would make "..", or hide the file
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > maxName {
		s = s[:maxName]
	}
	if s == name && s != "" {
		return s
	}
	if s == "" {
		s = "unnamed"
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return s + "~" + strconv.FormatUint(uint64(h.Sum32()), 16)
}

// ensureDir creates dir and refuses one that is a symbolic link or not a
// directory: a link planted there would send alert images, and the
// overwrites that come with re-runs, somewhere else.
func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("snapshot: %s is not a directory", dir)
	}
	return nil
}

// randomSuffix is 8 random hex digits: with the rule, track and PTS in the
// name, a collision is already unlikely; Write still never overwrites.
func randomSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// writeJPEG writes img to a new file at path through a temporary file
// linked into place: a reader never sees half a file, and nothing already
// at path (another alert's evidence, or a planted link) is replaced or
// written through; that fails with an error wrapping os.ErrExist.
func writeJPEG(path string, img image.Image) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".snapshot-*.jpg")
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	err = jpeg.Encode(tmp, img, &jpeg.Options{Quality: Quality})
	if err == nil {
		err = tmp.Chmod(0o644) // CreateTemp makes it private
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp.Name(), path) // fails if path exists
	}
	if err != nil {
		return fmt.Errorf("snapshot: writing %s: %w", path, err)
	}
	return nil
}

// upscale is the whole factor a crop of this size is enlarged by.
func upscale(w, h int) int {
	short := min(w, h)
	if short <= 0 || short >= minCropShown {
		return 1
	}
	return min((minCropShown+short-1)/short, maxUpscale)
}

// scaleUp enlarges a small crop by upscale's factor, smoothly (Catmull-Rom)
// since blocky pixels make faces and plates harder, not easier, to read.
func scaleUp(img *image.RGBA) *image.RGBA {
	k := upscale(img.Rect.Dx(), img.Rect.Dy())
	if k == 1 {
		return img
	}
	out := image.NewRGBA(image.Rect(0, 0, img.Rect.Dx()*k, img.Rect.Dy()*k))
	draw.CatmullRom.Scale(out, out.Rect, img, img.Rect, draw.Src, nil)
	return out
}

// wrap breaks s into lines of at most cols characters at spaces (a longer
// word is cut).
func wrap(s string, cols int) []string {
	var out []string
	line := ""
	for _, w := range strings.Fields(s) {
		for len([]rune(w)) > cols {
			r := []rune(w)
			if line != "" {
				out, line = append(out, line), ""
			}
			out, w = append(out, string(r[:cols])), string(r[cols:])
		}
		switch {
		case line == "":
			line = w
		case len([]rune(line))+1+len([]rune(w)) <= cols:
			line += " " + w
		default:
			out, line = append(out, line), w
		}
	}
	if line != "" {
		out = append(out, line)
	}
	return out
}
