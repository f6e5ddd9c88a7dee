package cli

import (
	"time"

	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/vigil-cctv/vigil/internal/cluster/clustertest"
	"github.com/vigil-cctv/vigil/internal/moteval"
	"github.com/vigil-cctv/vigil/internal/motfile"
)

const vtest = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

func TestMain(m *testing.M) {
	// The cluster process tests start embedded NATS servers.
	goleak.VerifyTestMain(m, clustertest.IgnoreLeaks()...)
}

// vigil runs the command line in-process.
func vigil(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func shared(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared data %s not found (it lives beside the repo in ../shared)", p)
	}
	return p
}

func needSetup(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(vtest); err != nil {
		t.Skip("vtest.avi missing; run make setup")
	}
	m := modelFlags{ModelSize: "n"}
	for _, p := range []string{m.modelPath(), m.libPath()} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("%s missing; run make setup", p)
		}
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg missing; run make setup")
	}
}

// lastLine is the error line Main printed (log lines may precede it).
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func TestAnalyzeBadInputsFailWithOneLine(t *testing.T) {
	needSetup(t)
	dir := t.TempDir()
	notVideo := filepath.Join(dir, "readme.mp4")
	require.NoError(t, os.WriteFile(notVideo, []byte("plain text, not a video"), 0o644))
	refused := "rtsp://op:topsecret@" + freeAddr(t) + "/cam1"
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"missing file", []string{filepath.Join(dir, "nope.avi")}, "no such file or directory"},
		{"not a video", []string{notVideo}, notVideo},
		{"rtsp refused", []string{refused, "--timeout", "2s"}, "refused"},
		{"bad classes", []string{vtest, "--classes", "person,unicorn"}, `unknown class "unicorn"`},
		{"bad input size", []string{vtest, "--input-size", "641x480"}, "multiples of 32"},
		{"replay source", []string{"replay:frames=10"}, "--tracks-from"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := vigil(t, append([]string{"analyze", "--progress", "none"}, tc.args...)...)
			require.Equal(t, 1, code, stderr)
			line := lastLine(stderr)
			require.True(t, strings.HasPrefix(line, "vigil: "), line)
			require.Contains(t, line, tc.want)
			require.NotContains(t, stderr, "topsecret")
			require.NotContains(t, stderr, "panic")
		})
	}
}

func TestAnalyzeMissingModelNamesWhereItLooked(t *testing.T) {
	needSetup(t)
	cache := t.TempDir()
	t.Setenv("VIGIL_CACHE", cache)
	t.Setenv("VIGIL_MODEL", "")
	code, _, stderr := vigil(t, "analyze", "--progress", "none", vtest)
	require.Equal(t, 1, code)
	require.Equal(t, "vigil: model not found at "+filepath.Join(cache, "models", "yolov8n.onnx")+"; run make setup (or pass its path)", lastLine(stderr))
}

func TestUsageErrorsExitTwo(t *testing.T) {
	code, _, stderr := vigil(t, "analyze", "--max-frames", "many")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "--max-frames")
	code, stdout, _ := vigil(t, "--help")
	require.Equal(t, 0, code)
	require.Contains(t, stdout, "analyze")
}

func TestAnalyzeWritesAllOutputs(t *testing.T) {
	needSetup(t)
	dir := t.TempDir()
	mot, jsonl, video := filepath.Join(dir, "t.txt"), filepath.Join(dir, "f.jsonl"), filepath.Join(dir, "v.mp4")
	code, stdout, stderr := vigil(t, "analyze", "--progress", "none", "--max-frames", "20",
		"--mot", mot, "--jsonl", jsonl, "--video", video, vtest)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, mot)
	require.Contains(t, stdout, video)

	rows, err := motfile.ReadFile(mot)
	require.NoError(t, err)
	require.NotEmpty(t, rows)
	for _, r := range rows {
		require.GreaterOrEqual(t, r.Frame, 1)
		require.LessOrEqual(t, r.Frame, 20)
	}

	f, err := os.Open(jsonl)
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var rec struct {
			Frame      int     `json:"frame"`
			PTS        float64 `json:"pts"`
			Detections []struct {
				Class string     `json:"class"`
				BBox  [4]float64 `json:"bbox"`
			} `json:"detections"`
			Tracks []struct {
				ID    int    `json:"id"`
				Class string `json:"class"`
			} `json:"tracks"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &rec))
		n++
		require.Equal(t, n, rec.Frame)
		require.InDelta(t, float64(n-1)*0.1, rec.PTS, 1e-9, "vtest.avi is 10 fps")
	}
	require.Equal(t, 20, n)

	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=nb_read_frames,width,height", "-of", "csv=p=0", video).Output()
	require.NoError(t, err)
	require.Equal(t, "768,576,20", strings.TrimSpace(string(out)))
}

// TestTrackerOnPublicDetections: ByteTrack alone on TUD-Campus Faster R-CNN
// detections must beat SORT's published MOTA (expected-sort.json: 62.7).
func TestTrackerOnPublicDetections(t *testing.T) {
	det := shared(t, "data/mot/TUD-Campus/det-frcnn.txt")
	gt := shared(t, "data/mot/TUD-Campus/gt.txt")
	pred := filepath.Join(t.TempDir(), "pred.txt")
	code, _, stderr := vigil(t, "analyze", "--progress", "none", "--public-dets", det, "--seq-fps", "25",
		"--track-high", "0.7", "--track-new", "0.8", "--mot", pred)
	require.Equal(t, 0, code, stderr)
	code, stdout, stderr := vigil(t, "eval", "mot", "--gt", gt, "--pred", pred, "--json")
	require.Equal(t, 0, code, stderr)
	var res moteval.Result
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	require.Greater(t, res.MOTA, 0.627)
}

func TestEvalReproducesCEMReference(t *testing.T) {
	gt := shared(t, "data/mot/TUD-Campus/gt.txt")
	pred := shared(t, "data/mot/TUD-Campus/cem.txt")
	code, stdout, stderr := vigil(t, "eval", "mot", "--gt", gt, "--pred", pred, "--json")
	require.Equal(t, 0, code, stderr)
	var res moteval.Result
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	require.InDelta(t, 0.526, res.MOTA, 0.0005)
	require.Equal(t, 13, res.FP)
	require.Equal(t, 150, res.FN)
	require.Equal(t, 7, res.IDSW)
	code, stdout, _ = vigil(t, "eval", "mot", "--gt", gt, "--pred", pred)
	require.Equal(t, 0, code)
	require.Contains(t, stdout, "MOTA")
}

// hangTimeout bounds waits on real work (decoding, inference, encoding).
// It is not a speed requirement: only a hang, never a slow or busy
// machine, reaches it.
const hangTimeout = 10 * time.Minute

// freeAddr is a loopback address nothing listens on (a port the kernel
// gave and that was closed again).
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}
