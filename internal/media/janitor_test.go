package media

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var epoch = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// writeFile creates dir/name with size bytes, modified at mtime.
func writeFile(t *testing.T, dir, name string, size int, mtime time.Time) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, make([]byte, size), 0o644))
	require.NoError(t, os.Chtimes(p, mtime, mtime))
	return p
}

// ageDir backdates a directory so the empty-directory grace has passed.
func ageDir(t *testing.T, dir string, mtime time.Time) {
	t.Helper()
	require.NoError(t, os.Chtimes(dir, mtime, mtime))
}

func fixedNow() time.Time { return epoch }

func TestJanitorRemovesOldFiles(t *testing.T) {
	dir := t.TempDir()
	old := writeFile(t, dir, "cam1/clip-1.mp4", 100, epoch.Add(-3*time.Hour))
	oldSnap := writeFile(t, dir, "cam2/snap.jpg", 50, epoch.Add(-25*time.Hour))
	fresh := writeFile(t, dir, "cam1/clip-2.mp4", 70, epoch.Add(-time.Minute))
	j := &Janitor{Dir: dir, MaxAge: 2 * time.Hour, Now: fixedNow}

	removed, freed, err := j.Sweep()
	require.NoError(t, err)
	require.Equal(t, 2, removed)
	require.Equal(t, int64(150), freed)
	require.NoFileExists(t, old)
	require.NoFileExists(t, oldSnap)
	require.FileExists(t, fresh)
}

func TestJanitorRemovesOldestFirstOverSize(t *testing.T) {
	dir := t.TempDir()
	// The digit is the file's age rank: 0 is the oldest.
	for _, name := range []string{"b/4", "a/0", "b/2", "a/3", "a/1"} {
		age := time.Duration(name[2]-'0') * time.Minute
		writeFile(t, dir, name, 100, epoch.Add(-10*time.Minute+age))
	}
	j := &Janitor{Dir: dir, MaxBytes: 250, Now: fixedNow}

	removed, freed, err := j.Sweep()
	require.NoError(t, err)
	require.Equal(t, 3, removed)
	require.Equal(t, int64(300), freed)
	for _, name := range []string{"a/0", "a/1", "b/2"} {
		require.NoFileExists(t, filepath.Join(dir, name))
	}
	for _, name := range []string{"a/3", "b/4"} {
		require.FileExists(t, filepath.Join(dir, name))
	}
	// Under the limit now: a second sweep has nothing to do.
	removed, _, err = j.Sweep()
	require.NoError(t, err)
	require.Zero(t, removed)
}

func TestJanitorAgeThenSize(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "c/old", 1000, epoch.Add(-48*time.Hour))
	writeFile(t, dir, "c/mid", 100, epoch.Add(-2*time.Minute))
	writeFile(t, dir, "c/new", 100, epoch.Add(-time.Minute))
	j := &Janitor{Dir: dir, MaxAge: 24 * time.Hour, MaxBytes: 150, Now: fixedNow}
	removed, freed, err := j.Sweep()
	require.NoError(t, err)
	require.Equal(t, 2, removed)
	require.Equal(t, int64(1100), freed)
	require.FileExists(t, filepath.Join(dir, "c/new"))
}

func TestJanitorSparesPartialClipsWhenOverSize(t *testing.T) {
	dir := t.TempDir()
	part := writeFile(t, dir, "c/clip-1.mp4"+partSuffix, 500, epoch.Add(-time.Hour))
	writeFile(t, dir, "c/clip-0.mp4", 100, epoch.Add(-time.Minute))
	j := &Janitor{Dir: dir, MaxBytes: 10, Now: fixedNow}
	removed, _, err := j.Sweep()
	require.NoError(t, err)
	require.Equal(t, 1, removed)
	require.FileExists(t, part)
}

