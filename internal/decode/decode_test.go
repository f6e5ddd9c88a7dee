package decode

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

const vtest = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func needFFmpeg(t testing.TB) {
	t.Helper()
	for _, b := range []string{"ffmpeg", "ffprobe"} {
		if _, err := lookBinary(b); err != nil {
			t.Skipf("%v", err)
		}
	}
}

func needFile(t testing.TB, p string) {
	t.Helper()
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not present (run make setup, or it lives in ../shared beside the repo)", p)
	}
}

func collect(t *testing.T, loc string, opt Options) ([]*Frame, *Source, error) {
	t.Helper()
	ctx := context.Background()
	src, err := Open(ctx, loc, opt)
	if err != nil {
		return nil, nil, err
	}
	ch, err := src.Start(ctx)
	require.NoError(t, err)
	var frames []*Frame
	for f := range ch {
		frames = append(frames, f)
	}
	return frames, src, src.Wait()
}

func TestVideoFileFramesAndPTS(t *testing.T) {
	needFFmpeg(t)
	needFile(t, vtest)
	frames, src, err := collect(t, vtest, Options{MaxFrames: 30})
	require.NoError(t, err)
	require.Len(t, frames, 30)
	require.Equal(t, 768, src.Info.Width)
	require.Equal(t, 576, src.Info.Height)
	require.Equal(t, 795, src.Info.Frames)
	for i, f := range frames {
		require.Equal(t, i, f.Index)
		require.Equal(t, time.Duration(i)*100*time.Millisecond, f.PTS)
		require.Len(t, f.Pix, 768*576*3)
	}
}

func TestFPSSelectionIsByTimestamp(t *testing.T) {
	needFFmpeg(t)
	needFile(t, vtest)
	frames, src, err := collect(t, vtest, Options{FPS: 5, MaxFrames: 10})
	require.NoError(t, err)
	require.Len(t, frames, 10)
	for i, f := range frames {
		require.Equal(t, time.Duration(i)*200*time.Millisecond, f.PTS, "frame %d", i)
		require.Equal(t, 2*i, f.Index, "Index is the source frame's, so MOT output scores against the sequence's ground truth")
	}
	require.Equal(t, int64(9), src.Stats().Skipped)
}

// Frames linked into a folder from elsewhere play like files there.
func TestImageDirectoryFollowsSymlinks(t *testing.T) {
	needFFmpeg(t)
	src := "../../../shared/data/cdnet-highway/input"
	needFile(t, src)
	dir := t.TempDir()
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("in%06d.jpg", i)
		abs, err := filepath.Abs(filepath.Join(src, name))
		require.NoError(t, err)
		require.NoError(t, os.Symlink(abs, filepath.Join(dir, name)))
	}
	require.NoError(t, os.Symlink(filepath.Join(dir, "missing.jpg"), filepath.Join(dir, "zz-dangling.jpg")))
	frames, _, err := collect(t, dir, Options{})
	require.NoError(t, err)
	require.Len(t, frames, 3, "a dangling link is not a frame")
}

func TestSelectorTable(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		fps  float64
		pts  []time.Duration
		want []bool
	}{
		{0, []time.Duration{0, 40 * ms, 80 * ms}, []bool{true, true, true}},
		{10, []time.Duration{0, 40 * ms, 80 * ms, 120 * ms, 160 * ms, 200 * ms}, []bool{true, false, false, true, false, true}},
		{10, []time.Duration{0, 2 * time.Second, 2040 * ms, 2100 * ms}, []bool{true, true, false, true}},
	}
	for _, tc := range cases {
		s := selector{fps: tc.fps}
		for i, p := range tc.pts {
			require.Equal(t, tc.want[i], s.keep(p), "fps %v pts %v", tc.fps, p)
		}
	}
}

func TestImageSequenceReverse(t *testing.T) {
	needFFmpeg(t)
	dir := "../../../shared/data/cdnet-highway/input"
	needFile(t, dir)
	fwd, _, err := collect(t, dir, Options{MaxFrames: 3})
	require.NoError(t, err)
	rev, src, err := collect(t, dir, Options{Reverse: true, ImageFPS: 30})
	require.NoError(t, err)
	require.Len(t, rev, 1700)
	require.Equal(t, 1700, src.Info.Frames)
	require.Equal(t, 320, rev[0].Width)
	require.Equal(t, fwd[0].Pix, rev[len(rev)-1].Pix, "reversed sequence ends on the first image")
	require.InDelta(t, (1699.0/30)*float64(time.Second), float64(rev[1699].PTS), float64(time.Millisecond))
}

