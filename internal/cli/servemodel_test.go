package cli

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/config"
)

// detector.model_size picks the cached file serve's lanes open, and
// detector.model overrides it.
func TestDetectorFlagsPickTheModel(t *testing.T) {
	t.Setenv("VIGIL_MODEL", "")
	t.Setenv("VIGIL_CACHE", "/cache")
	cfg, err := config.Parse([]byte("version: 1\ndetector: {model_size: n-int8}\ncameras: [{id: a, url: /x.mp4}]\n"), "v.yaml")
	require.NoError(t, err)
	require.Equal(t, filepath.Join("/cache", "models", "yolov8n-int8.onnx"), detectorFlags(cfg.Detector).modelPath())
	cfg.Detector.Model = "/m/other.onnx"
	require.Equal(t, "/m/other.onnx", detectorFlags(cfg.Detector).modelPath())
}
