package motfile

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Writer streams rows in the MOTChallenge tracker-output form
//
//	frame,id,left,top,width,height,conf,-1,-1,-1
//
// with boxes at 2 decimals (a hundredth of a pixel, far below anything an
// IoU threshold resolves) and conf at 3, which keeps files small and
// diffable. The world columns are always -1: the 2D benchmark ignores them,
// and writing them would suggest a calibration the tracker does not have.
// Output is buffered, so the tracker can write frame by frame cheaply; call
// Flush when done.
type Writer struct {
	w   *bufio.Writer
	buf []byte
}

// NewWriter wraps w in a buffered MOTChallenge writer.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: bufio.NewWriter(w), buf: make([]byte, 0, 96)}
}

// Write appends one row. It refuses rows that Parse would reject, so that a
// file this package writes can always be read back.
func (w *Writer) Write(r Row) error {
	if err := checkWritable(r); err != nil {
		return err
	}
	b := w.buf[:0]
	b = strconv.AppendInt(b, int64(r.Frame), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(r.ID), 10)
	for _, v := range [...]float64{r.Box.X, r.Box.Y, r.Box.W, r.Box.H} {
		b = append(b, ',')
		b = strconv.AppendFloat(b, v, 'f', 2, 64)
	}
	b = append(b, ',')
	b = strconv.AppendFloat(b, r.Conf, 'f', 3, 64)
	b = append(b, ",-1,-1,-1\n"...)
	w.buf = b
	_, err := w.w.Write(b)
	return err
}

// Flush writes any buffered rows to the underlying writer.
func (w *Writer) Flush() error { return w.w.Flush() }

// Write writes all rows to w in order and flushes.
func Write(w io.Writer, rows []Row) error {
	mw := NewWriter(w)
	for i, r := range rows {
		if err := mw.Write(r); err != nil {
			return fmt.Errorf("row %d: %w", i, err)
		}
	}
	return mw.Flush()
}

// checkWritable mirrors Parse's content rules for the columns that are
// written.
func checkWritable(r Row) error {
	vals := [...]float64{r.Box.X, r.Box.Y, r.Box.W, r.Box.H, r.Conf}
	for i, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("motfile: frame %d id %d: %s is %v", r.Frame, r.ID, columnNames[i+2], v)
		}
	}
	if r.Box.W < 0 || r.Box.H < 0 {
		return fmt.Errorf("motfile: frame %d id %d: negative box size %gx%g", r.Frame, r.ID, r.Box.W, r.Box.H)
	}
	return nil
}