func TestBadInputsGiveOneLineErrors(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	notVideo := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(notVideo, []byte("hello, this is not a video\n"), 0o644))
	empty := filepath.Join(dir, "emptydir")
	require.NoError(t, os.Mkdir(empty, 0o755))
	cases := []struct{ in, want string }{
		{filepath.Join(dir, "missing.mp4"), "no such file"},
		{notVideo, notVideo},
		{empty, "no images"},
		{"http://example.com/x", "unsupported stream URL scheme"},
		{"rtsp://", "no host"},
	}
	for _, tc := range cases {
		_, err := Open(context.Background(), tc.in, Options{})
		require.Error(t, err, tc.in)
		require.Contains(t, err.Error(), tc.want)
		require.NotContains(t, err.Error(), "\n")
	}
}

func TestTruncatedVideoKeepsFramesAndNamesPosition(t *testing.T) {
	needFFmpeg(t)
	needFile(t, vtest)
	data, err := os.ReadFile(vtest)
	require.NoError(t, err)
	cut := filepath.Join(t.TempDir(), "cut.avi")
	require.NoError(t, os.WriteFile(cut, data[:len(data)/3], 0o644))
	frames, _, err := collect(t, cut, Options{})
	require.Error(t, err)
	require.Contains(t, err.Error(), cut)
	require.Contains(t, err.Error(), "frame ")
	require.NotEmpty(t, frames, "frames before the damage are delivered")
}

func TestRTSPRefusedAndTimeout(t *testing.T) {
	needFFmpeg(t)
	// A port that refuses: listen, note the port, close.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refused := "rtsp://admin:s3cret@" + l.Addr().String() + "/stream"
	require.NoError(t, l.Close())
	_, err = Open(context.Background(), refused, Options{Timeout: 2 * time.Second})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "s3cret")
	require.Contains(t, strings.ToLower(err.Error()), "refused")

	// A server that accepts and never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start := time.Now()
	_, err = Open(context.Background(), "rtsp://user:hunter2@"+silent.Addr().String()+"/live", Options{Timeout: time.Second})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "hunter2")
	// The 1 s timeout ended it; without one ffprobe would wait for ever.
	// The bound is a hang guard with room for a busy machine.
	require.Less(t, time.Since(start), 2*time.Minute)
}

func TestCancelStopsDecoder(t *testing.T) {
	needFFmpeg(t)
	needFile(t, vtest)
	ctx, cancel := context.WithCancel(context.Background())
	src, err := Open(ctx, vtest, Options{})
	require.NoError(t, err)
	ch, err := src.Start(ctx)
	require.NoError(t, err)
	<-ch
	cancel()
	for range ch {
	}
	require.ErrorIs(t, src.Wait(), context.Canceled)
}

// TestDropOldestCountsDrops holds the consumer back until the decoder has
// emitted more frames than the queue holds, so drops are certain whatever
// the machine's speed, then checks that the oldest frames were the ones lost.
func TestDropOldestCountsDrops(t *testing.T) {
	needFFmpeg(t)
	needFile(t, vtest)
	ctx := context.Background()
	const queue = 2
	src, err := Open(ctx, vtest, Options{DropOldest: true, Queue: queue, MaxFrames: 0})
	require.NoError(t, err)
	ch, err := src.Start(ctx)
	require.NoError(t, err)
	// A condition, not a race: nothing reads, so the decoder must drop.
	require.Eventually(t, func() bool { return src.Stats().Emitted >= queue+3 }, 5*time.Minute, time.Millisecond)
	held := src.Stats().Emitted
	var got []int
	for f := range ch {
		got = append(got, f.Index)
	}
	require.NoError(t, src.Wait())
	st := src.Stats()
	require.Equal(t, int64(795), st.Decoded)
	require.Equal(t, st.Emitted, int64(len(got))+st.Dropped)
	require.GreaterOrEqual(t, st.Dropped, held-queue, "at least the frames beyond the queue were dropped")
	// Oldest first: the first frame read is one of the newest queue frames
	// at the time the consumer started, and order is kept.
	require.GreaterOrEqual(t, int64(got[0]), held-queue)
	require.IsIncreasing(t, got)
	require.Equal(t, int(st.Emitted)-1, got[len(got)-1], "the last frame is never dropped")
}

