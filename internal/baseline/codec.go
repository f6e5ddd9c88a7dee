package baseline

import (
	"encoding/binary"
	"fmt"
	"math"
)

// wbuf appends little-endian values.
type wbuf struct{ b []byte }

func (w *wbuf) u8(v uint8)   { w.b = append(w.b, v) }
func (w *wbuf) u16(v uint16) { w.b = binary.LittleEndian.AppendUint16(w.b, v) }
func (w *wbuf) u32(v uint32) { w.b = binary.LittleEndian.AppendUint32(w.b, v) }
func (w *wbuf) u64(v uint64) { w.b = binary.LittleEndian.AppendUint64(w.b, v) }
func (w *wbuf) i8(v int8)    { w.u8(uint8(v)) }
func (w *wbuf) i16(v int16)  { w.u16(uint16(v)) }
func (w *wbuf) i32(v int32)  { w.u32(uint32(v)) }
func (w *wbuf) i64(v int64)  { w.u64(uint64(v)) }
func (w *wbuf) f64(v float64) {
	w.u64(math.Float64bits(v))
}
func (w *wbuf) f32(v float32) { w.u32(math.Float32bits(v)) }
func (w *wbuf) n(v int)       { w.u32(uint32(v)) }
func (w *wbuf) str(s string) {
	w.n(len(s))
	w.b = append(w.b, s...)
}
func (w *wbuf) bool(v bool) {
	if v {
		w.u8(1)
	} else {
		w.u8(0)
	}
}
func (w *wbuf) f64s(v []float64) {
	for _, x := range v {
		w.f64(x)
	}
}

// rbuf reads what wbuf wrote. The first problem sticks: later reads
// return zeros, so decoders check err once per section.
type rbuf struct {
	b   []byte
	err error
}

func (r *rbuf) fail(format string, a ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("baseline: corrupt model: "+format, a...)
	}
}

func (r *rbuf) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b) < n {
		r.fail("truncated")
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *rbuf) u8() uint8 {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *rbuf) u16() uint16 {
	if b := r.take(2); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (r *rbuf) u32() uint32 {
	if b := r.take(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (r *rbuf) u64() uint64 {
	if b := r.take(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

func (r *rbuf) i8() int8   { return int8(r.u8()) }
func (r *rbuf) i16() int16 { return int16(r.u16()) }
func (r *rbuf) i32() int32 { return int32(r.u32()) }
func (r *rbuf) i64() int64 { return int64(r.u64()) }
func (r *rbuf) f64() float64 {
	return math.Float64frombits(r.u64())
}
func (r *rbuf) f32() float32 { return math.Float32frombits(r.u32()) }
func (r *rbuf) bool() bool   { return r.u8() != 0 }

// n reads a count of elements of at least size bytes each, no more than
// limit, and no more than the bytes left could hold.
func (r *rbuf) n(size, limit int, what string) int {
	v := int(r.u32())
	if r.err != nil {
		return 0
	}
	if v > limit || v*size > len(r.b) {
		r.fail("%d %s", v, what)
		return 0
	}
	return v
}

func (r *rbuf) str(limit int) string {
	return string(r.take(r.n(1, limit, "bytes of text")))
}

// count reads a stored count, which must be finite and not negative.
func (r *rbuf) count() float64 {
	v := r.f64()
	if !(v >= 0) || math.IsInf(v, 0) {
		r.fail("count %v", v)
		return 0
	}
	return v
}

func (r *rbuf) counts(v []float64) {
	for i := range v {
		v[i] = r.count()
	}
}

// ranged reads an int16 in [lo, hi).
func (r *rbuf) ranged(lo, hi int, what string) int16 {
	v := int(r.i16())
	if r.err == nil && (v < lo || v >= hi) {
		r.fail("%s %d out of [%d, %d)", what, v, lo, hi)
	}
	return int16(v)
}

// ranged8 reads an int8 in [lo, hi).
func (r *rbuf) ranged8(lo, hi int, what string) int8 {
	v := int(r.i8())
	if r.err == nil && (v < lo || v >= hi) {
		r.fail("%s %d out of [%d, %d)", what, v, lo, hi)
	}
	return int8(v)
}

// hour reads an hour bucket: allHours or 0..167.
func (r *rbuf) hour() int16 { return r.ranged(int(allHours), 168, "hour") }
