// Package motfile reads and writes MOTChallenge 2D text files, the format
// shared by ground truth (gt.txt), public detections (det.txt) and tracker
// output:
//
//	frame,id,bb_left,bb_top,bb_width,bb_height,conf,x,y,z
//
// The files come from many tools (MATLAB's dlmwrite, numpy's savetxt,
// hand-written scripts), so the reader is lenient about form — 6 to 10
// columns, integers written as floats ("3.000"), spaces around fields, blank
// lines — but strict about content: every error names the file, the line and
// the column, and values that would silently corrupt an evaluation (NaN, a
// fractional frame, a negative width) are rejected rather than guessed at.
package motfile

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/vigil-cctv/vigil/internal/geom"
)

// Row is one line of a MOTChallenge file: one box of one identity in one
// frame.
type Row struct {
	// Frame is 1-based in MOTChallenge data; smaller values are legal in a
	// file (the evaluator drops them), so they are kept here.
	Frame int
	// ID is the track identity; detection files use -1.
	ID int
	// Box is left, top, width, height in pixels.
	Box geom.Box
	// Conf is the detector score in det files and tracker output, and the
	// "evaluate this box" flag (1 or 0) in gt files.
	Conf float64
	// X, Y, Z are the world position, -1 when unknown.
	X, Y, Z float64
}

// Column names in file order; errors quote them so that a user can find the
// offending field without counting commas.
var columnNames = [...]string{"frame", "id", "bb_left", "bb_top", "bb_width", "bb_height", "conf", "x", "y", "z"}

const (
	minColumns = 6
	maxColumns = len(columnNames)
	// missing is the MOTChallenge convention for "no value".
	missing = -1.0
	// maxExactInt is the largest integer a float64 holds exactly; a frame
	// or id written as a float beyond it cannot be trusted.
	maxExactInt = 1 << 53
)

// ParseError locates a malformed line. Column is 1-based, 0 when the line as
// a whole is wrong (such as its column count).
type ParseError struct {
	Name   string
	Line   int
	Column int
	Msg    string
}

func (e *ParseError) Error() string {
	if e.Column == 0 {
		return fmt.Sprintf("%s:%d: %s", e.Name, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: column %d (%s): %s", e.Name, e.Line, e.Column, columnNames[e.Column-1], e.Msg)
}

// ReadFile parses the MOTChallenge file at path; errors name the path.
func ReadFile(path string) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse reads every row of a MOTChallenge file. name labels errors (usually
// the file name). Rows come back in file order; nothing is sorted or
// filtered, because which rows count is the evaluator's decision.
func Parse(r io.Reader, name string) ([]Row, error) {
	sc := bufio.NewScanner(r)
	// Lines are short, but a corrupt file may hold one huge line; allow
	// 1 MiB so that it is reported as bad content, not a scanner failure.
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	var rows []Row
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		row, err := parseLine(text)
		if err != nil {
			err.Name, err.Line = name, line
			return nil, err
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	return rows, nil
}

// parseLine turns one non-blank line into a Row; the caller fills in the
// error's position.
func parseLine(text string) (Row, *ParseError) {
	fields := strings.Split(text, ",")
	if len(fields) < minColumns || len(fields) > maxColumns {
		return Row{}, &ParseError{Msg: fmt.Sprintf("%d columns, want %d to %d", len(fields), minColumns, maxColumns)}
	}
	var v [maxColumns]float64
	for i := range v {
		v[i] = missing
	}
	for i, f := range fields {
		x, err := parseNumber(strings.TrimSpace(f))
		if err != nil {
			return Row{}, &ParseError{Column: i + 1, Msg: err.Error()}
		}
		v[i] = x
	}
	frame, err := toInt(v[0], fields[0])
	if err != nil {
		return Row{}, &ParseError{Column: 1, Msg: err.Error()}
	}
	id, err := toInt(v[1], fields[1])
	if err != nil {
		return Row{}, &ParseError{Column: 2, Msg: err.Error()}
	}
	for _, c := range []int{4, 5} {
		if v[c] < 0 {
			return Row{}, &ParseError{Column: c + 1, Msg: fmt.Sprintf("%q is negative", strings.TrimSpace(fields[c]))}
		}
	}
	return Row{
		Frame: frame,
		ID:    id,
		Box:   geom.Box{X: v[2], Y: v[3], W: v[4], H: v[5]},
		Conf:  v[6],
		X:     v[7], Y: v[8], Z: v[9],
	}, nil
}

// parseNumber accepts any finite decimal. NaN and Inf are refused because a
// single one poisons every sum and IoU it touches downstream; Go-only syntax
// (hex floats, digit underscores) is refused because no MOT tool writes it,
// so it signals a corrupt file.
func parseNumber(s string) (float64, error) {
	if strings.ContainsAny(s, "xX_") {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return x, nil
}

// toInt accepts integral values written either way ("3" or "3.000"), since
// MATLAB and numpy writers often print ids as floats. A fractional value
// means the columns are shifted or the file is not MOT data, so it is an
// error rather than something to round.
func toInt(x float64, raw string) (int, error) {
	raw = strings.TrimSpace(raw)
	if n, err := strconv.Atoi(raw); err == nil {
		return n, nil
	}
	if x != math.Trunc(x) {
		return 0, fmt.Errorf("%q is not an integer", raw)
	}
	if math.Abs(x) > maxExactInt {
		return 0, fmt.Errorf("%q is out of range", raw)
	}
	return int(x), nil
}
