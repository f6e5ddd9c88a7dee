package cli

import (
	"fmt"
	"io"

	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/detect/onnx"
	"github.com/vigil-cctv/vigil/internal/service"
)

// openRegionModel loads the detector the detection plan runs on crops: the
// serve model at a small square input (detector.region_size, default 320),
// so that a crop is seen at the frame's own scale. nil when region_size is
// negative.
func openRegionModel(d config.Detector) (service.RegionModel, error) {
	size := d.RegionSize
	if size < 0 {
		return nil, nil
	}
	if size == 0 {
		size = 320
	}
	m := modelFlags{Model: d.Model, ORTLib: d.ORTLib, Threads: d.Threads, Conf: d.Conf, NMSIoU: d.NMSIoU, ModelSize: "n"}
	det, err := onnx.New(onnx.Config{Model: m.modelPath(), Library: m.libPath(), Threads: m.Threads,
		InputW: size, InputH: size, Decode: detect.DecodeOptions{Conf: m.Conf, IoU: m.NMSIoU}})
	if err != nil {
		return nil, fmt.Errorf("region detector (detector.region_size %d): %w", size, err)
	}
	return det, nil
}

func closeRegionModel(m service.RegionModel) {
	if c, ok := m.(io.Closer); ok {
		_ = c.Close()
	}
}
