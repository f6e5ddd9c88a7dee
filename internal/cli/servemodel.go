package cli

import (
	"fmt"

	"github.com/vigil-cctv/vigil/internal/config"
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
		// Recorded detections exist for whole frames only: the detection
		// plan's crops and carried frames would drop them.
		cfg.Detector.EveryFrame = true
		m, err := service.NewRecordedModel(cfg.Detector.Recorded)
		if err != nil {
			return nil, nil, fmt.Errorf("detector.recorded: %w", err)
		}
		return m, func() {}, nil
	}
	m, err := openServeModel(cfg.Detector)
	if err != nil {
		return nil, nil, err
	}
	return m, func() { m.Close() }, nil
}
