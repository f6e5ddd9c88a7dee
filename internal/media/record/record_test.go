package record

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"pgregory.net/rapid"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/media/segring/segringtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// base is the camera-clock time of the first picture.
var base = time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)

// gops cuts access units into groups at key pictures, on base's clock.
func gops(aus []decode.AccessUnit) []GOP {
	var out []GOP
	for _, au := range aus {
		if au.Key || len(out) == 0 {
			out = append(out, GOP{Start: base.Add(au.DTS)})
		}
		g := &out[len(out)-1]
		first := g.Start.Sub(base)
		au.PTS -= first
		au.DTS -= first
		g.AUs = append(g.AUs, au)
	}
	return out
}

func record(t *testing.T, dir string, opt Options, gs []GOP) *Recorder {
	t.Helper()
	r, err := Open(dir, opt)
	require.NoError(t, err)
	for _, g := range gs {
		require.NoError(t, r.Write(g))
	}
	return r
}

func probeFrames(t *testing.T, data []byte) (codec string, frames int) {
	t.Helper()
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Skip("ffprobe not on PATH")
	}
	f := filepath.Join(t.TempDir(), "clip.mp4")
	require.NoError(t, os.WriteFile(f, data, 0o644))
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=codec_name,nb_read_frames", "-of", "csv=p=0", f).Output()
	require.NoError(t, err)
	codec, n, _ := strings.Cut(strings.TrimSpace(string(out)), ",")
	frames, err = strconv.Atoi(n)
	require.NoError(t, err)
	return codec, frames
}

// A clip spanning several files starts on the key picture at or before
// its start, ends at the last picture due by its end, plays as H.264 with
// every picture, and is the same after the recorder is reopened.
func TestClipAcrossFilesAndRestarts(t *testing.T) {
	gs := gops(segringtest.Pictures(t)) // 8 groups of 1 s
	dir := t.TempDir()
	r := record(t, dir, Options{Segment: 3 * time.Second}, gs)
	st := r.Stats()
	require.Equal(t, 3, st.Files, "1 s groups, a file every 3 s: 3 + 3 + 2")
	require.Equal(t, base, st.Oldest)
	require.Equal(t, base.Add(7960*time.Millisecond), st.Newest)

	from, to := base.Add(2500*time.Millisecond), base.Add(5500*time.Millisecond)
	c, err := r.Clip(from, to)
	require.NoError(t, err)
	require.Equal(t, base.Add(2*time.Second), c.Start, "the key picture at or before the start")
	require.Equal(t, base.Add(5480*time.Millisecond), c.End)
	require.Equal(t, 88, c.Pictures) // 2.00 … 5.48 s at 25 fps
	codec, frames := probeFrames(t, c.MP4)
	require.Equal(t, "h264", codec)
	require.Equal(t, 88, frames)
	require.NoError(t, r.Close())

	again, err := Open(dir, Options{Segment: 3 * time.Second})
	require.NoError(t, err)
	defer again.Close()
	require.Equal(t, st, again.Stats())
	c2, err := again.Clip(from, to)
	require.NoError(t, err)
	require.Equal(t, c.MP4, c2.MP4)

	// A new run appends new files, never to the old ones.
	later := GOP{Start: base.Add(time.Hour), AUs: gs[0].AUs}
	require.NoError(t, again.Write(later))
	require.Equal(t, 4, again.Stats().Files)
	c3, err := again.Clip(from, to)
	require.NoError(t, err)
	require.Equal(t, c.MP4, c3.MP4)
}

// Retention deletes the oldest files, by the camera's clock and by bytes,
// never the one being written; what is gone gives ErrNoVideo.
func TestRetentionByAgeAndBytes(t *testing.T) {
	gs := gops(segringtest.Pictures(t))
	r := record(t, t.TempDir(), Options{Segment: time.Second, Retain: 3 * time.Second}, gs)
	defer r.Close()
	st := r.Stats()
	require.Equal(t, base.Add(4*time.Second), st.Oldest, "files ending more than 3 s before the newest picture are gone")
	_, err := r.Clip(base, base.Add(2*time.Second))
	require.ErrorIs(t, err, ErrNoVideo)
	c, err := r.Clip(base.Add(4*time.Second), base.Add(6*time.Second))
	require.NoError(t, err)
	require.Equal(t, 51, c.Pictures)

	one := gs[0].Bytes() * 2
	small := record(t, t.TempDir(), Options{Segment: time.Second, MaxBytes: one}, gs)
	defer small.Close()
	require.LessOrEqual(t, small.Stats().Files, 2)
	require.GreaterOrEqual(t, small.Stats().Files, 1)
	require.LessOrEqual(t, small.Stats().Bytes, one+int64(len(fileMagic))*2+gs[7].Bytes())
}