func TestRedactURL(t *testing.T) {
	require.Equal(t, "rtsp://admin:xxxxx@10.0.0.5:554/live", RedactURL("rtsp://admin:pw@10.0.0.5:554/live"))
	require.Equal(t, "rtsp://10.0.0.5/live", RedactURL("rtsp://10.0.0.5/live"))
	require.NotContains(t, RedactURL("rtsp://a:p w%zz@h/"), "p w")
}

func FuzzValidateRTSPURL(f *testing.F) {
	for _, s := range []string{"rtsp://h/", "rtsp://u:p@h:554/x?y=1", "rtsps://[::1]:8554/a", "rtsp://:99", "rtsp://h:abc/", "http://h", "rtsp://u:p%zz@h",
		"rtsp://u:s3cretpw@h:abc/", "ftp://u:s3cretpw@h/", "rtsp://u:s3cret%41pw@/x", "rtsp://u:s3cretpw@h/x#y?z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateRTSPURL(s)
		red := RedactURL(s)
		pw, public, ok := splitPassword(s)
		if !ok || len(pw) < 4 {
			return
		}
		for _, secret := range []string{pw, unescaped(pw)} {
			// A password that also appears in the rest of the URL or in
			// the fixed message texts cannot be told apart from them.
			if len(secret) < 4 || strings.Contains(public, secret) || strings.Contains(errorVocabulary, secret) {
				continue
			}
			if strings.Contains(red, secret) {
				t.Fatalf("RedactURL(%q) = %q shows the password %q", s, red, secret)
			}
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Fatalf("error leaks password %q: %v", secret, err)
			}
		}
	})
}

// errorVocabulary is every fixed text a URL error may contain (ours, the
// redaction marker, net/url's); a password found in it proves nothing.
const errorVocabulary = `invalid stream URL unsupported stream URL scheme in (want rtsp or rtsps) has no host has a bad port
xxxxx <unparsable> malformed URL net/url: invalid userinfo invalid URL escape invalid character in host name
invalid port after host missing protocol scheme first path segment in URL cannot contain colon`

// splitPassword finds the password the way net/url does (authority up to the
// first '/', after cutting '#' and '?'; userinfo up to the last '@'; the
// password after its first ':') and returns it with the URL around it.
func splitPassword(s string) (pw, public string, ok bool) {
	i := strings.Index(s, "://")
	if i < 0 {
		return "", "", false
	}
	start := i + 3
	rest := s[start:]
	if j := strings.IndexAny(rest, "#?"); j >= 0 {
		rest = rest[:j]
	}
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		rest = rest[:j]
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return "", "", false
	}
	colon := strings.IndexByte(rest[:at], ':')
	if colon < 0 {
		return "", "", false
	}
	a, b := start+colon+1, start+at
	return s[a:b], s[:a] + s[b:], true
}

func unescaped(s string) string {
	u, err := url.PathUnescape(s)
	if err != nil {
		return s
	}
	return u
}

// TestPasswordNeverInErrors pins the leak check above to known inputs, so
// it is seen to fail if redaction breaks.
func TestPasswordNeverInErrors(t *testing.T) {
	for _, s := range []string{"rtsp://u:s3cretpw@h:abc/", "ftp://u:s3cretpw@h/", "rtsp://u:s3cretpw@/x", "rtsp://u:s3cretpw@h:1/%zz"} {
		err := ValidateRTSPURL(s)
		require.Error(t, err, s)
		require.NotContains(t, err.Error(), "s3cretpw")
		pw, public, ok := splitPassword(s)
		require.True(t, ok)
		require.Equal(t, "s3cretpw", pw)
		require.NotContains(t, public, pw)
	}
}