func TestJanitorNeverLeavesDir(t *testing.T) {
	outside := t.TempDir()
	victim := writeFile(t, outside, "cam/precious.mp4", 1000, epoch.Add(-100*time.Hour))
	victimFile := writeFile(t, outside, "lone.mp4", 1000, epoch.Add(-100*time.Hour))
	ageDir(t, filepath.Join(outside, "cam"), epoch.Add(-100*time.Hour))

	dir := t.TempDir()
	mine := writeFile(t, dir, "cam1/clip-1.mp4", 10, epoch.Add(-100*time.Hour))
	linkDir := filepath.Join(dir, "linked-cam")
	linkFile := filepath.Join(dir, "cam1", "linked.mp4")
	require.NoError(t, os.Symlink(filepath.Join(outside, "cam"), linkDir))
	require.NoError(t, os.Symlink(victimFile, linkFile))
	require.NoError(t, os.Symlink("..", filepath.Join(dir, "up")))

	j := &Janitor{Dir: dir, MaxAge: time.Hour, MaxBytes: 1, Now: fixedNow}
	removed, freed, err := j.Sweep()
	require.NoError(t, err)
	require.Equal(t, 1, removed)
	require.Equal(t, int64(10), freed)
	require.NoFileExists(t, mine)
	require.FileExists(t, victim)
	require.FileExists(t, victimFile)
	for _, l := range []string{linkDir, linkFile} {
		_, err := os.Lstat(l)
		require.NoError(t, err, "symlinks are left alone: %s", l)
	}
	require.DirExists(t, outside)
}

func TestJanitorRemovesEmptyDirectories(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "gone/clip-1.mp4", 10, epoch.Add(-48*time.Hour))
	writeFile(t, dir, "nested/deep/clip-1.mp4", 10, epoch.Add(-48*time.Hour))
	kept := writeFile(t, dir, "kept/clip-2.mp4", 10, epoch)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "idle"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "just-made"), 0o755))
	for _, d := range []string{"gone", "nested/deep", "nested", "kept", "idle"} {
		ageDir(t, filepath.Join(dir, d), epoch.Add(-time.Hour))
	}
	ageDir(t, filepath.Join(dir, "just-made"), epoch.Add(-time.Second))

	j := &Janitor{Dir: dir, MaxAge: 24 * time.Hour, Now: fixedNow}
	removed, _, err := j.Sweep()
	require.NoError(t, err)
	require.Equal(t, 2, removed)
	for _, d := range []string{"gone", "nested", "idle"} {
		require.NoDirExists(t, filepath.Join(dir, d))
	}
	require.DirExists(t, filepath.Join(dir, "just-made"), "a new directory may be about to get a clip")
	require.FileExists(t, kept)
	require.DirExists(t, dir, "Dir itself stays")
}

func TestJanitorMissingDir(t *testing.T) {
	j := &Janitor{Dir: filepath.Join(t.TempDir(), "nope"), MaxAge: time.Hour}
	_, _, err := j.Sweep()
	require.Error(t, err)
}

func TestJanitorNoLimitsRemovesNothing(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, dir, "c/x", 10, time.Unix(0, 0))
	removed, _, err := (&Janitor{Dir: dir}).Sweep()
	require.NoError(t, err)
	require.Zero(t, removed)
	require.FileExists(t, f)
}

func TestJanitorRunSweepsUntilCancelled(t *testing.T) {
	dir := t.TempDir()
	var sweeps atomic.Int32
	j := &Janitor{Dir: dir, MaxAge: time.Hour, Now: func() time.Time {
		sweeps.Add(1)
		return time.Now()
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		j.Run(ctx, 5*time.Millisecond)
	}()
	old := writeFile(t, dir, "c/old", 10, time.Now().Add(-2*time.Hour))
	require.Eventually(t, func() bool {
		_, err := os.Stat(old)
		return os.IsNotExist(err) && sweeps.Load() >= 2
	}, 2*time.Minute, 5*time.Millisecond)
	cancel()
	<-done
}
