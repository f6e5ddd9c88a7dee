package service

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/analysis"
	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/media/segring"
	"github.com/vigil-cctv/vigil/internal/store"
)

// An RTSP camera's video is recorded as it came, on the camera's clock:
// any span of it — a track that raised no alert — is cut afterwards, also
// once the camera has stopped.
func TestRTSPCameraIsRecorded(t *testing.T) {
	srv := rtspVtest(t)
	dir := t.TempDir()
	cfg := &config.Config{DataDir: dir}
	cfg.Media.Recording = config.Recording{Retain: config.Duration(time.Hour), MaxBytes: 1 << 30}
	recs := newRecordings(cfg, prometheus.NewRegistry())
	defer recs.close()
	p := &processor{id: "cam", sinks: Sinks{PreRoll: 3 * time.Second, PostRoll: 3 * time.Second, Log: slog.New(slog.DiscardHandler)}}
	p.useSegRing()
	var err error
	p.rec, err = recs.start("cam", p.seg)
	require.NoError(t, err)
	go p.rec.run()

	epoch := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	_, frames, stop := supervise(srv, p)
	for f := range frames {
		p.rec.setClock(analysis.Clock{Epoch: epoch}) // as the chain does on its first frame
		if f.PTS >= 8*time.Second {
			break
		}
	}
	go func() {
		for range frames { // until the supervisor has stopped
		}
	}()
	stop()
	p.rec.stop(p.seg)

	require.True(t, recs.HasVideo("cam", epoch.Add(2*time.Second), epoch.Add(5*time.Second)))
	require.False(t, recs.HasVideo("cam", epoch.Add(time.Hour), epoch.Add(time.Hour+time.Second)))
	require.False(t, recs.HasVideo("other", epoch, epoch.Add(time.Second)))
	mp4, err := recs.Video(context.Background(), "cam", epoch.Add(2*time.Second), epoch.Add(5*time.Second))
	require.NoError(t, err)
	clip := filepath.Join(dir, "track.mp4")
	require.NoError(t, os.WriteFile(clip, mp4, 0o644))
	n := probeH264(t, clip)
	// 3 s at 25 fps, plus up to one key interval (1 s) before the start.
	require.GreaterOrEqual(t, n, 3*25-1, "pictures in the clip")
	require.LessOrEqual(t, n, 4*25+1, "pictures in the clip")
	require.Positive(t, testutil.ToFloat64(recs.written.WithLabelValues("cam")))
	require.Zero(t, testutil.CollectAndCount(recs.failures))

	_, err = recs.Video(context.Background(), "cam", epoch.Add(time.Hour), epoch.Add(time.Hour+time.Second))
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = recs.Video(context.Background(), "other", epoch, epoch.Add(time.Second))
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = recs.Video(context.Background(), "../cam", epoch, epoch.Add(time.Second))
	require.ErrorContains(t, err, "cannot name a directory")
}

// While the disk has less free space than media.min_free_bytes, the
// recording pauses (counted) so that alert evidence keeps the room.
func TestRecordingPausesOnALowDisk(t *testing.T) {
	cfg := &config.Config{DataDir: t.TempDir()}
	cfg.Media.MinFreeBytes = 1 << 30
	cfg.Media.Recording = config.Recording{Retain: config.Duration(time.Hour), MaxBytes: 1 << 30}
	recs := newRecordings(cfg, prometheus.NewRegistry())
	defer recs.close()
	recs.free = func(string) (uint64, error) { return 1 << 20, nil }
	rec, err := recs.recorder("cam", true)
	require.NoError(t, err)
	c := &camRecording{id: "cam", recs: recs, rec: rec}
	c.write(time.Unix(0, 0), testSpill())
	require.Equal(t, 1.0, testutil.ToFloat64(recs.failures.WithLabelValues("disk_low")))
	require.Zero(t, rec.Stats().Bytes)
	recs.free = func(string) (uint64, error) { return 2 << 30, nil }
	c.write(time.Unix(0, 0), testSpill())
	require.Positive(t, rec.Stats().Bytes)
}

func testSpill() segring.Spilled {
	return segring.Spilled{AUs: []decode.AccessUnit{{Key: true, NALUs: [][]byte{{0x67, 1}, {0x68, 2}, {0x65, 3}}}}}
}
