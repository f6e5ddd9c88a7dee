// Package segring keeps a camera's recent compressed video — the H.264
// access units read from its RTSP stream — in memory, grouped from one key
// picture to the next, and cuts alert clips from it by stream copy: no
// decoding, no overlay, no encoding and no subprocess per alert: the
// pictures are written as they came into a fragmented MP4 (which browsers
// play) in Go. Live RTSP cameras use it; files and image sequences keep
// media.Clipper's encode path.
//
// Time: access units arrive stamped with the source's PTS (decode.AccessUnit)
// and tagged with the supervisor's session number; the supervisor then tells
// the ring, for each decoded frame, how that source time maps onto the
// camera's continuous PTS (Map). Cuts are asked for in continuous PTS, the
// time of alerts.
package segring

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4"

	"github.com/vigil-cctv/vigil/internal/decode"
)

// ErrNoVideo is returned by Cut when the ring holds nothing in the range.
var ErrNoVideo = errors.New("segring: no video in the requested range")

// Ring is one camera's buffer. WriteAU and Map are called by the camera's
// reader and supervisor; Cut by any number of goroutines.
type Ring struct {
	maxAge   time.Duration
	maxBytes int64

	mu      sync.Mutex
	epochs  []*epoch // oldest first
	bytes   int64
	mapped  time.Duration // newest continuous PTS seen by Map
	mappedS int           // session of the latest Map
	changed chan struct{} // closed and replaced when the ring learns something
	spill   func([]Spilled)
}

// Spilled is a whole group of pictures handed on to a recorder: its
// pictures in source time and the offset that puts them on the camera's
// continuous time line.
type Spilled struct {
	Offset time.Duration // continuous PTS − source PTS
	AUs    []decode.AccessUnit
}

// SetSpill hands every group of pictures to fn once it is complete (the
// next key picture has arrived, or the ring is flushed) and its time line
// is mapped, in order, exactly once; fn runs on the caller of Map or Flush
// and must not block for long. Call it before the first WriteAU.
func (r *Ring) SetSpill(fn func([]Spilled)) {
	r.mu.Lock()
	r.spill = fn
	r.mu.Unlock()
}

// epoch is a run of access units on one source time line: one session, and
// within it no step backwards in time.
type epoch struct {
	session int
	offset  time.Duration // continuous PTS − source PTS
	mapped  bool
	gops    []*gop
	last    time.Duration // DTS of the newest unit
}

// gop is a key picture and the pictures that depend on it.
type gop struct {
	aus     []decode.AccessUnit
	bytes   int64
	spilled bool
}

// New returns a ring keeping about maxAge of video (whole groups of
// pictures) and at most maxBytes. A ring for 3 s pre-roll alerts needs
// maxAge ≥ 3 s plus one key-picture interval plus the post-roll.
func New(maxAge time.Duration, maxBytes int64) *Ring {
	return &Ring{maxAge: maxAge, maxBytes: maxBytes, changed: make(chan struct{})}
}

