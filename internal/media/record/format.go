package record

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/vigil-cctv/vigil/internal/decode"
)

// fileMagic starts every recording file (format version 1).
const fileMagic = "VIGILREC1\n"

// Limits a record must keep; a file that breaks them is read up to there.
const (
	maxRecordBytes = 64 << 20 // one group of pictures
	maxPictures    = 10000
	maxNALUs       = 1024
)

// A record is: body length (uint32), CRC-32 (IEEE) of the body (uint32),
// body. The body: start (int64 Unix ns), picture count (uint32), then per
// picture PTS and DTS (int64 ns, relative to start), key (1 byte), NAL unit
// count (uint32) and each NAL unit's length (uint32) and bytes. Integers
// are little-endian.

// marshalGOP encodes one record.
func marshalGOP(g GOP) ([]byte, error) {
	if len(g.AUs) > maxPictures {
		return nil, fmt.Errorf("record: a group of %d pictures (at most %d)", len(g.AUs), maxPictures)
	}
	b := make([]byte, 8, 8+16+g.Bytes()+int64(len(g.AUs))*32)
	b = binary.LittleEndian.AppendUint64(b, uint64(g.Start.UnixNano()))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(g.AUs)))
	for _, au := range g.AUs {
		if len(au.NALUs) > maxNALUs {
			return nil, fmt.Errorf("record: a picture of %d NAL units (at most %d)", len(au.NALUs), maxNALUs)
		}
		b = binary.LittleEndian.AppendUint64(b, uint64(au.PTS))
		b = binary.LittleEndian.AppendUint64(b, uint64(au.DTS))
		b = append(b, boolByte(au.Key))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(au.NALUs)))
		for _, n := range au.NALUs {
			b = binary.LittleEndian.AppendUint32(b, uint32(len(n)))
			b = append(b, n...)
		}
	}
	body := len(b) - 8
	if body > maxRecordBytes {
		return nil, fmt.Errorf("record: a group of pictures of %d MiB (at most %d)", body>>20, maxRecordBytes>>20)
	}
	binary.LittleEndian.PutUint32(b[0:], uint32(body))
	binary.LittleEndian.PutUint32(b[4:], crc32.ChecksumIEEE(b[8:]))
	return b, nil
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// errTorn marks a record cut short or damaged: reading stops there.
var errTorn = errors.New("record: torn or damaged record")

// readFile calls fn with each whole record of the file at path until fn
// returns false. A file missing (deleted by retention meanwhile) holds
// nothing; one that ends in a torn record is read up to it.
func readFile(path string, fn func(GOP) bool) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	defer f.Close()
	return readRecords(bufio.NewReaderSize(f, 1<<16), fn)
}

// readRecords reads a file's header and records from r.
func readRecords(r io.Reader, fn func(GOP) bool) error {
	magic := make([]byte, len(fileMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != fileMagic {
		return nil // not a recording, or empty: nothing in it
	}
	var head [8]byte
	for {
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return nil // the end, or a torn header
		}
		n := binary.LittleEndian.Uint32(head[0:])
		if n > maxRecordBytes {
			return nil
		}
		// Read what is there rather than allocate what the header claims.
		body, err := io.ReadAll(io.LimitReader(r, int64(n)))
		if err != nil || len(body) != int(n) || crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(head[4:]) {
			return nil
		}
		g, err := unmarshalGOP(body)
		if err != nil {
			return nil
		}
		if !fn(g) {
			return nil
		}
	}
}

// unmarshalGOP decodes a record's body, checking every length against
// what is left.
func unmarshalGOP(b []byte) (GOP, error) {
	d := decoder{b: b}
	g := GOP{Start: time.Unix(0, int64(d.u64())).UTC()}
	n := d.u32()
	if n == 0 || n > maxPictures {
		return GOP{}, errTorn
	}
	g.AUs = make([]decode.AccessUnit, 0, min(int(n), len(b)/21))
	for range n {
		au := decode.AccessUnit{PTS: time.Duration(d.u64()), DTS: time.Duration(d.u64()), Key: d.byte() == 1}
		nn := d.u32()
		if nn > maxNALUs {
			return GOP{}, errTorn
		}
		for range nn {
			nalu := d.bytes(int(d.u32()))
			if len(nalu) == 0 {
				return GOP{}, errTorn
			}
			au.NALUs = append(au.NALUs, nalu)
		}
		if d.bad {
			return GOP{}, errTorn
		}
		g.AUs = append(g.AUs, au)
	}
	if d.bad || len(d.b) != 0 {
		return GOP{}, errTorn
	}
	return g, nil
}

// decoder reads little-endian fields; bad is set (and zeros returned) once
// a field runs past the end.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) take(n int) []byte {
	if d.bad || n < 0 || n > len(d.b) {
		d.bad = true
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) u64() uint64 {
	if v := d.take(8); v != nil {
		return binary.LittleEndian.Uint64(v)
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if v := d.take(4); v != nil {
		return binary.LittleEndian.Uint32(v)
	}
	return 0
}

func (d *decoder) byte() byte {
	if v := d.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (d *decoder) bytes(n int) []byte { return d.take(n) }

// spsOf is the SPS a key picture carries, nil when it has none.
func spsOf(au decode.AccessUnit) []byte {
	for _, n := range au.NALUs {
		if len(n) > 0 && h264.NALUType(n[0]&0x1f) == h264.NALUTypeSPS {
			return n
		}
	}
	return nil
}
