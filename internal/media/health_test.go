package media

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

// diskOf fakes a small disk of capacity bytes that holds only dir's files.
func diskOf(capacity int64) func(string) (uint64, error) {
	return func(dir string) (uint64, error) {
		var used int64
		err := filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
			if err == nil && info.Mode().IsRegular() {
				used += info.Size()
			}
			return err
		})
		return uint64(max(0, capacity-used)), err
	}
}

// Issue 16 item 7: the janitor had no free-space watermark.
func TestJanitorKeepsFreeSpaceAboveWatermark(t *testing.T) {
	dir := t.TempDir()
	for i, name := range []string{"a/0", "b/1", "a/2", "b/3", "a/4"} {
		writeFile(t, dir, name, 180, epoch.Add(time.Duration(i-10)*time.Minute))
	}
	writeFile(t, dir, "a/5.mp4.part", 50, epoch.Add(-20*time.Minute)) // a clip being encoded
	m := NewMetrics(prometheus.NewRegistry())
	j := &Janitor{Dir: dir, MinFree: 300, Free: diskOf(1000), Metrics: m, Now: fixedNow}
	require.ErrorContains(t, j.CheckFree(), "below media.min_free_bytes")

	removed, freed, err := j.Sweep()
	require.NoError(t, err)
	require.Equal(t, 2, removed, "the two oldest go: 50 free → 410")
	require.EqualValues(t, 360, freed)
	require.NoFileExists(t, filepath.Join(dir, "a/0"))
	require.NoFileExists(t, filepath.Join(dir, "b/1"))
	require.FileExists(t, filepath.Join(dir, "a/2"))
	require.FileExists(t, filepath.Join(dir, "a/5.mp4.part"), "clips in progress are spared")
	require.NoError(t, j.CheckFree())
	require.Equal(t, 2.0, testutil.ToFloat64(m.WatermarkDeletes))
	require.Equal(t, 410.0, testutil.ToFloat64(m.FreeBytes))

	// When deleting every finished file is not enough, /readyz says so.
	j.MinFree = 990
	_, _, err = j.Sweep()
	require.NoError(t, err)
	require.ErrorContains(t, j.CheckFree(), "the media disk has 0 MiB free")
	require.FileExists(t, filepath.Join(dir, "a/5.mp4.part"))
}

// Issue 16 item 7: /readyz stayed ready with a read-only media folder.
func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, CheckWritable(dir))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries, "the probe file is removed")
	err = CheckWritable(filepath.Join(dir, "missing"))
	require.ErrorContains(t, err, "is not writable: no such file or directory")
	require.Error(t, CheckWritable("/proc"), "a folder even root cannot create files in")
	if os.Geteuid() != 0 { // root writes through permissions
		require.NoError(t, os.Chmod(dir, 0o500))
		defer os.Chmod(dir, 0o700)
		require.ErrorContains(t, CheckWritable(dir), "permission denied")
	}
	free, err := FreeBytes(dir)
	require.NoError(t, err)
	require.Positive(t, free)
}
