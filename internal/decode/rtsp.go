package decode

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	"github.com/pion/rtp"
)

// AccessUnit is one compressed H.264 picture of an RTSP stream.
type AccessUnit struct {
	// PTS is on the time line of the decoded frames' PTS (0 at the first
	// key picture of the connection), rounded to the microsecond as they
	// are; DTS is the decode time on the same line (≤ PTS).
	PTS, DTS time.Duration
	// NALUs are the picture's NAL units without start codes; a key
	// picture starts with the SPS and PPS it needs.
	NALUs [][]byte
	// Key marks an IDR picture: decoding (and a clip) can start here.
	Key bool
}

// Limits of the queue between the RTSP reader and ffmpeg's stdin (the span
// leaves room for ffmpeg's start on a loaded box). When
// ffmpeg falls further behind than this, the queue is emptied and pictures
// are dropped up to the next key picture (anything else would leave the
// decoder with broken references): live analysis must not lag the camera,
// and a stalled camera must show as stalled, not as a backlog draining.
const (
	streamQueueSpan  = 3 * time.Second
	streamQueueBytes = 16 << 20
	streamQueueUnits = 256
	// tsBase lifts MPEG-TS timestamps clear of zero so that a DTS before
	// the first PTS stays positive; ffmpeg subtracts the stream's start, so
	// decoded frames come out on the AccessUnit time line.
	tsBase = 10 * 90000
)

// rtspReader reads an RTSP stream in-process with gortsplib. Credentials
// stay inside Vigil: ffmpeg only ever sees the compressed stream on its
// stdin. Pictures go to Options.OnAccessUnit and to a bounded queue that
// the MPEG-TS writer drains into ffmpeg.
type rtspReader struct {
	in     Input
	opt    Options
	client *gortsplib.Client
	dec    *rtph264.Decoder
	dts    *h264.DTSExtractor

	mu       sync.Mutex
	sps, pps []byte
	base     int64 // RTP-clock PTS of the first key picture
	started  bool  // first key picture seen
	waitKey  bool  // dropping until the next key picture
	queue    []AccessUnit
	queued   int // bytes in queue
	dropped  int64
	wake     chan struct{}
	closed   bool
	first    chan struct{} // closed at the first key picture
	fps      float64       // from the SPS, or measured from the first two pictures
	lastPTS  time.Duration
	pictures int

	closeOnce sync.Once
	stop      func() bool   // context.AfterFunc's stop
	ended     chan struct{} // closed once the client has stopped
	endErr    error         // the client's error, readable after ended
	closing   bool          // Vigil closed the connection (under mu)
}

// openRTSP connects, asks for the stream, and waits for its first key
// picture, which gives the frame size; it fails within the probe timeout.
func openRTSP(ctx context.Context, in Input, opt Options) (*rtspReader, Info, error) {
	u, err := base.ParseURL(in.Location)
	if err != nil {
		return nil, Info{}, fmt.Errorf("%s: %s", in, redactUserinfo(err.Error(), in))
	}
	proto := gortsplib.ProtocolTCP
	if opt.RTSPTransport == "udp" {
		proto = gortsplib.ProtocolUDP
	}
	r := &rtspReader{in: in, opt: opt, wake: make(chan struct{}, 1), first: make(chan struct{}), ended: make(chan struct{})}
	r.client = &gortsplib.Client{Scheme: u.Scheme, Host: u.Host, Protocol: &proto,
		ReadTimeout: opt.timeout(), WriteTimeout: opt.timeout()}
	if err := r.client.Start(); err != nil {
		return nil, Info{}, r.fail(err)
	}
	go func() {
		r.endErr = r.client.Wait()
		r.markClosed()
		close(r.ended)
	}()
	r.stop = context.AfterFunc(ctx, r.close)
	if err := r.play(u); err != nil {
		r.close()
		return nil, Info{}, r.fail(err)
	}
	info, err := r.waitFirst(ctx)
	if err != nil {
		r.close()
		return nil, Info{}, err
	}
	return r, info, nil
}

func (r *rtspReader) fail(err error) error {
	return fmt.Errorf("%s: %s", r.in, redactUserinfo(err.Error(), r.in))
}

// play describes, sets up the H.264 video and starts playing.
func (r *rtspReader) play(u *base.URL) error {
	desc, _, err := r.client.Describe(u)
	if err != nil {
		return err
	}
	var forma *format.H264
	medi := desc.FindFormat(&forma)
	if medi == nil {
		return fmt.Errorf("no H.264 video in the stream (found %s); Vigil reads H.264: choose an H.264 stream or profile on the camera", codecNames(desc))
	}
	if r.dec, err = forma.CreateDecoder(); err != nil {
		return err
	}
	r.sps, r.pps = forma.SPS, forma.PPS
	if _, err := r.client.Setup(desc.BaseURL, medi, 0, 0); err != nil {
		return err
	}
	r.client.OnPacketRTP(medi, forma, func(pkt *rtp.Packet) { r.packet(medi, pkt) })
	_, err = r.client.Play(nil)
	return err
}

