package decode

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Kind says how an input is read.
type Kind int

// Input kinds.
const (
	KindFile   Kind = iota // a video file ffmpeg can demux
	KindImages             // a directory of still images, one per frame
	KindRTSP               // an rtsp:// or rtsps:// stream
)

func (k Kind) String() string {
	switch k {
	case KindImages:
		return "image sequence"
	case KindRTSP:
		return "rtsp stream"
	default:
		return "video file"
	}
}

// imageExts are the still-image formats accepted in a sequence directory.
var imageExts = map[string]bool{".jpg": true, ".jpeg": true, ".png": true, ".tif": true, ".tiff": true, ".bmp": true}

// Input is a classified source location. Its String never shows a password.
type Input struct {
	Kind Kind
	// Location is the path, directory or URL as given (may hold credentials).
	Location string
	// Images lists the sequence's files in playback order (KindImages only).
	Images []string
}

// String is the location safe for logs and errors: credentials redacted.
func (in Input) String() string {
	if in.Kind == KindRTSP {
		return RedactURL(in.Location)
	}
	return in.Location
}

// ParseInput classifies a source: an RTSP URL, a directory of images or a
// video file. It checks that the source exists; it does not open it.
func ParseInput(loc string, reverse bool) (Input, error) {
	if loc == "" {
		return Input{}, fmt.Errorf("empty input")
	}
	if strings.Contains(loc, "://") {
		if err := ValidateRTSPURL(loc); err != nil {
			return Input{}, err
		}
		if reverse {
			return Input{}, fmt.Errorf("%s: cannot play a live stream in reverse", RedactURL(loc))
		}
		return Input{Kind: KindRTSP, Location: loc}, nil
	}
	st, err := os.Stat(loc)
	if err != nil {
		return Input{}, fmt.Errorf("input %s: %w", loc, unwrapPathError(err))
	}
	if !st.IsDir() {
		if reverse {
			return Input{}, fmt.Errorf("input %s: reverse playback needs an image sequence directory", loc)
		}
		return Input{Kind: KindFile, Location: loc}, nil
	}
	images, err := listImages(loc)
	if err != nil {
		return Input{}, err
	}
	if reverse {
		for i, j := 0, len(images)-1; i < j; i, j = i+1, j-1 {
			images[i], images[j] = images[j], images[i]
		}
	}
	return Input{Kind: KindImages, Location: loc, Images: images}, nil
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// listImages returns the directory's images of its most common extension,
// sorted by name (zero-padded frame numbers sort into playback order).
func listImages(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", dir, unwrapPathError(err))
	}
	byExt := map[string][]string{}
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if imageExts[ext] && regularFile(dir, e) {
			byExt[ext] = append(byExt[ext], filepath.Join(dir, e.Name()))
		}
	}
	var best []string
	for _, files := range byExt {
		if len(files) > len(best) {
			best = files
		}
	}
	if len(best) == 0 {
		return nil, fmt.Errorf("input %s: directory holds no images (looked for jpg, png, tif, bmp)", dir)
	}
	sort.Strings(best)
	return best, nil
}

// regularFile reports whether a directory entry is a regular file, or a
// symbolic link to one (frames linked into a folder from elsewhere).
func regularFile(dir string, e os.DirEntry) bool {
	if e.Type().IsRegular() {
		return true
	}
	if e.Type()&os.ModeSymlink == 0 {
		return false
	}
	st, err := os.Stat(filepath.Join(dir, e.Name()))
	return err == nil && st.Mode().IsRegular()
}

// ValidateRTSPURL checks that s is an rtsp:// or rtsps:// URL with a host.
func ValidateRTSPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("invalid stream URL %q: %v", RedactURL(s), redactErr(err))
	}
	if u.Scheme != "rtsp" && u.Scheme != "rtsps" {
		return fmt.Errorf("unsupported stream URL scheme %q in %s (want rtsp or rtsps)", u.Scheme, RedactURL(s))
	}
	if u.Hostname() == "" {
		return fmt.Errorf("stream URL %s has no host", RedactURL(s))
	}
	if p := u.Port(); p != "" {
		for _, c := range p {
			if c < '0' || c > '9' {
				return fmt.Errorf("stream URL %s has a bad port %q", RedactURL(s), p)
			}
		}
	}
	return nil
}

// RedactURL hides the password in a URL. Strings that do not parse are
// redacted wholesale after the scheme, since they may still hold secrets.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		if i := strings.Index(s, "://"); i >= 0 {
			return s[:i+3] + "<unparsable>"
		}
		return "<unparsable>"
	}
	return u.Redacted()
}

// redactErr drops url.Error's echo of the raw URL.
func redactErr(err error) string {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err.Error()
	}
	return "malformed URL"
}
