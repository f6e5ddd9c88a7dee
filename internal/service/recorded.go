package service

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/motfile"
	"github.com/vigil-cctv/vigil/internal/output"
)

// RecordedModel stands in for the detector with recorded detections
// (detector.recorded): frame n of any camera gets the file's frame n, so
// a replay camera runs the whole chain after inference (tracker, rules,
// baseline, sinks) at no inference cost. The tensor carries only the
// frame's index.
type RecordedModel struct {
	byFrame map[int][]detect.Detection
}

// NewRecordedModel reads a MOTChallenge file (rows flagged 0 dropped,
// every box a person) or `vigil analyze --jsonl` output.
func NewRecordedModel(path string) (*RecordedModel, error) {
	m := &RecordedModel{byFrame: map[int][]detect.Detection{}}
	if strings.HasSuffix(path, ".jsonl") || strings.HasSuffix(path, ".json") {
		recs, err := output.ReadRecordsFile(path)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			for _, t := range r.TrackList() {
				m.byFrame[r.Frame-1] = append(m.byFrame[r.Frame-1], detect.Detection{Box: t.Box, Class: t.Class, Score: max(t.Score, 0.9)})
			}
		}
		return m, nil
	}
	rows, err := motfile.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if r.Conf != 0 {
			m.byFrame[r.Frame-1] = append(m.byFrame[r.Frame-1], detect.Detection{Box: r.Box, Class: detect.Person, Score: 1})
		}
	}
	return m, nil
}

// NewInput is one float: the frame index.
func (m *RecordedModel) NewInput() []float32 { return make([]float32, 1) }

// Prepare puts the frame's index in the tensor.
func (m *RecordedModel) Prepare(t []float32, f *decode.Frame) error {
	if f.Index < 0 || f.Index >= 1<<24 { // exact in a float32
		return errors.New("recorded detections: frame index out of range")
	}
	t[0] = float32(f.Index)
	return nil
}

// Infer returns the frame's recorded detections.
func (m *RecordedModel) Infer(t []float32, _, _ int) ([]detect.Detection, error) {
	if len(t) != 1 {
		return nil, fmt.Errorf("recorded detections: tensor of %d values", len(t))
	}
	return m.byFrame[int(math.Round(float64(t[0])))], nil
}