// A file cut short by a crash is read up to its last whole record.
func TestTornFileIsReadToItsLastRecord(t *testing.T) {
	gs := gops(segringtest.Pictures(t))
	dir := t.TempDir()
	r := record(t, dir, Options{}, gs[:3])
	require.NoError(t, r.Close())
	files, err := filepath.Glob(filepath.Join(dir, "*"+fileExt))
	require.NoError(t, err)
	require.Len(t, files, 1)
	info, err := os.Stat(files[0])
	require.NoError(t, err)
	require.NoError(t, os.Truncate(files[0], info.Size()-100))

	again, err := Open(dir, Options{})
	require.NoError(t, err)
	defer again.Close()
	require.Equal(t, base.Add(1960*time.Millisecond), again.Stats().Newest, "the third group is torn")
	c, err := again.Clip(base, base.Add(3*time.Second))
	require.NoError(t, err)
	require.Equal(t, 50, c.Pictures)
}

// Clip refuses a range that is empty, reversed or longer than MaxClip,
// and one whose video is larger than MaxClipBytes, saying which.
func TestClipIsBounded(t *testing.T) {
	gs := gops(segringtest.Pictures(t))
	r := record(t, t.TempDir(), Options{MaxClip: 5 * time.Second, MaxClipBytes: gs[0].Bytes() + 1}, gs)
	defer r.Close()
	_, err := r.Clip(base.Add(time.Second), base)
	require.ErrorContains(t, err, "not after its start")
	_, err = r.Clip(base, base.Add(6*time.Second))
	require.ErrorContains(t, err, "at most 5s")
	_, err = r.Clip(base, base.Add(4*time.Second))
	require.ErrorContains(t, err, "more than")
}

// Records survive the round trip whatever the pictures hold.
func TestRecordRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		g := GOP{Start: time.Unix(0, rapid.Int64Range(0, 1<<62).Draw(t, "start"))}
		for i := range rapid.IntRange(1, 20).Draw(t, "pictures") {
			au := decode.AccessUnit{PTS: time.Duration(rapid.Int64().Draw(t, "pts")), DTS: time.Duration(i), Key: rapid.Bool().Draw(t, "key")}
			for range rapid.IntRange(1, 4).Draw(t, "nalus") {
				au.NALUs = append(au.NALUs, rapid.SliceOfN(rapid.Byte(), 1, 64).Draw(t, "nalu"))
			}
			g.AUs = append(g.AUs, au)
		}
		b, err := marshalGOP(g)
		require.NoError(t, err)
		var got []GOP
		require.NoError(t, readRecords(strings.NewReader(fileMagic+string(b)+string(b[:len(b)/2])), func(x GOP) bool {
			got = append(got, x)
			return true
		}))
		require.Len(t, got, 1, "the torn second copy is not read")
		require.True(t, g.Start.Equal(got[0].Start))
		require.Equal(t, g.AUs, got[0].AUs)
	})
}

// FuzzReadRecords: any bytes are read without panic, and without
// allocating more than they hold.
func FuzzReadRecords(f *testing.F) {
	g := GOP{Start: base, AUs: []decode.AccessUnit{{NALUs: [][]byte{{0x67, 1}, {0x65, 2, 3}}, Key: true}, {DTS: 40, PTS: 40, NALUs: [][]byte{{0x41, 9}}}}}
	b, err := marshalGOP(g)
	require.NoError(f, err)
	f.Add([]byte(fileMagic + string(b)))
	f.Add([]byte(fileMagic + "\xff\xff\xff\x03\x00\x00\x00\x00"))
	f.Add([]byte("junk"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		pictures := 0
		_ = readRecords(strings.NewReader(string(data)), func(g GOP) bool {
			pictures += len(g.AUs)
			return true
		})
		require.LessOrEqual(t, pictures, len(data)/21+1)
	})
}
