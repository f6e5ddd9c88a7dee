package service

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-cctv/vigil/internal/capacity"
	"github.com/vigil-cctv/vigil/internal/detplan"
	"github.com/vigil-cctv/vigil/internal/httpapi"
	"github.com/vigil-cctv/vigil/internal/store"
)

// capacityHeadroom is the share of the box kept back for bursts, the live
// views, clips and the API.
const capacityHeadroom = 0.2

// minMixFrames is how many analysed frames the running cameras must have
// had before their decisions, rather than the worst case (every frame
// detected whole), weigh the capacity.
const minMixFrames = 100

// mixCounts are a camera's analysed frames by the plan's decision.
type mixCounts struct{ full, regions, carry, crops atomic.Int64 }

// cost is the box's measured inference cost: injected (Deps.Capacity) or
// the mean of the inferences the pool has run; ok is false before any.
func (s *Service) cost() (capacity.Cost, bool) {
	if s.fixedCost != nil {
		return *s.fixedCost, true
	}
	full, crop, ok := s.pool.Costs()
	return capacity.Cost{Full: full, Region: crop, Lanes: s.pool.Lanes()}, ok
}

// runningFPS is the analysed frames per second the running cameras ask
// for, the camera except left out, and their number.
func (s *Service) runningFPS(except string) (fps float64, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, r := range s.cams {
		if id != except {
			fps += fpsOr(r.cam.FPS, 10)
			n++
		}
	}
	return fps, n
}

// mix is how the running cameras' analysed frames were handled, or the
// worst case while they have too little history.
func (s *Service) mix() (capacity.Mix, string) {
	var c detplan.Counts
	var crops int64
	s.mu.Lock()
	for _, r := range s.cams {
		c.Full += r.proc.mix.full.Load()
		c.Regions += r.proc.mix.regions.Load()
		c.Carry += r.proc.mix.carry.Load()
		crops += r.proc.mix.crops.Load()
	}
	s.mu.Unlock()
	if c.Full+c.Regions+c.Carry < minMixFrames {
		return capacity.Mix{Full: 1}, "worst case"
	}
	return capacity.MixOf(c, crops), "history"
}

// Capacity reports the box's capacity and headroom
// (httpapi.CapacityManager).
func (s *Service) Capacity(context.Context) httpapi.CapacityReport {
	used, n := s.runningFPS("")
	rep := httpapi.CapacityReport{UsedFPS: used, Cameras: n, Headroom: capacityHeadroom}
	cost, ok := s.cost()
	m, from := s.mix()
	rep.Mix = httpapi.CapacityMix{Full: m.Full, Regions: m.Regions, Carry: m.Carry, RegionsPerFrame: m.RegionsPerFrame}
	rep.MixFrom = from
	if !ok {
		return rep
	}
	rep.Measured = true
	rep.FullMS, rep.RegionMS, rep.Lanes = ms(cost.Full), ms(cost.Region), cost.Parallel()
	rep.CapacityFPS = cost.Sustained(m, capacityHeadroom)
	rep.HeadroomFPS = rep.CapacityFPS - used
	return rep
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Admit says whether camera c fits beside the running cameras (those of
// another id) at the rate it asks for (httpapi.CapacityManager). Before
// the costs are measured every camera is admitted.
func (s *Service) Admit(ctx context.Context, c store.Camera) (bool, string) {
	rep := s.Capacity(ctx)
	if !rep.Measured {
		return true, "capacity not measured yet"
	}
	used, _ := s.runningFPS(c.ID)
	ok, reason := capacity.Admit(rep.CapacityFPS, used, fpsOr(c.FPS, 10))
	if !ok {
		reason += fmt.Sprintf(" (%.0f ms per whole frame, mix from %s)", rep.FullMS, rep.MixFrom)
	}
	return ok, reason
}

// registerCapacityMetrics exposes the capacity report on /metrics.
func (s *Service) registerCapacityMetrics() {
	gauge := func(name, help string, v func(httpapi.CapacityReport) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help},
			func() float64 { return v(s.Capacity(context.Background())) })
	}
	s.metrics.Registry.MustRegister(
		gauge("vigil_capacity_fps", "Analysed frames per second this box sustains (0 until measured).",
			func(r httpapi.CapacityReport) float64 { return r.CapacityFPS }),
		gauge("vigil_capacity_used_fps", "Analysed frames per second the running cameras ask for.",
			func(r httpapi.CapacityReport) float64 { return r.UsedFPS }),
		gauge("vigil_capacity_headroom_fps", "Capacity left for more cameras, in analysed frames per second (0 until measured).",
			func(r httpapi.CapacityReport) float64 { return r.HeadroomFPS }),
	)
}
