// Package rtsptest runs a real RTSP server inside a test process. It plays
// an H.264 Annex-B elementary stream in a loop, at real time, to every
// reader, and it can be stopped and started again on the same port (a
// camera or network outage) or frozen (connection kept, no packets: the
// "stalled" case that only a watchdog notices).
package rtsptest

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v5/pkg/liberrors"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
)

// Options configure a Server. The zero value serves /cam at 10 fps with no
// authentication.
type Options struct {
	Path string  // stream path, default "cam"
	FPS  float64 // frame rate of the elementary stream, default 10
	// User and Pass, when User is set, make readers authenticate.
	User, Pass string
	// Start is where in the loop the stream begins, a fraction in [0, 1)
	// moved back to the key picture before it (default 0: the first).
	Start float64
}

// Server is an RTSP server that serves one looping H.264 stream.
type Server struct {
	opt  Options
	aus  [][][]byte // access units, each a list of NAL units
	sps  []byte
	pps  []byte
	addr string // host:port, fixed after the first start

	frozen atomic.Bool

	mu     sync.Mutex
	srv    *gortsplib.Server
	stream *gortsplib.ServerStream
	stop   context.CancelFunc
	done   chan struct{}
}

// Start loads an Annex-B H.264 file (one slice per picture, no B-frames)
// and starts serving it on a random localhost port.
func Start(h264File string, opt Options) (*Server, error) {
	if opt.Path == "" {
		opt.Path = "cam"
	}
	if opt.FPS <= 0 {
		opt.FPS = 10
	}
	s := &Server{opt: opt, addr: "127.0.0.1:0"}
	if err := s.load(h264File); err != nil {
		return nil, err
	}
	return s, s.Restart()
}

// load splits the stream into access units: a picture's slice closes the
// unit, so parameter sets and SEI travel with the picture that follows.
func (s *Server) load(file string) error {
	buf, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var nalus h264.AnnexB
	if err := nalus.Unmarshal(buf); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	var au [][]byte
	for _, n := range nalus {
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS:
			s.sps = n
		case h264.NALUTypePPS:
			s.pps = n
		case h264.NALUTypeAccessUnitDelimiter:
			continue
		}
		au = append(au, n)
		if t := h264.NALUType(n[0] & 0x1f); t == h264.NALUTypeIDR || t == h264.NALUTypeNonIDR {
			s.aus = append(s.aus, au)
			au = nil
		}
	}
	if len(s.aus) == 0 || s.sps == nil || s.pps == nil {
		return fmt.Errorf("%s: no H.264 pictures or parameter sets found", file)
	}
	return nil
}

// URL is the stream's address, without credentials.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "rtsp://" + s.addr + "/" + s.opt.Path
}

// Addr is the host:port the server listens on.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Freeze stops (true) or resumes (false) sending packets while keeping
// every connection open.
func (s *Server) Freeze(on bool) { s.frozen.Store(on) }

// Restart starts the server, on the same port as before if it ran before.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return errors.New("rtsptest: already running")
	}
	srv := &gortsplib.Server{
		Handler:     &handler{s: s},
		RTSPAddress: s.addr,
		Listen:      s.listen,
	}
	if err := srv.Start(); err != nil {
		return err
	}
	desc := &description.Session{Medias: []*description.Media{{
		Type:    description.MediaTypeVideo,
		Formats: []format.Format{&format.H264{PayloadTyp: 96, PacketizationMode: 1, SPS: s.sps, PPS: s.pps}},
	}}}
	stream := &gortsplib.ServerStream{Server: srv, Desc: desc}
	if err := stream.Initialize(); err != nil {
		srv.Close()
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.srv, s.stream, s.stop, s.done = srv, stream, cancel, make(chan struct{})
	go s.play(ctx, stream, s.done)
	return nil
}

// listen records the port picked for "127.0.0.1:0" so that a restart comes
// back on the same address, as a rebooted camera would.
func (s *Server) listen(network, address string) (net.Listener, error) {
	l, err := net.Listen(network, address)
	if err == nil {
		s.addr = l.Addr().String()
	}
	return l, err
}

