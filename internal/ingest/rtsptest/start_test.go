package rtsptest

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A stream started part way into its loop begins at the key picture at
// or before that point, so a reader can decode its first picture.
func TestStartIsMovedBackToAKeyPicture(t *testing.T) {
	idr, p := []byte{0x65}, []byte{0x41}
	s := &Server{aus: [][][]byte{{idr}, {p}, {p}, {idr}, {p}}}
	for at, want := range map[int]int{-1: 0, 0: 0, 2: 0, 3: 3, 4: 3, 99: 3} {
		require.Equal(t, want, s.keyBefore(at), "start at %d", at)
	}
}
