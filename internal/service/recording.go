package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-cctv/vigil/internal/analysis"
	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/httpapi"
	"github.com/vigil-cctv/vigil/internal/media"
	"github.com/vigil-cctv/vigil/internal/media/record"
	"github.com/vigil-cctv/vigil/internal/media/segring"
	"github.com/vigil-cctv/vigil/internal/store"
)

// recordings are the cameras' recordings (package record), opened on a
// camera's first run or first clip and kept until the service stops, so a
// stopped camera's video can still be cut.
type recordings struct {
	dir     string // <data_dir>/recordings
	opt     record.Options
	minFree uint64
	free    func(string) (uint64, error)

	mu   sync.Mutex
	open map[string]*record.Recorder

	written  *prometheus.CounterVec // bytes, by camera
	failures *prometheus.CounterVec // by reason
}

func newRecordings(cfg *config.Config, reg prometheus.Registerer) *recordings {
	r := &recordings{dir: filepath.Join(cfg.DataDir, "recordings"), open: map[string]*record.Recorder{},
		opt:     record.Options{Retain: time.Duration(cfg.Media.Recording.Retain), MaxBytes: cfg.Media.Recording.MaxBytes},
		minFree: uint64(max(cfg.Media.MinFreeBytes, 0)), free: media.FreeBytes,
		written: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_recording_written_bytes_total",
			Help: "Compressed video written to the cameras' recordings."}, []string{"camera"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_recording_failures_total",
			Help: "Groups of pictures not recorded, by reason: write (a disk error), disk_low (free space under media.min_free_bytes), queue_full (the disk fell behind)."},
			[]string{"reason"}),
	}
	reg.MustRegister(r.written, r.failures)
	return r
}

// HasVideo reports whether the camera's recording may hold video of
// [from, to] (its files span it; the video itself is read by Video).
func (r *recordings) HasVideo(camera string, from, to time.Time) bool {
	rec, err := r.recorder(camera, false)
	return err == nil && rec.Covers(from, to)
}

// Video cuts the camera's recording from from to to as an MP4; an error
// wrapping store.ErrNotFound means nothing of it was kept.
func (r *recordings) Video(_ context.Context, camera string, from, to time.Time) ([]byte, error) {
	rec, err := r.recorder(camera, false)
	if errors.Is(err, errNoRecording) {
		return nil, fmt.Errorf("camera %s has no recording: %w", camera, store.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	c, err := rec.Clip(from, to)
	if errors.Is(err, record.ErrNoVideo) {
		return nil, fmt.Errorf("%w: %w", err, store.ErrNotFound)
	}
	return c.MP4, err
}

// errNoRecording means a camera has no recording directory.
var errNoRecording = errors.New("no recording")

// recorder returns the camera's recorder, opening it when create is set
// or its directory exists.
func (r *recordings) recorder(camera string, create bool) (*record.Recorder, error) {
	if camera == "" || camera == "." || !filepath.IsLocal(camera) || filepath.Base(camera) != camera {
		return nil, fmt.Errorf("camera id %q cannot name a directory", camera)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if rec := r.open[camera]; rec != nil {
		return rec, nil
	}
	dir := filepath.Join(r.dir, camera)
	if _, err := os.Stat(dir); !create && err != nil {
		return nil, errNoRecording
	}
	rec, err := record.Open(dir, r.opt)
	if err != nil {
		return nil, err
	}
	r.open[camera] = rec
	return rec, nil
}

func (r *recordings) close() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, rec := range r.open {
		_ = rec.Close()
		delete(r.open, id)
	}
}

// camRecording moves one camera's groups of pictures from its ring to its
// recorder. The ring hands them on from the supervisor's goroutine, which
// must not wait for the disk: they queue here, and a full queue loses a
// group (counted) rather than stalls the camera.
type camRecording struct {
	id    string
	recs  *recordings
	rec   *record.Recorder
	queue chan []segring.Spilled
	epoch atomic.Int64 // the chain's clock, Unix ns; 0 until known
	done  chan struct{}
}

// recordQueue is how many batches of groups wait for the disk.
const recordQueue = 32

func (r *recordings) start(camera string, ring *segring.Ring) (*camRecording, error) {
	rec, err := r.recorder(camera, true)
	if err != nil {
		return nil, err
	}
	c := &camRecording{id: camera, recs: r, rec: rec, queue: make(chan []segring.Spilled, recordQueue), done: make(chan struct{})}
	ring.SetSpill(func(s []segring.Spilled) {
		select {
		case c.queue <- s:
		default:
			r.failures.WithLabelValues("queue_full").Add(float64(len(s)))
		}
	})
	return c, nil
}

// setClock tells the recording the camera's clock once the chain knows it:
// recordings are kept on the time track summaries and alerts carry.
func (c *camRecording) setClock(clock analysis.Clock) {
	if c != nil && c.epoch.Load() == 0 && clock.Known() {
		c.epoch.Store(clock.Epoch.UnixNano())
	}
}

// run writes what the ring hands on until stop; groups that arrive before
// the camera's clock is known wait for it (a few, bounded by the queue).
func (c *camRecording) run() {
	defer close(c.done)
	var waiting []segring.Spilled
	for batch := range c.queue {
		waiting = append(waiting, batch...)
		epoch := c.epoch.Load()
		if epoch == 0 {
			if len(waiting) > recordQueue {
				c.recs.failures.WithLabelValues("queue_full").Inc()
				waiting = waiting[1:]
			}
			continue
		}
		for _, s := range waiting {
			c.write(time.Unix(0, epoch), s)
		}
		waiting = waiting[:0]
	}
}

func (c *camRecording) write(epoch time.Time, s segring.Spilled) {
	if free, err := c.recs.free(c.recs.dir); err == nil && free < c.recs.minFree {
		c.recs.failures.WithLabelValues("disk_low").Inc()
		return
	}
	first := s.AUs[0].DTS
	g := record.GOP{Start: epoch.Add(s.Offset + first), AUs: make([]decode.AccessUnit, len(s.AUs))}
	for i, au := range s.AUs {
		au.PTS -= first
		au.DTS -= first
		g.AUs[i] = au
	}
	if err := c.rec.Write(g); err != nil {
		c.recs.failures.WithLabelValues("write").Inc()
		return
	}
	c.recs.written.WithLabelValues(c.id).Add(float64(g.Bytes()))
}

// stop flushes the ring (the camera's reader has stopped) and waits for
// the queue to be written.
func (c *camRecording) stop(ring *segring.Ring) {
	if c == nil {
		return
	}
	ring.SetSpill(func(s []segring.Spilled) { c.queue <- s }) // the writer is still reading
	ring.Flush()
	close(c.queue)
	<-c.done
}

// recordingsAPI is what the API reads of the recordings; nil when off.
func (s *Service) recordingsAPI() httpapi.Recordings {
	if s.recs == nil {
		return nil
	}
	return s.recs
}
