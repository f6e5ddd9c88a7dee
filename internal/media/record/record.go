// Package record keeps a camera's compressed video on disk for a retention
// period — every group of pictures the camera sent, as it came, no
// decoding or encoding — and cuts clips of any time range from it: the
// video of a track that raised no alert, found hours later by the suspect
// search. Files roll every Segment and the oldest are deleted past Retain
// or MaxBytes, measured on the camera's own clock (the frames' time), not
// the wall clock, so a replay keeps what a live run would.
//
// A file is a header followed by records, one per group of pictures; each
// record carries its length and a CRC, so a file cut short by a crash is
// read up to its last whole record. The recorder never appends to a file
// it did not create in this run.
package record

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/media/segring"
)

// ErrNoVideo means nothing recorded overlaps the asked range.
var ErrNoVideo = errors.New("record: no recorded video in the requested range")

// Options bound what a recorder keeps. Zero values take the defaults.
type Options struct {
	Retain   time.Duration // default 24 h
	MaxBytes int64         // default 8 GiB
	Segment  time.Duration // one file per this much video; default 1 min
	// MaxClip bounds the span of one Clip (default 10 min) and MaxClipBytes
	// its size (default 256 MiB): a request cannot make the server read
	// hours of video.
	MaxClip      time.Duration
	MaxClipBytes int64
}

func (o Options) withDefaults() Options {
	o.Retain = cmpOr(o.Retain, 24*time.Hour)
	o.MaxBytes = cmpOr(o.MaxBytes, 8<<30)
	o.Segment = cmpOr(o.Segment, time.Minute)
	o.MaxClip = cmpOr(o.MaxClip, 10*time.Minute)
	o.MaxClipBytes = cmpOr(o.MaxClipBytes, 256<<20)
	return o
}

func cmpOr[T time.Duration | int64](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// GOP is one group of pictures: Start is the camera-clock time of its
// first picture's decode time; the pictures' PTS and DTS are relative to
// it (the first DTS is 0).
type GOP struct {
	Start time.Time
	AUs   []decode.AccessUnit
}

// end is the decode time of its last picture.
func (g GOP) end() time.Time {
	if len(g.AUs) == 0 {
		return g.Start
	}
	return g.Start.Add(g.AUs[len(g.AUs)-1].DTS)
}

// file is one segment on disk.
type file struct {
	path       string
	start, end time.Time // first GOP's start; last GOP's end (or the next file's start when opened)
	bytes      int64
}

// Recorder is one camera's recording. Write is called by one goroutine;
// Clip and Stats by any.
type Recorder struct {
	dir string
	opt Options

	mu    sync.Mutex
	files []file // oldest first
	bytes int64
	cur   *os.File // the file being written; nil before the first GOP
}

// Open starts recording into dir (created if missing), taking over the
// files an earlier run left there for Clip and for retention.
func Open(dir string, opt Options) (*Recorder, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	r := &Recorder{dir: dir, opt: opt.withDefaults()}
	if err := r.scan(); err != nil {
		return nil, err
	}
	return r, nil
}

// fileExt names recording files; the stem is the first GOP's start in Unix
// milliseconds, so names sort by time.
const fileExt = ".vrec"

// scan lists the recording files in dir. A file's end is taken as the next
// file's start, and the last one's is read from its records.
func (r *Recorder) scan() error {
	ents, err := os.ReadDir(r.dir)
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	for _, e := range ents {
		ms, ok := stemMillis(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		r.files = append(r.files, file{path: filepath.Join(r.dir, e.Name()), start: time.UnixMilli(ms).UTC(), bytes: info.Size()})
		r.bytes += info.Size()
	}
	slices.SortFunc(r.files, func(a, b file) int { return a.start.Compare(b.start) })
	for i := range r.files {
		if i+1 < len(r.files) {
			r.files[i].end = r.files[i+1].start
			continue
		}
		r.files[i].end = r.files[i].start
		_ = readFile(r.files[i].path, func(g GOP) bool {
			r.files[i].end = g.end()
			return true
		})
	}
	return nil
}

// stemMillis parses "<unix ms>[-n].vrec".
func stemMillis(name string) (int64, bool) {
	stem, ok := strings.CutSuffix(name, fileExt)
	if !ok {
		return 0, false
	}
	stem, _, _ = strings.Cut(stem, "-")
	ms, err := strconv.ParseInt(stem, 10, 64)
	return ms, err == nil && ms > 0
}

// Write appends a group of pictures, starting a new file when the segment
// is full or the camera's clock stepped back, and then deletes the oldest
// files beyond the retention.
func (r *Recorder) Write(g GOP) error {
	if len(g.AUs) == 0 {
		return nil
	}
	rec, err := marshalGOP(g)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.roll(g.Start); err != nil {
		return err
	}
	if _, err := r.cur.Write(rec); err != nil {
		// The file may now end in half a record; readers stop there, and
		// the next GOP goes to a new file.
		r.closeCur()
		return fmt.Errorf("record: %w", err)
	}
	last := &r.files[len(r.files)-1]
	last.bytes += int64(len(rec))
	last.end = g.end()
	r.bytes += int64(len(rec))
	r.retain()
	return nil
}

// roll makes sure the current file can take a GOP starting at start.
func (r *Recorder) roll(start time.Time) error {
	if r.cur != nil {
		last := r.files[len(r.files)-1]
		if start.Sub(last.start) < r.opt.Segment && !start.Before(last.end) {
			return nil
		}
		r.closeCur()
	}
	path, f, err := r.create(start)
	if err != nil {
		return err
	}
	r.cur = f
	// Files are kept in the order they were written: after the camera's
	// clock stepped back, the list is no longer sorted by start, which
	// Clip does not need and retention does not want.
	r.files = append(r.files, file{path: path, start: start, end: start, bytes: int64(len(fileMagic))})
	r.bytes += int64(len(fileMagic))
	return nil
}

// create makes a new file named for start.
func (r *Recorder) create(start time.Time) (string, *os.File, error) {
	stem := strconv.FormatInt(start.UnixMilli(), 10)
	for n := 0; n < 1000; n++ {
		name := stem + fileExt
		if n > 0 {
			name = stem + "-" + strconv.Itoa(n) + fileExt
		}
		path := filepath.Join(r.dir, name)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", nil, fmt.Errorf("record: %w", err)
		}
		if _, err := f.Write([]byte(fileMagic)); err != nil {
			f.Close()
			return "", nil, fmt.Errorf("record: %w", err)
		}
		return path, f, nil
	}
	return "", nil, fmt.Errorf("record: too many files named %s in %s", stem, r.dir)
}

func (r *Recorder) closeCur() {
	if r.cur != nil {
		_ = r.cur.Close()
		r.cur = nil
	}
}

// retain deletes the oldest files while the recording holds more than
// MaxBytes or reaches further back than Retain before its newest video.
// The file being written is never deleted.
func (r *Recorder) retain() {
	newest := r.files[len(r.files)-1].end
	for len(r.files) > 1 {
		old := r.files[0]
		if r.bytes <= r.opt.MaxBytes && newest.Sub(old.end) <= r.opt.Retain {
			return
		}
		if err := os.Remove(old.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return // tried again after the next GOP
		}
		r.bytes -= old.bytes
		r.files = r.files[1:]
	}
}

// Close ends the current file.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur == nil {
		return nil
	}
	err := r.cur.Close()
	r.cur = nil
	return err
}

