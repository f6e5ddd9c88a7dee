package cli

import (
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/vigil-cctv/vigil/internal/pipeline"
)

// isTerminal reports whether f is a character device (an interactive
// terminal), without a terminal library.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// startProgress shows a bar on a terminal (frames, fps, ETA) and periodic
// log lines otherwise; the returned func stops it.
func startProgress(e *env, mode, name string, total int, st *pipeline.Stats) func() {
	if mode == "auto" {
		mode = "log"
		if f, ok := e.stdout.(*os.File); ok && isTerminal(f) {
			mode = "bar"
		}
	}
	switch mode {
	case "bar":
		return progressBar(e, name, total, st)
	case "log":
		return progressLog(e, name, total, st)
	}
	return func() {}
}

func progressBar(e *env, name string, total int, st *pipeline.Stats) func() {
	p := mpb.New(mpb.WithOutput(e.stdout), mpb.WithRefreshRate(200*time.Millisecond))
	bar := p.AddBar(int64(total),
		mpb.PrependDecorators(decor.Name(shorten(name, 32)+" "), decor.CountersNoUnit("%d/%d frames")),
		mpb.AppendDecorators(decor.AverageSpeed(0, " %.1f fps"), decor.Name("  ETA "), decor.AverageETA(decor.ET_STYLE_MMSS)))
	return ticker(200*time.Millisecond, func(final bool) {
		n := st.Frames.Load()
		if total == 0 {
			bar.SetTotal(n+1, false)
		}
		bar.EwmaSetCurrent(n, 200*time.Millisecond)
		if final {
			bar.SetTotal(n, true)
			p.Wait()
		}
	})
}

func progressLog(e *env, name string, total int, st *pipeline.Stats) func() {
	start := time.Now()
	return ticker(10*time.Second, func(final bool) {
		if final {
			return
		}
		n := st.Frames.Load()
		fps := float64(n) / time.Since(start).Seconds()
		args := []any{"input", name, "frames", n, "fps", fmt.Sprintf("%.1f", fps)}
		if total > 0 && fps > 0 {
			args = append(args, "total", total, "eta", time.Duration(float64(total-int(n))/fps*float64(time.Second)).Round(time.Second))
		}
		e.log.Info("progress", args...)
	})
}

// ticker calls fn every period until stopped, then once more with final.
func ticker(period time.Duration, fn func(final bool)) func() {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				fn(false)
			case <-done:
				fn(true)
				return
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n+1:]
}
