package httpapi

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/vigil-cctv/vigil/internal/event"
)

func (a *api) alertSnapshot(w http.ResponseWriter, r *http.Request) error {
	return a.serveAlertFile(w, r, "snapshot")
}

func (a *api) alertCrop(w http.ResponseWriter, r *http.Request) error {
	return a.serveAlertFile(w, r, "crop")
}

func (a *api) alertClip(w http.ResponseWriter, r *http.Request) error {
	return a.serveAlertFile(w, r, "clip")
}

// serveAlertFile serves one of an alert's media files. The path comes
// from the stored event, which is data, not trust: it is served only if it
// lies under MediaDir, and os.Root keeps symlinks from leading out.
func (a *api) serveAlertFile(w http.ResponseWriter, r *http.Request, what string) error {
	al, err := a.alert(r)
	if err != nil {
		return err
	}
	name, contentType := mediaFile(al.Event.Snapshot, al.Event.Crop, what)
	if name == "" {
		return notFound("alert %d has no %s", al.ID, what)
	}
	if a.opts.MediaDir == "" {
		return notFound("alert media is not served: no media directory is configured")
	}
	rel, ok := mediaRel(a.opts.MediaDir, name)
	if !ok {
		a.log.Warn("alert media outside the media directory", "alert", al.ID, "kind", what)
		return notFound("alert %d has no %s", al.ID, what)
	}
	return a.serveFile(w, r, rel, contentType, what)
}

// openMedia opens MediaDir for a batch of lookups; nil when none is
// configured or it cannot be opened.
func (a *api) openMedia() *os.Root {
	if a.opts.MediaDir == "" {
		return nil
	}
	root, err := os.OpenRoot(a.opts.MediaDir)
	if err != nil {
		return nil
	}
	return root
}

// mediaExists says whether an alert's media file of this kind is on disk
// in media, the opened MediaDir (a clip is written some seconds after its
// alert, and not at all on a node with clips off).
func (a *api) mediaExists(media *os.Root, ev event.Event, what string) bool {
	name, _ := mediaFile(ev.Snapshot, ev.Crop, what)
	if name == "" || media == nil {
		return false
	}
	rel, ok := mediaRel(a.opts.MediaDir, name)
	if !ok {
		return false
	}
	st, err := media.Stat(rel)
	return err == nil && st.Mode().IsRegular()
}

// mediaFile picks the file for a media route. A clip, when recorded, is
// the snapshot's name with .mp4 instead of .jpg.
func mediaFile(snapshot, crop, what string) (name, contentType string) {
	switch what {
	case "snapshot":
		name = snapshot
	case "crop":
		name = crop
	case "clip":
		base, ok := cutJPEG(snapshot)
		if !ok {
			return "", ""
		}
		return base + ".mp4", "video/mp4"
	}
	// Only JPEGs: a path into MediaDir naming anything else is not media.
	if _, ok := cutJPEG(name); !ok {
		return "", ""
	}
	return name, "image/jpeg"
}

func cutJPEG(name string) (string, bool) {
	ext := filepath.Ext(name)
	if !strings.EqualFold(ext, ".jpg") && !strings.EqualFold(ext, ".jpeg") {
		return "", false
	}
	return strings.TrimSuffix(name, ext), true
}

// mediaRel turns an event's media path into one relative to dir. Events
// record paths as the snapshot writer made them: absolute, relative to the
// working directory (and so starting with dir), or relative to dir.
func mediaRel(dir, name string) (string, bool) {
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	if abs, err := filepath.Abs(name); err == nil {
		if rel, err := filepath.Rel(absDir, abs); err == nil && filepath.IsLocal(rel) {
			return rel, true
		}
	}
	if !filepath.IsAbs(name) && filepath.IsLocal(name) {
		return filepath.Clean(name), true
	}
	return "", false
}

// serveFile serves a regular file under MediaDir; ServeContent handles
// Range requests, which video players need to seek in a clip.
func (a *api) serveFile(w http.ResponseWriter, r *http.Request, rel, contentType, what string) error {
	root, err := os.OpenRoot(a.opts.MediaDir)
	if err != nil {
		return unavailable("the media directory cannot be opened")
	}
	defer root.Close()
	f, err := root.Open(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return notFound("the %s file is gone", what)
	}
	if err != nil {
		// Escapes through a symlink land here too: not found, not 500.
		a.log.Warn("alert media not served", "kind", what, "err", err)
		return notFound("the %s file cannot be served", what)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return notFound("the %s file cannot be served", what)
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "private, max-age=86400")
	http.ServeContent(w, r, "", st.ModTime(), f)
	return nil
}
