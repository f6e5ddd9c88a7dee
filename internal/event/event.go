// Package event defines the alert record that scene rules raise and every
// later stage consumes (files, store, API, evaluation), and reads and writes
// it as JSON lines.
package event

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// Severity orders how urgently an operator should look.
type Severity string

// Severities, least to most urgent.
const (
	Info     Severity = "info"
	Low      Severity = "low"
	Medium   Severity = "medium"
	High     Severity = "high"
	Critical Severity = "critical"
)

// PathPoint is one step of a track's path: frame time, image position of
// the foot point, and ground position in metres when calibrated.
type PathPoint struct {
	PTS    float64     `json:"pts"`
	Image  [2]float64  `json:"image"`
	Ground *[2]float64 `json:"ground,omitempty"`
}

// Event is one alert. Times are frame PTS in seconds from stream start,
// never the wall clock, so replays reproduce the same events.
type Event struct {
	ID     string  `json:"id,omitempty"`
	Rule   string  `json:"rule"`           // rule type, e.g. "wrong_way"
	Name   string  `json:"name,omitempty"` // rule name from the scene
	Camera string  `json:"camera"`
	Zone   string  `json:"zone,omitempty"`
	Line   string  `json:"line,omitempty"`
	Lane   string  `json:"lane,omitempty"`
	Tracks []int   `json:"tracks,omitempty"`
	Class  string  `json:"class,omitempty"`
	Start  float64 `json:"start"`
	End    float64 `json:"end"`
	// At is when the event was raised (End) on the camera clock, when the
	// camera's wall time is known: what the operator's queue and its
	// protocols' schedules go by.
	At       time.Time `json:"at,omitzero"`
	Severity Severity  `json:"severity"`
	// Explanation states the measured values in words, e.g. "moved 14.2 m
	// against lane 'ramp-exit' at 38 km/h".
	Explanation string             `json:"explanation"`
	Values      map[string]float64 `json:"values,omitempty"`
	Direction   string             `json:"direction,omitempty"` // line crossings: "in" or "out"
	Path        []PathPoint        `json:"path,omitempty"`
	Snapshot    string             `json:"snapshot,omitempty"` // full frame with overlay
	Crop        string             `json:"crop,omitempty"`
}

// Place is the zone, line or lane the event concerns.
func (e Event) Place() string {
	switch {
	case e.Lane != "":
		return e.Lane
	case e.Zone != "":
		return e.Zone
	}
	return e.Line
}

// Seconds converts a PTS to the float seconds used in events.
func Seconds(d time.Duration) float64 { return d.Seconds() }

// Writer appends events as JSON lines.
type Writer struct {
	f   *os.File
	buf *bufio.Writer
	enc *json.Encoder
}

// Create opens path for writing events (truncating it).
func Create(path string) (*Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("events output: %w", err)
	}
	buf := bufio.NewWriter(f)
	return &Writer{f: f, buf: buf, enc: json.NewEncoder(buf)}, nil
}

// Write appends one event and flushes it: alerts are rare and each one
// matters, so none may sit in a buffer when the process dies.
func (w *Writer) Write(e Event) error {
	if err := w.enc.Encode(e); err != nil {
		return err
	}
	return w.buf.Flush()
}

// Close closes the file.
func (w *Writer) Close() error {
	if err := w.buf.Flush(); err != nil {
		w.f.Close()
		return err
	}
	return w.f.Close()
}

// Read parses JSON-lines events; errors name the source and line.
func Read(r io.Reader, name string) ([]Event, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	var out []Event
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(trimSpace(b)) == 0 {
			continue
		}
		var e Event
		if err := json.Unmarshal(b, &e); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, line, err)
		}
		if e.Rule == "" {
			return nil, fmt.Errorf("%s:%d: event has no rule", name, line)
		}
		if e.End < e.Start {
			return nil, fmt.Errorf("%s:%d: event ends (%.3f) before it starts (%.3f)", name, line, e.End, e.Start)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return out, nil
}

// ReadFile reads a JSON-lines events file.
func ReadFile(path string) ([]Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, path)
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