// WriteAU adds a compressed picture from the given session. Pictures before
// a session's first key picture are ignored (nothing could decode them).
func (r *Ring) WriteAU(session int, au decode.AccessUnit) {
	size := int64(0)
	for _, n := range au.NALUs {
		size += int64(len(n)) + 4
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ep := r.current(session, au)
	if ep == nil {
		return
	}
	if au.Key || len(ep.gops) == 0 {
		ep.gops = append(ep.gops, &gop{})
	}
	g := ep.gops[len(ep.gops)-1]
	g.aus = append(g.aus, au)
	g.bytes += size
	ep.last = au.DTS
	r.bytes += size
	r.evict()
}

// current returns the epoch au belongs to, opening a new one at a new
// session or a step back in time; nil when au cannot start one.
func (r *Ring) current(session int, au decode.AccessUnit) *epoch {
	if n := len(r.epochs); n > 0 {
		ep := r.epochs[n-1]
		if ep.session == session && au.DTS >= ep.last && len(ep.gops) > 0 {
			return ep
		}
	}
	if !au.Key {
		return nil
	}
	ep := &epoch{session: session, last: au.DTS}
	r.epochs = append(r.epochs, ep)
	r.notify()
	return ep
}

// notify wakes every Cut waiting for the ring to change; r.mu is held.
func (r *Ring) notify() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// evict drops the oldest groups of pictures while the ring holds more
// than maxBytes or spans more than maxAge (summed over epochs); the newest
// group always stays.
func (r *Ring) evict() {
	for r.bytes > r.maxBytes || r.span() > r.maxAge {
		ep := r.epochs[0]
		if len(r.epochs) == 1 && len(ep.gops) <= 1 {
			return
		}
		r.bytes -= ep.gops[0].bytes
		ep.gops[0] = nil
		ep.gops = ep.gops[1:]
		if len(ep.gops) == 0 {
			r.epochs[0] = nil
			r.epochs = r.epochs[1:]
		}
	}
}

func (r *Ring) span() time.Duration {
	var d time.Duration
	for _, ep := range r.epochs {
		d += ep.last - ep.gops[0].aus[0].DTS
	}
	return d
}

// Map records that source time src of session is continuous time pts; the
// supervisor calls it for every frame it hands on.
func (r *Ring) Map(session int, src, pts time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.epochs) - 1; i >= 0; i-- {
		ep := r.epochs[i]
		if ep.session == session && ep.gops[0].aus[0].DTS <= src {
			ep.offset, ep.mapped = pts-src, true
			break
		}
	}
	if pts > r.mapped {
		r.mapped = pts
	}
	r.mappedS = session
	r.notify()
	r.spillLocked(false)
}

// Flush hands the groups not yet spilled to the spill function, the
// newest included although it may still grow: the camera is stopping.
func (r *Ring) Flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.spillLocked(true)
}

// spillLocked hands on the mapped groups that are complete (all when
// all is set). It runs with r.mu held so that groups leave in order.
func (r *Ring) spillLocked(all bool) {
	if r.spill == nil {
		return
	}
	var out []Spilled
	for i, ep := range r.epochs {
		if !ep.mapped {
			continue
		}
		for j, g := range ep.gops {
			complete := j+1 < len(ep.gops) || i+1 < len(r.epochs)
			if g.spilled || !(complete || all) {
				continue
			}
			g.spilled = true
			out = append(out, Spilled{Offset: ep.offset, AUs: slices.Clone(g.aus)})
		}
	}
	if len(out) > 0 {
		r.spill(out)
	}
}

// Stats describe what a ring holds.
type Stats struct {
	Bytes    int64
	Pictures int
	Span     time.Duration
}

// Stats reports the ring's contents.
func (r *Ring) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := Stats{Bytes: r.bytes, Span: r.span()}
	for _, ep := range r.epochs {
		for _, g := range ep.gops {
			st.Pictures += len(g.aus)
		}
	}
	return st
}

// Clip describes a written clip.
type Clip struct {
	Path string
	// Start and End are the continuous PTS of its first and last picture;
	// Start is at or before the requested start when the ring reaches that
	// far back, since a clip must begin on a key picture.
	Start, End time.Duration
	Pictures   int
	Bytes      int64
}

// Cut writes the video from continuous PTS from to to into dst, a
// fragmented MP4 written beside dst and renamed into place. It first waits
// until the camera has delivered video up to to — the post-roll — or until
// ctx ends or the camera starts a new session, and then writes whatever
// the ring holds of the range, so a cancelled ctx still yields the clip so
// far. Give ctx a deadline a little past the post-roll in wall time.
func (r *Ring) Cut(ctx context.Context, from, to time.Duration, dst string) (Clip, error) {
	r.waitFor(ctx, to)
	aus, start, end := r.collect(from, to)
	if len(aus) == 0 {
		return Clip{}, ErrNoVideo
	}
	data, err := MP4(aus)
	if err != nil {
		return Clip{}, fmt.Errorf("segring: writing %s: %w", dst, err)
	}
	if err := writeFile(dst, data); err != nil {
		return Clip{}, err
	}
	return Clip{Path: dst, Start: start, End: end, Pictures: len(aus), Bytes: int64(len(data))}, nil
}