func codecNames(desc *description.Session) string {
	var names []string
	for _, m := range desc.Medias {
		for _, f := range m.Formats {
			names = append(names, f.Codec())
		}
	}
	if len(names) == 0 {
		return "no media"
	}
	return fmt.Sprint(names)
}

// waitFirst waits for the first key picture and describes the stream.
func (r *rtspReader) waitFirst(ctx context.Context) (Info, error) {
	t := time.NewTimer(r.opt.probeTimeout())
	defer t.Stop()
	select {
	case <-r.first:
	case <-r.ended:
		err := r.endErr
		if err == nil {
			err = errors.New("stream closed before its first picture")
		}
		return Info{}, r.fail(err)
	case <-t.C:
		return Info{}, fmt.Errorf("%s: timed out after %s waiting for the stream's first key picture", r.in, r.opt.probeTimeout())
	case <-ctx.Done():
		return Info{}, ctx.Err()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var sps h264.SPS
	if err := sps.Unmarshal(r.sps); err != nil {
		return Info{}, fmt.Errorf("%s: unreadable H.264 SPS: %v", r.in, err)
	}
	return Info{Width: sps.Width(), Height: sps.Height(), FPS: sps.FPS(), Codec: "h264"}, nil
}

// packet turns RTP packets into access units; it runs on the client's
// reading goroutine.
func (r *rtspReader) packet(medi *description.Media, pkt *rtp.Packet) {
	pts, ok := r.client.PacketPTS(medi, pkt)
	if !ok {
		return
	}
	nalus, err := r.dec.Decode(pkt)
	if err != nil {
		return // more packets needed, or a loss: the decoder resynchronises
	}
	r.accessUnit(nalus, pts)
}

// accessUnit keeps parameter sets, starts at the first key picture,
// stamps the picture and hands it on.
func (r *rtspReader) accessUnit(nalus [][]byte, pts int64) {
	au, ok := r.stamp(nalus, pts)
	if !ok {
		return
	}
	if r.opt.OnAccessUnit != nil {
		r.opt.OnAccessUnit(au)
	}
	r.mu.Lock()
	r.enqueue(au)
	r.mu.Unlock()
}

// stamp keeps parameter sets, skips everything before the first key
// picture and gives the picture its times.
func (r *rtspReader) stamp(nalus [][]byte, pts int64) (AccessUnit, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var pic [][]byte
	key := false
	for _, n := range nalus {
		if len(n) == 0 {
			continue
		}
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS:
			r.sps = n
			continue
		case h264.NALUTypePPS:
			r.pps = n
			continue
		case h264.NALUTypeAccessUnitDelimiter:
			continue
		case h264.NALUTypeIDR:
			key = true
		}
		pic = append(pic, n)
	}
	if len(pic) == 0 || r.closed || (!r.started && (!key || r.sps == nil || r.pps == nil)) {
		return AccessUnit{}, false
	}
	if key {
		pic = append([][]byte{r.sps, r.pps}, pic...)
	}
	if !r.started {
		r.started, r.base = true, pts
		r.dts = &h264.DTSExtractor{}
		r.dts.Initialize()
	}
	dts, err := r.dts.Extract(pic, pts-r.base)
	if err != nil {
		if key {
			r.dts.Initialize()
		}
		return AccessUnit{}, false
	}
	au := AccessUnit{PTS: rtpTime(pts - r.base), DTS: rtpTime(dts), NALUs: pic, Key: key}
	r.measureFPS(au.PTS)
	return au, true
}

// measureFPS notes the picture rate from the first two pictures, for
// streams whose SPS does not state it; it closes first once known.
func (r *rtspReader) measureFPS(pts time.Duration) {
	r.pictures++
	switch {
	case r.pictures == 1:
		var sps h264.SPS
		if sps.Unmarshal(r.sps) == nil && sps.FPS() > 0 {
			r.fps = sps.FPS()
			close(r.first)
		}
	case r.pictures == 2 && r.fps == 0:
		if d := pts - r.lastPTS; d > 0 {
			r.fps = float64(time.Second) / float64(d)
		} else {
			r.fps = -1
		}
		close(r.first)
	}
	r.lastPTS = pts
}

