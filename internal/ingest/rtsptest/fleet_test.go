package rtsptest_test

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/ingest/rtsptest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A fleet of three cameras over two kinds of footage serves H.264 at
// 25 fps that Vigil reads; the static view is the frozen first frame.
func TestFleetServesEveryCamera(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	footage := rtsptest.DefaultFootage("../../..")
	if len(footage) == 0 {
		t.Skip("no footage (make setup)")
	}
	var mix []rtsptest.Footage
	for _, f := range footage {
		if f.Name == "plaza" || f.Name == "static" {
			mix = append(mix, f)
		}
	}
	require.Len(t, mix, 2)
	ctx := context.Background()
	fl, err := rtsptest.StartFleet(ctx, t.TempDir(), mix, 3, 2, 25)
	require.NoError(t, err)
	defer fl.Close()
	require.Len(t, fl.Cameras, 3)
	require.Equal(t, "static", fl.Cameras[1].Footage.Name)
	for _, c := range fl.Cameras {
		src, err := decode.Open(ctx, c.URL(), decode.Options{MaxFrames: 2, Timeout: 10 * time.Second})
		require.NoError(t, err, c.Footage.Name)
		require.Equal(t, 25.0, src.Info.FPS)
		require.Equal(t, 768, src.Info.Width)
		ch, err := src.Start(ctx)
		require.NoError(t, err)
		n := 0
		for range ch {
			n++
		}
		require.NoError(t, src.Wait())
		require.Equal(t, 2, n)
	}
	_, err = os.Stat(fl.Cameras[0].Footage.Source)
	require.NoError(t, err)
}
