package live

import (
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/vigil-cctv/vigil/internal/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// counter is a Source whose picture changes when next is called and
// whose encodes are counted.
type counter struct {
	id      atomic.Int64
	encodes atomic.Int64
}

func (c *counter) next() { c.id.Add(1) }

func (c *counter) Latest() (any, func() ([]byte, error)) {
	id := c.id.Load()
	if id == 0 {
		return nil, nil
	}
	return id, func() ([]byte, error) {
		c.encodes.Add(1)
		return []byte{byte(id)}, nil
	}
}

// Issue 16 item 6: every MJPEG viewer encoded its own JPEGs (50 viewers:
// 13% → 82% of a core, the camera stalled). Now one encode per new
// picture is shared by every viewer of the camera.
func TestOneEncodeSharedByAllViewers(t *testing.T) {
	h := NewHub(Options{MaxPerCamera: 100, MaxTotal: 100})
	defer h.Close()
	src := &counter{}
	h.Add("cam", src)
	var chans []<-chan []byte
	for range 50 {
		ch, cancel, err := h.Subscribe("cam")
		require.NoError(t, err)
		defer cancel()
		chans = append(chans, ch)
	}
	f := h.feeds["cam"]
	var last any
	for frame := 1; frame <= 3; frame++ {
		src.next()
		last = h.tick(f, last)
		last = h.tick(f, last) // the same picture again: nothing to do
		for _, ch := range chans {
			require.Equal(t, []byte{byte(frame)}, <-ch)
		}
	}
	require.EqualValues(t, 3, src.encodes.Load(), "one encode per picture, not per viewer")
	viewers, encodes := h.Stats()
	require.Equal(t, 50, viewers)
	require.EqualValues(t, 3, encodes)
}

// With nobody watching, no goroutine ticks and nothing is encoded; the
// first viewer starts the camera's feed and the last one stops it.
func TestEncodesOnlyWhileWatched(t *testing.T) {
	h := NewHub(Options{FPS: 1000})
	defer h.Close()
	src := &counter{}
	src.next()
	h.Add("cam", src)
	require.Nil(t, h.feeds["cam"].stop, "no feed goroutine without viewers")
	ch, cancel, err := h.Subscribe("cam")
	require.NoError(t, err)
	require.Equal(t, []byte{1}, <-ch, "the ticking feed delivers")
	cancel()
	cancel() // idempotent
	h.mu.Lock()
	stopped := h.feeds["cam"].stop == nil
	h.mu.Unlock()
	require.True(t, stopped)
	_, ok := <-ch
	require.False(t, ok, "the viewer's channel is closed")
}

// Issue 16 item 6: there was no cap on viewers.
func TestViewerCaps(t *testing.T) {
	h := NewHub(Options{MaxPerCamera: 2, MaxTotal: 3})
	defer h.Close()
	h.Add("a", &counter{})
	h.Add("b", &counter{})
	_, c1, err := h.Subscribe("a")
	require.NoError(t, err)
	_, _, err = h.Subscribe("a")
	require.NoError(t, err)
	_, _, err = h.Subscribe("a")
	le, ok := IsLimit(err)
	require.True(t, ok)
	require.False(t, le.Server, "one camera's cap: 429")
	require.Equal(t, `viewers of camera "a" are at their limit of 2; try again later`, err.Error())
	_, _, err = h.Subscribe("b")
	require.NoError(t, err)
	_, _, err = h.Subscribe("b")
	le, ok = IsLimit(err)
	require.True(t, ok)
	require.True(t, le.Server, "the server's cap: 503")
	c1()
	_, _, err = h.Subscribe("b")
	require.NoError(t, err, "a viewer leaving frees a place")
	_, _, err = h.Subscribe("nope")
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestRemoveEndsViewers(t *testing.T) {
	h := NewHub(Options{})
	defer h.Close()
	h.Add("cam", &counter{})
	ch, cancel, err := h.Subscribe("cam")
	require.NoError(t, err)
	h.Remove("cam")
	_, ok := <-ch
	require.False(t, ok)
	cancel() // after removal: harmless
	viewers, _ := h.Stats()
	require.Zero(t, viewers)
}

// A viewer that has not taken its frame gets the newest one instead; the
// feed never blocks on it.
func TestSlowViewerGetsNewestFrame(t *testing.T) {
	ch := make(chan []byte, 1)
	offer(ch, []byte("old"))
	offer(ch, []byte("new"))
	require.Equal(t, []byte("new"), <-ch)
}

func TestEncodeErrorIsReportedOnce(t *testing.T) {
	var reported []string
	h := NewHub(Options{OnEncodeError: func(c string, err error) { reported = append(reported, c+": "+err.Error()) }})
	defer h.Close()
	src := SourceFunc(func() (any, func() ([]byte, error)) {
		return 1, func() ([]byte, error) { return nil, errors.New("bad frame") }
	})
	h.Add("cam", src)
	_, cancel, err := h.Subscribe("cam")
	require.NoError(t, err)
	defer cancel()
	f := h.feeds["cam"]
	last := h.tick(f, nil)
	h.tick(f, last)
	require.Equal(t, []string{"cam: bad frame"}, reported)
}

// Issue 16 item 6: there was no cap on SSE clients.
func TestBrokerCapsClients(t *testing.T) {
	b := NewBroker[string](2)
	m1, c1, err := b.TrySubscribe()
	require.NoError(t, err)
	_, c2, err := b.TrySubscribe()
	require.NoError(t, err)
	_, _, err = b.TrySubscribe()
	le, ok := IsLimit(err)
	require.True(t, ok)
	require.True(t, le.Server)
	require.Equal(t, "event stream clients are at their limit of 2; try again later", err.Error())
	internal, ci := b.Subscribe() // the service's own: not capped
	defer ci()
	b.Publish("hello")
	require.Equal(t, "hello", <-m1)
	require.Equal(t, "hello", <-internal)
	c1()
	c1()
	require.Equal(t, 1, b.Clients())
	_, c3, err := b.TrySubscribe()
	require.NoError(t, err)
	c2()
	c3()
	// A subscriber that does not read loses messages, counted.
	slow, cs := b.Subscribe()
	defer cs()
	for range 70 {
		b.Publish("x")
	}
	require.Len(t, slow, 64)
	require.EqualValues(t, 2*(70-64), b.Dropped.Load(), "both unread subscribers (slow and internal) lost 6")
}
