package media

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// emptyDirGrace is how long an empty directory is left alone: the Clipper
// creates a camera directory just before ffmpeg creates the file in it, and
// removing the directory in between would fail that clip.
const emptyDirGrace = time.Minute

// Janitor applies retention to a media directory (clips, snapshots): files
// older than MaxAge go, then the oldest files go until the total size is at
// most MaxBytes. It only ever deletes regular files and empty directories
// below Dir; symbolic links are neither followed nor deleted, and all file
// operations go through an os.Root so that nothing outside Dir can be
// touched even if the tree changes under a sweep.
type Janitor struct {
	Dir      string        // the media directory; itself never removed
	MaxAge   time.Duration // files modified longer ago are removed; 0 means no age limit
	MaxBytes int64         // total size of regular files to stay under; 0 means no size limit
	// MinFree is the free space, in bytes, to keep on the file system
	// holding Dir: below it the oldest files go, whatever their age, so
	// that a disk shared with other data never fills up (0: no watermark).
	// CheckFree reports when even that is not enough.
	MinFree uint64
	// Free reports the free bytes for Dir (default FreeBytes).
	Free func(dir string) (uint64, error)
	// Metrics, when set, counts retention failures and watermark deletes
	// and tracks the free space.
	Metrics *Metrics
	Now     func() time.Time
	Log     *slog.Logger
}

// mediaFile is one regular file found by a sweep.
type mediaFile struct {
	name    string // slash-separated, relative to Dir
	size    int64
	modTime time.Time
}

// Sweep applies retention once and reports how many files it removed and
// how many bytes that freed. It carries on past individual failures and
// returns them joined.
func (j *Janitor) Sweep() (removed int, freed int64, err error) {
	root, err := os.OpenRoot(j.Dir)
	if err != nil {
		return 0, 0, err
	}
	defer root.Close()
	now := j.now()
	files, dirs, errs := scan(root)
	files, removed, freed, errs = j.removeOld(root, files, now, removed, freed, errs)
	files, removed, freed, errs = j.removeOverSize(root, files, removed, freed, errs)
	removed, freed, errs = j.removeUnderWatermark(root, files, removed, freed, errs)
	removeEmptyDirs(root, dirs, now)
	if j.Metrics != nil && len(errs) > 0 {
		j.Metrics.Failures.WithLabelValues("retention").Add(float64(len(errs)))
	}
	if removed > 0 {
		j.log().Info("media retention", "dir", j.Dir, "removed", removed, "freed_bytes", freed)
	}
	return removed, freed, errors.Join(errs...)
}

func (j *Janitor) now() time.Time {
	if j.Now != nil {
		return j.Now()
	}
	return time.Now()
}