// Stats describe a recording.
type Stats struct {
	Files          int
	Bytes          int64
	Oldest, Newest time.Time
}

// Stats reports what the recording holds.
func (r *Recorder) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := Stats{Files: len(r.files), Bytes: r.bytes}
	if n := len(r.files); n > 0 {
		st.Oldest, st.Newest = r.files[0].start, r.files[n-1].end
	}
	return st
}

// Clip is a cut of the recording as a fragmented MP4.
type Clip struct {
	MP4        []byte
	Start, End time.Time // the first picture's and the last picture's time
	Pictures   int
}

// Clip cuts the recorded video from from to to: whole groups of pictures
// (it starts on the key picture at or before from), at the stream's own
// resolution (it ends where the stream changed its picture size).
func (r *Recorder) Clip(from, to time.Time) (Clip, error) {
	if !to.After(from) {
		return Clip{}, fmt.Errorf("record: the clip's end %s is not after its start %s", to.Format(time.RFC3339Nano), from.Format(time.RFC3339Nano))
	}
	if to.Sub(from) > r.opt.MaxClip {
		return Clip{}, fmt.Errorf("record: a clip spans at most %s, not %s", r.opt.MaxClip, to.Sub(from).Round(time.Second))
	}
	var gops []GOP
	var size int64
	var tooBig bool
	for _, path := range r.overlapping(from, to) {
		err := readFile(path, func(g GOP) bool {
			if g.Start.After(to) {
				return false
			}
			if g.end().Before(from) {
				return true
			}
			size += g.Bytes()
			if size > r.opt.MaxClipBytes {
				tooBig = true
				return false
			}
			gops = append(gops, g)
			return true
		})
		if err != nil {
			return Clip{}, err
		}
		if tooBig {
			return Clip{}, fmt.Errorf("record: the clip would hold more than %d MiB", r.opt.MaxClipBytes>>20)
		}
	}
	return clipOf(gops, to)
}

// Covers reports whether some file spans part of [from, to]: a cheap test
// of whether Clip may find video there.
func (r *Recorder) Covers(from, to time.Time) bool { return len(r.overlapping(from, to)) > 0 }

// overlapping lists the files that may hold video in [from, to].
func (r *Recorder) overlapping(from, to time.Time) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, f := range r.files {
		if !f.start.After(to) && !f.end.Before(from) {
			out = append(out, f.path)
		}
	}
	return out
}

// clipOf lays the groups on one time line from the first one's start,
// keeps the pictures decoded by to, and stops where the picture size
// changed (a fragmented MP4 has one SPS). Where the camera was away, the
// picture before the gap lasts until the one after it.
func clipOf(gops []GOP, to time.Time) (Clip, error) {
	slices.SortStableFunc(gops, func(a, b GOP) int { return a.Start.Compare(b.Start) })
	var aus []decode.AccessUnit
	var sps []byte
	c := Clip{}
	for _, g := range gops {
		s := spsOf(g.AUs[0])
		if sps != nil && s != nil && !bytes.Equal(s, sps) {
			break
		}
		if sps == nil {
			sps = s
			c.Start = g.Start.Add(g.AUs[0].PTS)
		}
		off := g.Start.Sub(gops[0].Start)
		for _, au := range g.AUs {
			if g.Start.Add(au.DTS).After(to) {
				break
			}
			au.PTS += off
			au.DTS += off
			aus = append(aus, au)
			c.End = gops[0].Start.Add(au.PTS)
		}
	}
	if len(aus) == 0 {
		return Clip{}, ErrNoVideo
	}
	data, err := segring.MP4(aus)
	if err != nil {
		return Clip{}, fmt.Errorf("record: %w", err)
	}
	c.MP4, c.Pictures = data, len(aus)
	return c, nil
}

// Bytes is the size of the pictures' NAL units.
func (g GOP) Bytes() int64 {
	var n int64
	for _, au := range g.AUs {
		for _, x := range au.NALUs {
			n += int64(len(x))
		}
	}
	return n
}
