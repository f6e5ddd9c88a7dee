package cli

import (
	"errors"
	"fmt"
	"math"

	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/service"
)

// serveModel is the detector `vigil serve` shares between its cameras:
// none on a node that runs no camera (a cluster's api or coordinator
// node), recorded detections when detector.recorded names a file, the
// ONNX model otherwise. The returned func closes it.
func serveModel(cfg *config.Config) (service.Model, func(), error) {
	if cfg.Cluster != nil && !cfg.Cluster.HasRole(config.RoleWorker) {
		return nil, func() {}, nil
	}
	if cfg.Detector.Recorded != "" {
		m, err := newRecordedModel(cfg.Detector.Recorded)
		return m, func() {}, err
	}
	m, err := openServeModel(cfg.Detector)
	if err != nil {
		return nil, nil, err
	}
	return m, func() { m.Close() }, nil
}

// recordedModel answers frame n of any camera with the detections
// recorded for frame n: the tensor carries only the frame's index.
type recordedModel struct {
	byFrame map[int][]detect.Detection
}

func newRecordedModel(path string) (*recordedModel, error) {
	rec, err := readRecorded(path, detect.Person, 25)
	if err != nil {
		return nil, fmt.Errorf("detector.recorded: %w", err)
	}
	m := &recordedModel{byFrame: map[int][]detect.Detection{}}
	for i, ts := range rec.byFrame {
		for _, t := range ts {
			m.byFrame[i] = append(m.byFrame[i], detect.Detection{Box: t.Box, Class: t.Class, Score: max(t.Score, 0.9)})
		}
	}
	return m, nil
}

func (m *recordedModel) NewInput() []float32 { return make([]float32, 1) }

func (m *recordedModel) Prepare(t []float32, f *decode.Frame) error {
	if f.Index < 0 || f.Index >= 1<<24 {
		return errors.New("recorded detections: frame index out of range")
	}
	t[0] = float32(f.Index)
	return nil
}

func (m *recordedModel) Infer(t []float32, _, _ int) ([]detect.Detection, error) {
	return m.byFrame[int(math.Round(float64(t[0])))], nil
}