func (j *Janitor) log() *slog.Logger {
	if j.Log != nil {
		return j.Log
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// scan lists the regular files and the directories (deepest first, Dir
// itself excluded) below root. fs.WalkDir does not follow symbolic links,
// and a link's entry is not a directory, so a link to elsewhere is skipped.
func scan(root *os.Root) (files, dirs []mediaFile, errs []error) {
	walkErr := fs.WalkDir(root.FS(), ".", func(name string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			errs = append(errs, err)
			return nil // WalkDir skips the unreadable directory and carries on
		case name == "." || !(d.IsDir() || d.Type().IsRegular()):
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			return nil
		}
		mf := mediaFile{name: name, size: info.Size(), modTime: info.ModTime()}
		if d.IsDir() {
			dirs = append(dirs, mf)
		} else {
			files = append(files, mf)
		}
		return nil
	})
	if walkErr != nil {
		errs = append(errs, walkErr)
	}
	// Deepest first, so a directory emptied of subdirectories can go too.
	slices.SortFunc(dirs, func(a, b mediaFile) int {
		return cmp.Compare(strings.Count(b.name, "/"), strings.Count(a.name, "/"))
	})
	return files, dirs, errs
}

// removeOld deletes files older than MaxAge and returns the ones kept.
func (j *Janitor) removeOld(root *os.Root, files []mediaFile, now time.Time,
	removed int, freed int64, errs []error) ([]mediaFile, int, int64, []error) {
	if j.MaxAge <= 0 {
		return files, removed, freed, errs
	}
	cutoff := now.Add(-j.MaxAge)
	kept := files[:0]
	for _, f := range files {
		if !f.modTime.Before(cutoff) {
			kept = append(kept, f)
			continue
		}
		if err := removeFile(root, f.name); err != nil {
			errs = append(errs, err)
			kept = append(kept, f) // still there, still counts towards the size
			continue
		}
		removed++
		freed += f.size
	}
	return kept, removed, freed, errs
}

// removeOverSize deletes the oldest files until the total is at most
// MaxBytes, and returns the files kept, oldest first. Clips still being
// encoded (*.part) are spared: deleting one would only fail the clip, and
// they are new anyway.
func (j *Janitor) removeOverSize(root *os.Root, files []mediaFile,
	removed int, freed int64, errs []error) ([]mediaFile, int, int64, []error) {
	slices.SortFunc(files, func(a, b mediaFile) int {
		return cmp.Or(a.modTime.Compare(b.modTime), cmp.Compare(a.name, b.name))
	})
	if j.MaxBytes <= 0 {
		return files, removed, freed, errs
	}
	var total int64
	for _, f := range files {
		total += f.size
	}
	kept := files[:0]
	for _, f := range files {
		if total <= j.MaxBytes || strings.HasSuffix(f.name, partSuffix) {
			kept = append(kept, f)
			continue
		}
		if err := removeFile(root, f.name); err != nil {
			errs = append(errs, err)
			kept = append(kept, f)
			continue
		}
		removed++
		freed += f.size
		total -= f.size
	}
	return kept, removed, freed, errs
}

// removeUnderWatermark deletes the oldest files (oldest first in files)
// while the file system's free space is below MinFree.
func (j *Janitor) removeUnderWatermark(root *os.Root, files []mediaFile,
	removed int, freed int64, errs []error) (int, int64, []error) {
	if j.MinFree == 0 {
		return removed, freed, errs
	}
	free, err := j.free()
	if err != nil {
		return removed, freed, append(errs, err)
	}
	for _, f := range files {
		if free >= j.MinFree {
			break
		}
		if strings.HasSuffix(f.name, partSuffix) {
			continue
		}
		if err := removeFile(root, f.name); err != nil {
			errs = append(errs, err)
			continue
		}
		removed++
		freed += f.size
		if j.Metrics != nil {
			j.Metrics.WatermarkDeletes.Inc()
		}
		if free, err = j.free(); err != nil {
			return removed, freed, append(errs, err)
		}
	}
	return removed, freed, errs
}

// free is the free space for Dir, also published as a metric.
func (j *Janitor) free() (uint64, error) {
	f := j.Free
	if f == nil {
		f = FreeBytes
	}
	free, err := f(j.Dir)
	if err == nil && j.Metrics != nil {
		j.Metrics.FreeBytes.Set(float64(free))
	}
	return free, err
}

// CheckFree is nil while the media file system has at least MinFree
// bytes free; otherwise it says so, for /readyz. Retention deletes the
// oldest media to get back above the watermark at every sweep; this
// reports when that was not enough (the disk is full of something else).
func (j *Janitor) CheckFree() error {
	if j.MinFree == 0 {
		return nil
	}
	free, err := j.free()
	if err != nil {
		return err
	}
	if free < j.MinFree {
		return fmt.Errorf("the media disk has %d MiB free, below media.min_free_bytes (%d MiB)", free>>20, j.MinFree>>20)
	}
	return nil
}

// removeFile deletes one file, treating one already gone as success (a
// concurrent sweep or an operator got there first).
func removeFile(root *os.Root, name string) error {
	err := root.Remove(filepath.FromSlash(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// removeEmptyDirs removes the directories below root that are empty now
// and had not changed for emptyDirGrace when the sweep began (the sweep's
// own deletions touch them, hence the scan-time check). Removing a
// non-empty directory fails harmlessly, which is the emptiness check: a
// file added meanwhile is never lost.
func removeEmptyDirs(root *os.Root, dirs []mediaFile, now time.Time) {
	for _, d := range dirs {
		if now.Sub(d.modTime) >= emptyDirGrace {
			_ = root.Remove(filepath.FromSlash(d.name))
		}
	}
}

// Run sweeps now and then every interval (a minute if every is not
// positive) until ctx is done; failures are logged, not fatal, since the
// next sweep may well succeed.
func (j *Janitor) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, _, err := j.Sweep(); err != nil {
			j.log().Warn("media retention failed", "dir", j.Dir, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
