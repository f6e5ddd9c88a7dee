package media

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vigil-cctv/vigil/internal/decode"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testFrame is frame i of a synthetic 10 fps stream: PTS i×100 ms, w×h RGB24
// with a colour that changes per frame so the encoder sees motion.
func testFrame(i, w, h int) *decode.Frame {
	pix := make([]byte, w*h*3)
	for p := range pix {
		pix[p] = byte(i*7 + p%251)
	}
	return &decode.Frame{Index: i, PTS: time.Duration(i) * 100 * time.Millisecond, Width: w, Height: h, Pix: pix}
}