// rtpTime converts 90 kHz ticks to a duration, rounded to the microsecond
// exactly as ffmpeg rescales the decoded frame's PTS.
func rtpTime(ticks int64) time.Duration {
	return time.Duration(math.Round(float64(ticks)*1e6/90000)) * time.Microsecond
}

func auBytes(au AccessUnit) int {
	n := 0
	for _, x := range au.NALUs {
		n += len(x) + 4
	}
	return n
}

// backlog is the queue's span in stream time.
func (r *rtspReader) backlog() time.Duration {
	if r.opt.Backlog > 0 {
		return r.opt.Backlog
	}
	return streamQueueSpan
}

// enqueue queues a picture for ffmpeg; r.mu is held. A full queue is
// emptied, and pictures are dropped up to the next key picture.
func (r *rtspReader) enqueue(au AccessUnit) {
	size := auBytes(au)
	if r.waitKey && !au.Key {
		r.dropped++
		return
	}
	full := len(r.queue) >= streamQueueUnits || r.queued+size > streamQueueBytes ||
		(len(r.queue) > 0 && au.DTS-r.queue[0].DTS > r.backlog())
	if full {
		r.dropped += int64(len(r.queue)) + 1
		clear(r.queue)
		r.queue, r.queued = r.queue[:0], 0
		r.waitKey = true
		if !au.Key {
			return
		}
	}
	r.waitKey = false
	r.queue = append(r.queue, au)
	r.queued += size
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// next pops the oldest queued picture, waiting for one; ok is false once
// the reader is closed or has failed.
func (r *rtspReader) next(done <-chan struct{}) (AccessUnit, bool) {
	for {
		r.mu.Lock()
		if len(r.queue) > 0 {
			au := r.queue[0]
			r.queue[0] = AccessUnit{}
			r.queue = r.queue[1:]
			r.queued -= auBytes(au)
			r.mu.Unlock()
			return au, true
		}
		closed := r.closed
		r.mu.Unlock()
		if closed {
			return AccessUnit{}, false
		}
		select {
		case <-r.wake:
		case <-done:
			return AccessUnit{}, false
		}
	}
}

// Dropped counts pictures dropped because ffmpeg fell behind.
func (r *rtspReader) Dropped() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// feed writes queued pictures to w as MPEG-TS until the stream ends or w
// fails, then closes w so that ffmpeg sees the end of its input.
func (r *rtspReader) feed(w io.WriteCloser) {
	defer w.Close()
	tw, err := NewTSWriter(w)
	if err != nil {
		return
	}
	for {
		au, ok := r.next(r.ended)
		if !ok {
			return
		}
		if tw.Write(au) != nil {
			r.close() // ffmpeg has gone: stop reading too
			return
		}
	}
}

// TSWriter writes H.264 access units as an MPEG-TS stream, the container
// in which ffmpeg reads them from a pipe (to decode them, or to copy them
// into a clip), timestamps included.
type TSWriter struct {
	bw    *bufio.Writer
	mw    *mpegts.Writer
	track *mpegts.Track
}

// NewTSWriter starts an MPEG-TS stream on w.
func NewTSWriter(w io.Writer) (*TSWriter, error) {
	t := &TSWriter{bw: bufio.NewWriterSize(w, 256<<10), track: &mpegts.Track{Codec: &mpegts.CodecH264{}}}
	t.mw = &mpegts.Writer{W: t.bw, Tracks: []*mpegts.Track{t.track}}
	if err := t.mw.Initialize(); err != nil {
		return nil, err
	}
	return t, nil
}

// Write writes one access unit and flushes it to the underlying writer.
// PTS and DTS must not be negative.
func (t *TSWriter) Write(au AccessUnit) error {
	if err := t.mw.WriteH264(t.track, tsTicks(au.PTS), tsTicks(au.DTS), au.NALUs); err != nil {
		return err
	}
	return t.bw.Flush()
}

func tsTicks(d time.Duration) int64 {
	return tsBase + int64(math.Round(d.Seconds()*90000))
}

func (r *rtspReader) markClosed() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// close disconnects and waits for the client's goroutines; it is safe to
// call more than once and from any goroutine.
func (r *rtspReader) close() {
	r.closeOnce.Do(func() {
		if r.stop != nil {
			r.stop()
		}
		r.mu.Lock()
		r.closing = true
		r.mu.Unlock()
		r.markClosed()
		r.client.Close()
		<-r.ended
	})
}

// err is why the connection failed by itself; nil while it runs and when
// Vigil closed it.
func (r *rtspReader) err() error {
	select {
	case <-r.ended:
	default:
		return nil
	}
	r.mu.Lock()
	closing := r.closing
	r.mu.Unlock()
	if closing {
		return nil
	}
	return r.endErr
}