// waitFor blocks until Map has seen pts, a new session has begun (the old
// one will deliver nothing more; the new one's time comes after a gap),
// or ctx ends.
func (r *Ring) waitFor(ctx context.Context, pts time.Duration) {
	for {
		r.mu.Lock()
		n := len(r.epochs)
		done := r.mapped >= pts || (n > 0 && r.epochs[n-1].session != r.mappedS)
		ch := r.changed
		r.mu.Unlock()
		if done {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
}

// collect picks, from the mapped epoch with the most pictures in range,
// the groups of pictures that overlap [from, to], cut after the last
// picture due by to (in decode order, so no kept picture lacks a
// reference). Access units come back on a time line starting at 0.
func (r *Ring) collect(from, to time.Duration) (aus []decode.AccessUnit, start, end time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var best []decode.AccessUnit
	var bestOff time.Duration
	for _, ep := range r.epochs {
		if !ep.mapped {
			continue
		}
		var got []decode.AccessUnit
		for i, g := range ep.gops {
			first := g.aus[0].PTS + ep.offset
			if first > to {
				break
			}
			// The group covers [first, next gop's start), the last one up
			// to its newest picture.
			if i+1 < len(ep.gops) && ep.gops[i+1].aus[0].PTS+ep.offset <= from {
				continue
			}
			if i+1 == len(ep.gops) && ep.last+ep.offset < from {
				continue
			}
			for _, au := range g.aus {
				if au.DTS+ep.offset > to {
					break
				}
				got = append(got, au)
			}
		}
		if len(got) > len(best) {
			best, bestOff = got, ep.offset
		}
	}
	if len(best) == 0 {
		return nil, 0, 0
	}
	base := best[0].DTS
	start, end = best[0].PTS+bestOff, best[0].PTS+bestOff
	out := make([]decode.AccessUnit, len(best))
	for i, au := range best {
		end = max(end, au.PTS+bestOff)
		start = min(start, au.PTS+bestOff)
		au.PTS -= base
		au.DTS -= base
		out[i] = au
	}
	return out, start, end
}

// timescale is the MP4 track's clock: RTP's 90 kHz.
const timescale = 90000

func ticks(d time.Duration) int64 { return int64(math.Round(d.Seconds() * timescale)) }

// MP4 is the pictures (on a time line starting at 0) as a fragmented
// MP4: an init segment with the first key picture's SPS and PPS, then one
// fragment with every picture.
// Each picture lasts until the next one's decode time; the last as long
// as the one before it.
func MP4(aus []decode.AccessUnit) ([]byte, error) {
	sps, pps := paramSets(aus[0])
	if sps == nil || pps == nil {
		return nil, errors.New("first picture has no SPS/PPS")
	}
	var buf seekablebuffer.Buffer
	init := fmp4.Init{Tracks: []*fmp4.InitTrack{{ID: 1, TimeScale: timescale, Codec: &mp4.CodecH264{SPS: sps, PPS: pps}}}}
	if err := init.Marshal(&buf); err != nil {
		return nil, err
	}
	track := &fmp4.PartTrack{ID: 1, BaseTime: uint64(ticks(aus[0].DTS))}
	for i, au := range aus {
		dur := int64(0)
		switch {
		case i+1 < len(aus):
			dur = ticks(aus[i+1].DTS) - ticks(au.DTS)
		case i > 0:
			dur = ticks(au.DTS) - ticks(aus[i-1].DTS)
		}
		s := &fmp4.Sample{Duration: uint32(max(dur, 0))}
		if err := s.FillH264(int32(ticks(au.PTS)-ticks(au.DTS)), au.NALUs); err != nil {
			return nil, err
		}
		track.Samples = append(track.Samples, s)
	}
	part := fmp4.Part{SequenceNumber: 1, Tracks: []*fmp4.PartTrack{track}}
	var pbuf seekablebuffer.Buffer
	if err := part.Marshal(&pbuf); err != nil {
		return nil, err
	}
	return append(buf.Bytes(), pbuf.Bytes()...), nil
}

func paramSets(au decode.AccessUnit) (sps, pps []byte) {
	for _, n := range au.NALUs {
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS:
			sps = n
		case h264.NALUTypePPS:
			pps = n
		}
	}
	return sps, pps
}

// writeFile writes data beside path and renames it into place, so a reader
// never sees half a clip at the path an alert refers to.
func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".part"
	err := os.WriteFile(tmp, data, 0o644)
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}
