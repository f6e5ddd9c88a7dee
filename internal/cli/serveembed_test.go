package cli

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/geom"
)

// detector.reid_model: unset gives no embedder, a missing file an error
// naming the key, and the shared OSNet model an embedder the cameras'
// goroutines may call at once.
func TestServeEmbedder(t *testing.T) {
	e, err := openEmbedder(config.Detector{})
	require.NoError(t, err)
	require.Nil(t, e)
	_, err = openEmbedder(config.Detector{ReIDModel: "/nonexistent/osnet.onnx"})
	require.ErrorContains(t, err, "detector.reid_model")

	needSetup(t)
	model := shared(t, "models/osnet_x0_25_msmt17.dynbatch.onnx")
	e, err = openEmbedder(config.Detector{ReIDModel: model})
	require.NoError(t, err)
	defer e.Close()
	f := &decode.Frame{Width: 320, Height: 240, Pix: make([]byte, 320*240*3)}
	for i := range f.Pix {
		f.Pix[i] = byte(i * 7)
	}
	var wg sync.WaitGroup
	out := make([][][]float32, 2)
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := e.Embed(f, []geom.Box{{X: 100, Y: 40, W: 60, H: 150}})
			require.NoError(t, err)
			out[g] = v
		}()
	}
	wg.Wait()
	require.Len(t, out[0], 1)
	require.NotEmpty(t, out[0][0])
	require.Equal(t, out[0], out[1], "the same crop embeds the same either way")
}
