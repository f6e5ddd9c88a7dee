package service

import (
	"bytes"
	"image/jpeg"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/decode"
)

func TestEncodeSnapshot(t *testing.T) {
	f := &decode.Frame{Width: 768, Height: 576, Pix: make([]byte, 768*576*3)}
	for i := range f.Pix {
		f.Pix[i] = byte(i % 251)
	}
	for maxW, want := range map[int][2]int{320: {320, 240}, 1920: {768, 576}} {
		jpg, err := EncodeSnapshot(f, maxW)
		require.NoError(t, err)
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(jpg))
		require.NoError(t, err)
		require.Equal(t, want, [2]int{cfg.Width, cfg.Height}, "at most %d wide, never scaled up", maxW)
	}
}

// BenchmarkEncodeSnapshot is one wall tile's cost on the server.
func BenchmarkEncodeSnapshot(b *testing.B) {
	f := &decode.Frame{Width: 768, Height: 576, Pix: make([]byte, 768*576*3)}
	for i := range f.Pix {
		f.Pix[i] = byte(i * 7 % 253)
	}
	for b.Loop() {
		if _, err := EncodeSnapshot(f, 320); err != nil {
			b.Fatal(err)
		}
	}
}
