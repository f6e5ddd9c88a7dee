package service

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
)

// slowModel takes a fixed time per inference, like a real detector.
type slowModel struct{ d time.Duration }

func (m slowModel) NewInput() []float32                        { return make([]float32, 1) }
func (m slowModel) Prepare(t []float32, f *decode.Frame) error { return nil }
func (m slowModel) Infer(t []float32, w, h int) ([]detect.Detection, error) {
	time.Sleep(m.d)
	return nil, nil
}

// TestPoolIsFair: a camera flooding the pool at 200 fps cannot starve one
// at 5 fps; the flooder loses its own oldest frames instead.
func TestPoolIsFair(t *testing.T) {
	p := NewPool(slowModel{d: 10 * time.Millisecond}, 2)
	var dropped sync.Map
	p.OnDrop = func(cam string, j Job) {
		v, _ := dropped.LoadOrStore(cam, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx)

	busy, quiet := make(chan Result, 8), make(chan Result, 8)
	var gotBusy, gotQuiet atomic.Int64
	go func() {
		for range busy {
			gotBusy.Add(1)
		}
	}()
	go func() {
		for range quiet {
			gotQuiet.Add(1)
		}
	}()
	stop := time.After(time.Second)
	tickBusy, tickQuiet := time.NewTicker(5*time.Millisecond), time.NewTicker(200*time.Millisecond)
	defer tickBusy.Stop()
	defer tickQuiet.Stop()
	sentQuiet := 0
loop:
	for {
		select {
		case <-tickBusy.C:
			p.Submit("busy", Job{Frame: &decode.Frame{}, Done: busy})
		case <-tickQuiet.C:
			p.Submit("quiet", Job{Frame: &decode.Frame{}, Done: quiet})
			sentQuiet++
		case <-stop:
			break loop
		}
	}
	time.Sleep(100 * time.Millisecond)
	require.Equal(t, int64(sentQuiet), gotQuiet.Load(), "every quiet-camera frame is inferred")
	v, ok := dropped.Load("busy")
	require.True(t, ok)
	require.Positive(t, v.(*atomic.Int64).Load(), "the busy camera drops its own frames")
	_, quietDropped := dropped.Load("quiet")
	require.False(t, quietDropped)
	require.Positive(t, gotBusy.Load())
}

func TestPoolForgetDropsPending(t *testing.T) {
	p := NewPool(slowModel{}, 3)
	n := 0
	p.OnDrop = func(string, Job) { n++ }
	done := make(chan Result, 4)
	for i := 0; i < 3; i++ {
		p.Submit("a", Job{Frame: &decode.Frame{}, Done: done})
	}
	require.Equal(t, 3, p.Depth("a"))
	p.Forget("a")
	require.Equal(t, 3, n)
	require.Equal(t, 0, p.Depth("a"))
}
