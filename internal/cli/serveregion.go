package cli

import (
	"fmt"
	"io"
	"sync"

	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/reid"
	"github.com/vigil-cctv/vigil/internal/service"
)

// openRegionModel loads the detector the detection plan runs on crops: the
// serve model at a small square input (detector.region_size, default 320),
// so that a crop is seen at the frame's own scale, and a smaller crop at
// its own size (onnx.Config.AnySize). nil when region_size is negative.
func openRegionModel(d config.Detector) (service.RegionModel, error) {
	size := d.RegionSize
	if size < 0 {
		return nil, nil
	}
	if size == 0 {
		size = 320
	}
	det, err := detectorFlags(d).openRegion(size, true)
	if err != nil {
		return nil, fmt.Errorf("region detector (detector.region_size %d): %w", size, err)
	}
	return det, nil
}

// openMoreLanes opens the detector lanes beyond the first (detector.lanes):
// each a whole-frame and, unless region_size is negative, a region session
// of its own, so that lanes infer in parallel.
func openMoreLanes(d config.Detector) ([]service.Lane, func(), error) {
	var lanes []service.Lane
	closeAll := func() {
		for _, l := range lanes {
			l.Model.(io.Closer).Close()
			closeRegionModel(l.Region)
		}
	}
	for range d.Lanes - 1 {
		m, err := openServeModel(d)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("detector lane %d: %w", len(lanes)+2, err)
		}
		r, err := openRegionModel(d)
		if err != nil {
			m.Close()
			closeAll()
			return nil, nil, fmt.Errorf("detector lane %d: %w", len(lanes)+2, err)
		}
		lanes = append(lanes, service.Lane{Model: m, Region: r})
	}
	return lanes, closeAll, nil
}

func closeRegionModel(m service.RegionModel) {
	if c, ok := m.(io.Closer); ok {
		_ = c.Close()
	}
}

// openEmbedder loads the re-identification model detector.reid_model names
// (nil when unset), shared by every camera behind a lock: one ONNX Runtime
// session, a few crops per ended track.
func openEmbedder(d config.Detector) (*lockedEmbedder, error) {
	if d.ReIDModel == "" {
		return nil, nil
	}
	m := modelFlags{ORTLib: d.ORTLib}
	e, err := reid.New(reid.Config{Model: d.ReIDModel, Library: m.libPath(), Threads: 1})
	if err != nil {
		return nil, fmt.Errorf("detector.reid_model: %w", err)
	}
	return &lockedEmbedder{e: e}, nil
}

// lockedEmbedder makes a reid.Embedder safe for the cameras' goroutines.
type lockedEmbedder struct {
	mu sync.Mutex
	e  *reid.Embedder
}

func (l *lockedEmbedder) Embed(f *decode.Frame, boxes []geom.Box) ([][]float32, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.e.Embed(f, boxes)
}

func (l *lockedEmbedder) Close() {
	if l != nil {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.e.Close()
	}
}
