// Package segringtest gives tests of compressed-video buffers real H.264
// access units: seconds of vtest.avi encoded as an RTSP camera would send
// them.
package segringtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/ingest/rtsptest"
)

// Vtest is PETS09-S2L1 view 1 as Debian's opencv-doc installs it.
const Vtest = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

var (
	once sync.Once
	aus  []decode.AccessUnit
	err  error
)

// Pictures returns 8 s of vtest.avi at 25 fps, a key picture every 25, as
// the access units an RTSP camera would deliver (PTS i·40 ms). It skips
// the test without ffmpeg or vtest.avi.
func Pictures(t testing.TB) []decode.AccessUnit {
	t.Helper()
	for _, b := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s not on PATH", b)
		}
	}
	if _, err := os.Stat(Vtest); err != nil {
		t.Skipf("%s not present (make setup)", Vtest)
	}
	once.Do(func() {
		dir, e := os.MkdirTemp("", "segring")
		if e != nil {
			err = e
			return
		}
		defer os.RemoveAll(dir)
		f := filepath.Join(dir, "clip.h264")
		if err = rtsptest.MakeClip(context.Background(), Vtest, f, 8, 25, 25); err != nil {
			return
		}
		aus, err = SplitAnnexB(f, 25)
	})
	require.NoError(t, err)
	return aus
}

// SplitAnnexB reads an H.264 Annex B file into access units at fps.
func SplitAnnexB(file string, fps float64) ([]decode.AccessUnit, error) {
	buf, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var nalus h264.AnnexB
	if err := nalus.Unmarshal(buf); err != nil {
		return nil, err
	}
	var out []decode.AccessUnit
	var au [][]byte
	key := false
	for _, n := range nalus {
		typ := h264.NALUType(n[0] & 0x1f)
		if typ == h264.NALUTypeAccessUnitDelimiter || typ == h264.NALUTypeSEI {
			continue
		}
		au = append(au, n)
		key = key || typ == h264.NALUTypeIDR
		if typ == h264.NALUTypeIDR || typ == h264.NALUTypeNonIDR {
			pts := decode.PTSAt(len(out), fps)
			out = append(out, decode.AccessUnit{PTS: pts, DTS: pts, NALUs: au, Key: key})
			au, key = nil, false
		}
	}
	return out, nil
}
