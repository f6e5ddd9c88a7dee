package segring

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/media"
	"github.com/vigil-cctv/vigil/internal/media/segring/segringtest"
)

const vtest = segringtest.Vtest

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func pictures(t testing.TB) []decode.AccessUnit { return segringtest.Pictures(t) }

type probed struct {
	Streams []struct {
		Codec  string `json:"codec_name"`
		Frames string `json:"nb_read_frames"`
	} `json:"streams"`
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
}

func probe(t *testing.T, path string) (codec string, frames int, dur float64) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-show_entries", "stream=codec_name,nb_read_frames:format=duration", "-of", "json", path).Output()
	require.NoError(t, err)
	var p probed
	require.NoError(t, json.Unmarshal(out, &p))
	require.Len(t, p.Streams, 1)
	frames, _ = strconv.Atoi(p.Streams[0].Frames)
	dur, _ = strconv.ParseFloat(p.Format.Duration, 64)
	return p.Streams[0].Codec, frames, dur
}

// offset is where the supervisor's continuous time puts source time 0.
const offset = 100 * time.Second

func feed(r *Ring, session int, aus []decode.AccessUnit) {
	for _, au := range aus {
		r.WriteAU(session, au)
		r.Map(session, au.PTS, au.PTS+offset)
	}
}

// A clip 3 s before and 3 s after an alert is cut from the ring without
// re-encoding: same codec, every picture of the range at the stream's own
// rate, starting on the key picture at or before the pre-roll.
func TestCutThreeSecondsEitherSide(t *testing.T) {
	aus := pictures(t)
	r := New(10*time.Second, 64<<20)
	alert := offset + 4100*time.Millisecond
	feed(r, 1, aus[:100]) // up to 4 s: the post-roll is still to come
	type result struct {
		c   Clip
		err error
	}
	done := make(chan result, 1)
	dst := filepath.Join(t.TempDir(), "cam", "clip-1.mp4")
	go func() {
		c, err := r.Cut(context.Background(), alert-3*time.Second, alert+3*time.Second, dst)
		done <- result{c, err}
	}()
	select {
	case <-done:
		t.Fatal("Cut returned before the post-roll had arrived")
	default:
	}
	feed(r, 1, aus[100:])
	res := <-done
	require.NoError(t, res.err)
	c := res.c
	require.Equal(t, offset+1*time.Second, c.Start, "the key picture at or before the pre-roll")
	require.Equal(t, alert+3*time.Second-20*time.Millisecond, c.End)
	require.Equal(t, 153, c.Pictures) // 1.00 s … 7.08 s at 25 fps
	codec, frames, dur := probe(t, dst)
	require.Equal(t, "h264", codec)
	require.Equal(t, 153, frames)
	require.InDelta(t, 6.12, dur, 0.05)
	require.NoError(t, exec.Command("ffmpeg", "-v", "error", "-xerror", "-i", dst, "-f", "null", "-").Run(), "decodes without error")
	_, err := os.Stat(dst + ".part")
	require.True(t, os.IsNotExist(err))
}

func TestRingIsBoundedByAgeAndBytes(t *testing.T) {
	aus := pictures(t)
	r := New(3*time.Second, 64<<20)
	feed(r, 1, aus)
	st := r.Stats()
	require.LessOrEqual(t, st.Span, 3*time.Second)
	require.GreaterOrEqual(t, st.Span, 2*time.Second, "whole groups of pictures go, one second each")

	small := New(time.Hour, 200<<10)
	feed(small, 1, aus)
	require.LessOrEqual(t, small.Stats().Bytes, int64(200<<10)+maxGOPBytes(aus))
	require.Positive(t, small.Stats().Pictures)
}

func maxGOPBytes(aus []decode.AccessUnit) int64 {
	var best, cur int64
	for _, au := range aus {
		if au.Key {
			cur = 0
		}
		for _, n := range au.NALUs {
			cur += int64(len(n)) + 4
		}
		best = max(best, cur)
	}
	return best
}

// A reconnect (new session) ends the wait for a post-roll that the old
// stream will never deliver; the clip has what there was.
func TestNewSessionEndsTheWait(t *testing.T) {
	aus := pictures(t)
	r := New(20*time.Second, 64<<20)
	feed(r, 1, aus[:75]) // 3 s
	done := make(chan error, 1)
	dst := filepath.Join(t.TempDir(), "clip.mp4")
	go func() {
		_, err := r.Cut(context.Background(), offset, offset+6*time.Second, dst)
		done <- err
	}()
	for _, au := range aus[:30] {
		r.WriteAU(2, au) // session 2, not yet mapped
	}
	require.NoError(t, <-done)
	_, frames, _ := probe(t, dst)
	require.Equal(t, 75, frames)
}

func TestCutOutsideTheRingIsNoVideo(t *testing.T) {
	aus := pictures(t)
	r := New(20*time.Second, 64<<20)
	feed(r, 1, aus[:50])
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := r.Cut(ctx, offset+time.Hour, offset+time.Hour+time.Second, filepath.Join(t.TempDir(), "x.mp4"))
	require.ErrorIs(t, err, ErrNoVideo)
	// Pictures before the first key picture are never kept.
	r2 := New(time.Minute, 64<<20)
	r2.WriteAU(1, aus[1])
	require.Zero(t, r2.Stats().Pictures)
}

