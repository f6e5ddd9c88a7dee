package decode

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// When ffmpeg falls more than the backlog behind the camera, the queue is
// emptied and pictures are dropped up to the next key picture; the key
// picture itself starts the queue again.
func TestRTSPBacklogDropsToTheNextKeyPicture(t *testing.T) {
	r := &rtspReader{opt: Options{Backlog: time.Second}}
	au := func(i int) AccessUnit { // 10 fps, a key picture every 10
		return AccessUnit{DTS: time.Duration(i) * 100 * time.Millisecond, PTS: time.Duration(i) * 100 * time.Millisecond,
			Key: i%10 == 0, NALUs: [][]byte{{1, 2, 3}}}
	}
	for i := 0; i <= 10; i++ { // 0 … 1.0 s: within the backlog
		r.enqueue(au(i))
	}
	require.Len(t, r.queue, 11)
	require.Zero(t, r.dropped)
	r.enqueue(au(11)) // 1.1 s behind the head: too far
	require.Empty(t, r.queue)
	require.Equal(t, int64(12), r.dropped, "the queue and the picture that overflowed it")
	for i := 12; i < 20; i++ {
		r.enqueue(au(i)) // not key pictures: still dropped
	}
	require.Empty(t, r.queue)
	require.Equal(t, int64(20), r.dropped)
	r.enqueue(au(20))
	require.Len(t, r.queue, 1, "the next key picture starts again")
	require.Equal(t, 3*time.Second, (&rtspReader{}).backlog(), "the default")
}