// Stop closes the server and every connection: the camera "goes away".
func (s *Server) Stop() {
	s.mu.Lock()
	srv, stream, stop, done := s.srv, s.stream, s.stop, s.done
	s.srv, s.stream = nil, nil
	s.mu.Unlock()
	if srv == nil {
		return
	}
	stop()
	<-done
	stream.Close()
	srv.Close()
}

// Close stops the server for good.
func (s *Server) Close() { s.Stop() }

// play sends the access units at real time, looping, with RTP timestamps
// that keep increasing across loops like a live camera's.
func (s *Server) play(ctx context.Context, stream *gortsplib.ServerStream, done chan<- struct{}) {
	defer close(done)
	medi := stream.Desc.Medias[0]
	enc, err := medi.Formats[0].(*format.H264).CreateEncoder()
	if err != nil {
		return
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	base := binary.BigEndian.Uint32(b[:])
	step := time.Duration(float64(time.Second) / s.opt.FPS)
	tick := time.NewTicker(step)
	defer tick.Stop()
	first := s.keyBefore(int(s.opt.Start * float64(len(s.aus))))
	for i := 0; ; i++ {
		if !s.frozen.Load() {
			ts := base + uint32(float64(i)*90000/s.opt.FPS)
			send(stream, medi, enc, s.aus[(first+i)%len(s.aus)], ts)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// keyBefore is the index of the last access unit at or before i that
// holds a key (IDR) picture, 0 when none does.
func (s *Server) keyBefore(i int) int {
	for i = min(max(i, 0), len(s.aus)-1); i > 0; i-- {
		for _, n := range s.aus[i] {
			if h264.NALUType(n[0]&0x1f) == h264.NALUTypeIDR {
				return i
			}
		}
	}
	return 0
}

// send packetises one access unit; write errors (no readers, a reader
// going away) are normal for a test server and ignored.
func send(stream *gortsplib.ServerStream, medi *description.Media, enc *rtph264.Encoder, au [][]byte, ts uint32) {
	pkts, err := enc.Encode(au)
	if err != nil {
		return
	}
	for _, p := range pkts {
		p.Timestamp = ts
		_ = stream.WritePacketRTP(medi, p)
	}
}

// handler answers readers; there is no publishing.
type handler struct{ s *Server }

func (h *handler) authorise(c *gortsplib.ServerConn, req *base.Request) (*base.Response, error) {
	if h.s.opt.User == "" || c.VerifyCredentials(req, h.s.opt.User, h.s.opt.Pass) {
		return &base.Response{StatusCode: base.StatusOK}, nil
	}
	return &base.Response{StatusCode: base.StatusUnauthorized}, liberrors.ErrServerAuth{}
}

func (h *handler) current() *gortsplib.ServerStream {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	return h.s.stream
}

// OnDescribe implements gortsplib.ServerHandlerOnDescribe.
func (h *handler) OnDescribe(ctx *gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	if res, err := h.authorise(ctx.Conn, ctx.Request); err != nil {
		return res, nil, err
	}
	if ctx.Path != "/"+h.s.opt.Path {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, nil
	}
	return &base.Response{StatusCode: base.StatusOK}, h.current(), nil
}

// OnSetup implements gortsplib.ServerHandlerOnSetup.
func (h *handler) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	if res, err := h.authorise(ctx.Conn, ctx.Request); err != nil {
		return res, nil, err
	}
	return &base.Response{StatusCode: base.StatusOK}, h.current(), nil
}

// OnPlay implements gortsplib.ServerHandlerOnPlay.
func (h *handler) OnPlay(*gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// MakeClip encodes seconds of a video file as an Annex-B H.264 stream that
// Start can serve: constant frame rate, one slice per picture, no B-frames
// and a keyframe every gop pictures so a reader starts quickly.
func MakeClip(ctx context.Context, src, dst string, seconds float64, fps float64, gop int) error {
	args := []string{"-hide_banner", "-loglevel", "error", "-y", "-i", src,
		"-t", fmt.Sprint(seconds), "-an", "-r", fmt.Sprint(fps),
		"-c:v", "libx264", "-preset", "veryfast", "-bf", "0", "-g", fmt.Sprint(gop),
		"-pix_fmt", "yuv420p", "-f", "h264", dst}
	out, err := exec.CommandContext(ctx, "ffmpeg", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ffmpeg: %v: %s", err, out)
	}
	return nil
}
