package media

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sys/unix"
)

// FreeBytes is the space available to this process on the file system
// holding dir.
func FreeBytes(dir string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("free space of %s: %w", dir, err)
	}
	return st.Bavail * uint64(st.Bsize), nil
}

var probeSeq atomic.Int64

// CheckWritable creates, writes, syncs and removes a small file in dir:
// nil when media can be written there. For /readyz: a read-only or full
// media folder would otherwise only show as alerts without evidence.
func CheckWritable(dir string) error {
	name := filepath.Join(dir, ".vigil-write-probe-"+strconv.Itoa(os.Getpid())+"-"+strconv.FormatInt(probeSeq.Add(1), 10))
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("media folder %s is not writable: %w", dir, unwrapPath(err))
	}
	_, err = f.Write([]byte{0})
	if err == nil {
		err = f.Sync()
	}
	err = errors.Join(err, f.Close(), os.Remove(name))
	if err != nil {
		return fmt.Errorf("media folder %s is not writable: %w", dir, unwrapPath(err))
	}
	return nil
}

// unwrapPath drops *PathError's repetition of a path the message names.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Metrics count media failures and expose the free space, so that a
// failing media path is visible rather than a WARN line.
type Metrics struct {
	// Failures counts failed media writes and deletions by kind:
	// snapshot, crop, clip, retention.
	Failures *prometheus.CounterVec
	// FreeBytes is the free space where media are written.
	FreeBytes prometheus.Gauge
	// WatermarkDeletes counts files deleted to get back above the
	// free-space watermark.
	WatermarkDeletes prometheus.Counter
}

// NewMetrics makes the media metrics and registers them with reg (when
// not nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_media_failures_total",
			Help: "Failed media writes and deletions, by kind (snapshot, crop, clip, retention)."}, []string{"kind"}),
		FreeBytes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_media_free_bytes",
			Help: "Free space on the file system holding the media folder."}),
		WatermarkDeletes: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_media_watermark_deletes_total",
			Help: "Media files deleted early to keep free space above media.min_free_bytes."}),
	}
	if reg != nil {
		reg.MustRegister(m.Failures, m.FreeBytes, m.WatermarkDeletes)
	}
	return m
}
