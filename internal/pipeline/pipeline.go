// Package pipeline runs one source through the analysis chain: decode →
// letterbox → inference → analysis.Chain (tracking, rules, baseline) →
// outputs, each stage in its own goroutine joined by small bounded
// channels, so that decoding, analysis and writing overlap with inference
// instead of adding to it.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-cctv/vigil/internal/analysis"
	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
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

// Result is everything the chain made of one frame.
type Result struct {
	analysis.Output
}

// Sink consumes results in frame order. Close flushes; it is called once
// even when the run fails, so results up to the failure are kept.
type Sink interface {
	Write(r *Result) error
	Close() error
}

// Ender is a Sink that also takes the chain's output at the end of the
// stream (the events pending on tracks still open), before Close.
type Ender interface {
	End(r *Result) error
}

// Stats are running counters, readable while the pipeline runs.
type Stats struct {
	Frames      atomic.Int64
	Detections  atomic.Int64
	TrackNanos  atomic.Int64 // time in the analysis chain
	InferNanos  atomic.Int64
	PrepareNano atomic.Int64
	LastPTS     atomic.Int64
}

// Pipeline wires one source to a detector, the analysis chain and sinks.
type Pipeline struct {
	src   Source
	det   Detector
	chain *analysis.Chain
	sinks []Sink
	Stats Stats
}

// New builds a pipeline around chain.
func New(src Source, det Detector, chain *analysis.Chain, sinks []Sink) *Pipeline {
	return &Pipeline{src: src, det: det, chain: chain, sinks: sinks}
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
		return errors.Join(err, p.end(), p.closeSinks())
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
	return errors.Join(stageErr.err, p.end(), p.closeSinks())
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

// consume analyses and writes in frame order on the caller's goroutine,
// and ends the stream in the chain after the last frame, even a failed run.
func (p *Pipeline) consume(in <-chan inferred) error {
	for it := range in {
		start := time.Now()
		out := p.chain.Step(it.frame, it.dets)
		p.Stats.TrackNanos.Add(int64(time.Since(start)))
		if out.Stale {
			continue
		}
		if err := p.write(&Result{Output: out}); err != nil {
			return fmt.Errorf("frame %d: %w", it.frame.Index, err)
		}
		p.Stats.Frames.Add(1)
		p.Stats.Detections.Add(int64(len(out.Detections)))
		p.Stats.LastPTS.Store(int64(it.frame.PTS))
	}
	return nil
}

func (p *Pipeline) write(r *Result) error {
	for _, s := range p.sinks {
		if err := s.Write(r); err != nil {
			return err
		}
	}
	return nil
}

// end hands the chain's end-of-stream output to the sinks that want it.
func (p *Pipeline) end() error {
	r := &Result{Output: p.chain.Close()}
	var errs []error
	for _, s := range p.sinks {
		if e, ok := s.(Ender); ok {
			errs = append(errs, e.End(r))
		}
	}
	return errors.Join(errs...)
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
