package httpapi

import (
	"context"
	"net/http"

	"github.com/vigil-cctv/vigil/internal/store"
)

// codeOverCapacity refuses a camera the box cannot analyse at the rate it
// asks for without slowing every other camera (409).
const codeOverCapacity = "over_capacity"

// CapacityReport is the box's analysis capacity and what its cameras use,
// in analysed frames per second (GET /api/v1/capacity).
type CapacityReport struct {
	// Measured is false until the detector's costs are known; the figures
	// are zero then and every camera is admitted.
	Measured bool `json:"measured"`
	// CapacityFPS is what the box sustains, with Headroom kept back;
	// UsedFPS what its running cameras ask for; HeadroomFPS the difference.
	CapacityFPS float64 `json:"capacity_fps"`
	UsedFPS     float64 `json:"used_fps"`
	HeadroomFPS float64 `json:"headroom_fps"`
	Headroom    float64 `json:"headroom"`
	Cameras     int     `json:"cameras"`
	// FullMS and RegionMS are the measured cost of one whole-frame and one
	// crop inference; Mix how analysed frames are handled (fractions), from
	// the running cameras' history or the worst case, every frame whole.
	FullMS   float64 `json:"full_ms"`
	RegionMS float64 `json:"region_ms"`
	// Lanes are the detector sessions inferring in parallel, each at those
	// costs (detector.lanes).
	Lanes   int         `json:"lanes"`
	Mix     CapacityMix `json:"mix"`
	MixFrom string      `json:"mix_from"`
}

// CapacityMix is how analysed frames are handled, as fractions.
type CapacityMix struct {
	Full            float64 `json:"full"`
	Regions         float64 `json:"regions"`
	Carry           float64 `json:"carry"`
	RegionsPerFrame float64 `json:"regions_per_frame"`
}

// CapacityManager is a CameraManager that knows the box's capacity: the
// API reports it and refuses to start a camera past it.
type CapacityManager interface {
	Capacity(ctx context.Context) CapacityReport
	// Admit says whether camera c (replacing the running camera of the
	// same id, if any) fits; the reason names the figures either way.
	Admit(ctx context.Context, c store.Camera) (ok bool, reason string)
}

func (a *api) capacityManager() CapacityManager {
	m, _ := a.deps.Cameras.(CapacityManager)
	return m
}

func (a *api) getCapacity(w http.ResponseWriter, r *http.Request) error {
	m := a.capacityManager()
	if m == nil {
		return unavailable("this server does not measure its capacity")
	}
	writeJSON(w, http.StatusOK, m.Capacity(r.Context()))
	return nil
}

// admit refuses an enabled camera the box has no capacity for.
func (a *api) admit(ctx context.Context, c store.Camera) error {
	m := a.capacityManager()
	if m == nil || !c.Enabled {
		return nil
	}
	if ok, reason := m.Admit(ctx, c); !ok {
		a.log.Warn("camera refused", "camera", c.ID, "reason", reason)
		return errorf(http.StatusConflict, codeOverCapacity, "camera %q not started: %s", c.ID, reason)
	}
	return nil
}
