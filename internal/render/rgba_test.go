package render

import (
	"image"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCanvasRGBACopiesAndClips(t *testing.T) {
	c := Canvas{W: 3, H: 2, Pix: []byte{
		1, 2, 3, 4, 5, 6, 7, 8, 9,
		10, 11, 12, 13, 14, 15, 16, 17, 18,
	}}
	full := c.RGBA(image.Rect(0, 0, 3, 2))
	require.Equal(t, []byte{1, 2, 3, 255, 4, 5, 6, 255, 7, 8, 9, 255, 10, 11, 12, 255, 13, 14, 15, 255, 16, 17, 18, 255}, full.Pix)
	part := c.RGBA(image.Rect(1, 1, 10, 10)) // clipped to the canvas
	require.Equal(t, image.Rect(0, 0, 2, 1), part.Bounds())
	require.Equal(t, []byte{13, 14, 15, 255, 16, 17, 18, 255}, part.Pix)
	require.Equal(t, image.Rect(0, 0, 0, 0), c.RGBA(image.Rect(5, 5, 9, 9)).Bounds())
	short := Canvas{W: 3, H: 2, Pix: []byte{1}}
	require.Equal(t, 6*4, len(short.RGBA(image.Rect(0, 0, 3, 2)).Pix), "a short buffer yields a blank image, no panic")
}