// A step back in source time (a camera resetting its clock) starts a new
// epoch with its own mapping; a cut takes the epoch covering the range.
func TestStepBackStartsANewEpoch(t *testing.T) {
	aus := pictures(t)
	r := New(time.Minute, 64<<20)
	feed(r, 1, aus[:50])
	for _, au := range aus[:50] {
		r.WriteAU(1, au)
		r.Map(1, au.PTS, au.PTS+offset+2*time.Second)
	}
	require.Len(t, r.epochs, 2)
	c, err := r.Cut(context.Background(), offset+2*time.Second, offset+3900*time.Millisecond, filepath.Join(t.TempDir(), "y.mp4"))
	require.NoError(t, err)
	require.Equal(t, offset+2*time.Second, c.Start)
	require.Equal(t, 48, c.Pictures)
}

// cpuChildren is the CPU time used by waited-for child processes (ffmpeg).
func cpuChildren() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func cpuSelf() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAlertClip measures the CPU one alert clip costs (3 s either
// side of the alert, vtest.avi 768×576): "encode" is today's media.Clipper
// (the 5 fps analysed frames, x264 veryfast by ffmpeg), "copy" this ring
// (every 25 fps picture as received, written as MP4 in Go).
func BenchmarkAlertClip(b *testing.B) {
	aus := pictures(b)
	b.Run("encode", func(b *testing.B) {
		frames := decodedFrames(b, 5, 30)
		dir := b.TempDir()
		child, self := cpuChildren(), cpuSelf()
		for i := 0; b.Loop(); i++ {
			c := media.NewClipper(dir, 5, 3*time.Second, 3*time.Second, nil)
			ring := media.NewRing(10*time.Second, 1<<30)
			for _, f := range frames[:16] {
				ring.Add(f)
			}
			c.Start(context.Background(), "cam", int64(i), frames[15].PTS, ring)
			for _, f := range frames[16:] {
				c.Add("cam", f)
			}
			_ = c.Close()
			if c.Stats().Written != 1 {
				b.Fatal("clip not written")
			}
		}
		report(b, child, self)
	})
	b.Run("copy", func(b *testing.B) {
		r := New(10*time.Second, 64<<20)
		feed(r, 1, aus)
		dir := b.TempDir()
		child, self := cpuChildren(), cpuSelf()
		for i := 0; b.Loop(); i++ {
			if _, err := r.Cut(context.Background(), offset+time.Second, offset+7*time.Second, filepath.Join(dir, strconv.Itoa(i)+".mp4")); err != nil {
				b.Fatal(err)
			}
		}
		report(b, child, self)
	})
}

func report(b *testing.B, child, self time.Duration) {
	n := float64(b.N)
	b.ReportMetric(float64((cpuChildren()-child).Milliseconds())/n, "ffmpeg-cpu-ms/clip")
	b.ReportMetric(float64((cpuSelf()-self).Milliseconds())/n, "go-cpu-ms/clip")
}

// decodedFrames are n frames of vtest.avi at fps, as the analysis sees them.
func decodedFrames(b *testing.B, fps float64, n int) []*decode.Frame {
	ctx := context.Background()
	src, err := decode.Open(ctx, vtest, decode.Options{FPS: fps, MaxFrames: n})
	require.NoError(b, err)
	ch, err := src.Start(ctx)
	require.NoError(b, err)
	var out []*decode.Frame
	for f := range ch {
		out = append(out, f)
	}
	require.NoError(b, src.Wait())
	return out
}

// Every group of pictures reaches the spill once, complete, in order, with
// the offset of its time line; Flush hands on the last one.
func TestSpillHandsOnEachGroupOnce(t *testing.T) {
	aus := pictures(t)
	r := New(3*time.Second, 64<<20) // smaller than the video: spilled groups are evicted later
	var got []Spilled
	r.SetSpill(func(s []Spilled) { got = append(got, s...) })
	feed(r, 1, aus)
	require.Len(t, got, 7, "8 groups of 25 pictures; the newest is not complete yet")
	r.Flush()
	require.Len(t, got, 8)
	r.Flush()
	require.Len(t, got, 8, "nothing twice")
	var all []decode.AccessUnit
	for _, s := range got {
		require.Equal(t, offset, s.Offset)
		require.True(t, s.AUs[0].Key)
		all = append(all, s.AUs...)
	}
	require.Equal(t, aus, all)
}

// A group is not spilled before its time line is known: Map comes after
// the decoder, behind the compressed pictures.
func TestSpillWaitsForTheMapping(t *testing.T) {
	aus := pictures(t)
	r := New(10*time.Second, 64<<20)
	var got []Spilled
	r.SetSpill(func(s []Spilled) { got = append(got, s...) })
	for _, au := range aus[:60] {
		r.WriteAU(1, au)
	}
	r.Flush()
	require.Empty(t, got, "nothing decoded: no continuous time")
	r.Map(1, aus[0].PTS, offset)
	require.Len(t, got, 2, "the two complete groups")
}
