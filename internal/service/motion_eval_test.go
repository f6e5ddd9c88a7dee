package service

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/output"
)

// TestMotionCueOnFootage is a measurement, not a regression test (make
// eval-motion runs it): it loops real footage with the pipeline's tracks
// for an hour of stream time and counts motion alerts after the warm-up.
// VIGIL_MOTION_INPUT is the video or image directory, VIGIL_MOTION_TRACKS
// its JSON lines from analyze --jsonl (same frames).
func TestMotionCueOnFootage(t *testing.T) {
	in, tracksFile := os.Getenv("VIGIL_MOTION_INPUT"), os.Getenv("VIGIL_MOTION_TRACKS")
	if in == "" || tracksFile == "" {
		t.Skip("set VIGIL_MOTION_INPUT and VIGIL_MOTION_TRACKS (make eval-motion) to measure the motion cue on footage")
	}
	recs, err := output.ReadRecordsFile(tracksFile)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	src, err := decode.Open(ctx, in, decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := src.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var frames []*decode.Frame
	for f := range ch {
		frames = append(frames, f)
	}
	_ = src.Wait()
	t.Logf("%d frames, %d records", len(frames), len(recs))
	step := frames[1].PTS - frames[0].PTS
	span := time.Duration(len(frames)) * step
	cue := newMotionCue(frames[0].Width, frames[0].Height, 5*time.Minute)
	loops := int(time.Hour/span) + 1
	alerts := 0
	start := time.Now()
	warm := 5 * time.Minute
	for l := 0; l < loops; l++ {
		for i, f := range frames {
			g := *f
			g.PTS = time.Duration(l)*span + f.PTS
			var tr = recs[min(i, len(recs)-1)].TrackList()
			if ev, ok := cue.observe(&g, tr, nil); ok && g.PTS >= warm {
				alerts++
				t.Logf("loop %d frame %d: %s", l, i, ev.Explanation)
			}
		}
	}
	hours := (time.Duration(loops)*span - warm).Hours()
	t.Logf("motion cue: %d alerts in %.2f h after a 5 min warm-up (%.2f per camera-hour), %.1f ms/frame", alerts, hours,
		float64(alerts)/hours, float64(time.Since(start).Milliseconds())/float64(loops*len(frames)))
}
