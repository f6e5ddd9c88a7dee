// Package pipeline runs the perception chain for one source: decode →
// letterbox → inference → tracking → outputs, each stage in its own
// goroutine joined by small bounded channels, so that decoding, tracking
// and writing overlap with inference instead of adding to it.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/track"
)

// Source yields frames; *decode.Source satisfies it.
type Source interface {
	Start(ctx context.Context) (<-chan *decode.Frame, error)
	Wait() error
}

// Prepared is a frame made ready for inference by a Detector.
type Prepared struct {
	Frame  *decode.Frame
	Tensor []float32
}

// Detector finds objects. Prepare and Infer run in different goroutines,
// so Prepare for frame N+1 overlaps Infer for frame N.
type Detector interface {
	Prepare(f *decode.Frame) (Prepared, error)
	Infer(p Prepared) ([]detect.Detection, error)
}

// Result is everything known about one frame after tracking.
type Result struct {
	Frame      *decode.Frame
	Detections []detect.Detection
	Tracks     []track.Track
}

// Sink consumes results in frame order. Close flushes; it is called once
// even when the run fails, so results up to the failure are kept.
type Sink interface {
	Write(r *Result) error
	Close() error
}

// Config selects what is tracked.
type Config struct {
	Classes detect.ClassSet
	Track   track.Config
	// Tracker replaces the ByteTrack tracker built from Track, e.g. to
	// replay tracks from a file.
	Tracker Tracker
}

// Tracker turns a frame's detections into tracks.
type Tracker interface {
	Update(f *decode.Frame, dets []detect.Detection) []track.Track
}

// byteTrack adapts *track.Tracker, which needs only the detections.
type byteTrack struct{ t *track.Tracker }

func (b byteTrack) Update(_ *decode.Frame, dets []detect.Detection) []track.Track {
	return b.t.Update(dets)
}

// Stats are running counters, readable while the pipeline runs.
type Stats struct {
	Frames      atomic.Int64
	Detections  atomic.Int64
	TrackNanos  atomic.Int64
	InferNanos  atomic.Int64
	PrepareNano atomic.Int64
	LastPTS     atomic.Int64
}

// Pipeline wires one source to a detector, a tracker and sinks.
type Pipeline struct {
	src     Source
	det     Detector
	tracker Tracker
	sinks   []Sink
	cfg     Config
	Stats   Stats
}

// New builds a pipeline; unless cfg.Tracker is set, the tracker is
// ByteTrack configured by cfg.Track.
func New(src Source, det Detector, sinks []Sink, cfg Config) (*Pipeline, error) {
	tr := cfg.Tracker
	if tr == nil {
		bt, err := track.New(cfg.Track)
		if err != nil {
			return nil, fmt.Errorf("tracker: %w", err)
		}
		tr = byteTrack{bt}
	}
	return &Pipeline{src: src, det: det, tracker: tr, sinks: sinks, cfg: cfg}, nil
}

type inferred struct {
	frame *decode.Frame
	dets  []detect.Detection
}

// Run processes the source to its end. The error names the first failure;
// sinks are closed in every case so completed frames stay written.
func (p *Pipeline) Run(ctx context.Context) (err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	frames, err := p.src.Start(ctx)
	if err != nil {
		return errors.Join(err, p.closeSinks())
	}
	prepared := make(chan Prepared, 2)
	detected := make(chan inferred, 4)
	var stageErr firstError
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); stageErr.set(p.prepare(ctx, frames, prepared), cancel) }()
	go func() { defer wg.Done(); stageErr.set(p.infer(ctx, prepared, detected), cancel) }()
	stageErr.set(p.consume(detected), cancel)
	cancel()
	for range detected {
	}
	wg.Wait()
	srcErr := p.src.Wait()
	if stageErr.err == nil && !errors.Is(srcErr, context.Canceled) {
		stageErr.err = srcErr
	}
	if stageErr.err == nil && ctx.Err() != nil && srcErr != nil {
		stageErr.err = srcErr
	}
	return errors.Join(stageErr.err, p.closeSinks())
}

func (p *Pipeline) prepare(ctx context.Context, in <-chan *decode.Frame, out chan<- Prepared) error {
	defer close(out)
	defer drain(in)
	for f := range in {
		start := time.Now()
		pr, err := p.det.Prepare(f)
		if err != nil {
			return fmt.Errorf("frame %d: %w", f.Index, err)
		}
		p.Stats.PrepareNano.Add(int64(time.Since(start)))
		select {
		case out <- pr:
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

func (p *Pipeline) infer(ctx context.Context, in <-chan Prepared, out chan<- inferred) error {
	defer close(out)
	defer drain(in)
	for pr := range in {
		start := time.Now()
		dets, err := p.det.Infer(pr)
		if err != nil {
			return fmt.Errorf("frame %d: %w", pr.Frame.Index, err)
		}
		p.Stats.InferNanos.Add(int64(time.Since(start)))
		select {
		case out <- inferred{frame: pr.Frame, dets: dets}:
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

// consume tracks and writes in frame order on the caller's goroutine.
func (p *Pipeline) consume(in <-chan inferred) error {
	for it := range in {
		dets := p.filter(it.dets)
		start := time.Now()
		tracks := p.tracker.Update(it.frame, dets)
		p.Stats.TrackNanos.Add(int64(time.Since(start)))
		r := &Result{Frame: it.frame, Detections: dets, Tracks: tracks}
		for _, s := range p.sinks {
			if err := s.Write(r); err != nil {
				return fmt.Errorf("frame %d: %w", it.frame.Index, err)
			}
		}
		p.Stats.Frames.Add(1)
		p.Stats.Detections.Add(int64(len(dets)))
		p.Stats.LastPTS.Store(int64(it.frame.PTS))
	}
	return nil
}

func (p *Pipeline) filter(dets []detect.Detection) []detect.Detection {
	out := dets[:0]
	for _, d := range dets {
		if p.cfg.Classes.Allows(d.Class) {
			out = append(out, d)
		}
	}
	return out
}

func (p *Pipeline) closeSinks() error {
	var errs []error
	for _, s := range p.sinks {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

func drain[T any](ch <-chan T) {
	for range ch {
	}
}

// firstError keeps the first failure and cancels the run on it.
type firstError struct {
	mu  sync.Mutex
	err error
}

func (f *firstError) set(err error, cancel context.CancelFunc) {
	if err == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
		cancel()
	}
}
