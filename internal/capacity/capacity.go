// Package capacity measures how many analysed frames per second this box
// sustains, for admission control: a camera is admitted while the sum of
// what the cameras ask for stays within the figure.
//
// The figure is built from measured costs, not guessed: the time of one
// full-frame inference, of one region (crop) inference and of decoding a
// frame, weighed by how often a camera's frames are detected whole, in
// regions or carried by the tracker (detplan.Counts over a run of the
// camera, or of representative footage before it has history).
package capacity

import (
	"fmt"
	"time"

	"github.com/vigil-cctv/vigil/internal/detplan"
)

// Cost is what one analysed frame costs the box, by what is done with it.
type Cost struct {
	Full   time.Duration // one full-frame inference, letterbox included
	Region time.Duration // one crop inference
	// PerFrame is paid by every analysed frame whatever the decision:
	// decoding, motion gate, tracking, rules (measured by the caller, e.g.
	// from a carried-only run; 0 if unknown).
	PerFrame time.Duration
	// Lanes infer at once, each at these costs (measured while they run
	// side by side); 0 counts as 1.
	Lanes int
}

// Mix is how a camera's analysed frames are handled, as fractions.
type Mix struct {
	Full, Regions, Carry float64
	// RegionsPerFrame is the mean number of crops of a Regions frame.
	RegionsPerFrame float64
}

// MixOf turns a policy's counts (and the crops it planned) into a Mix; no
// frames give the worst case, every frame detected whole.
func MixOf(c detplan.Counts, crops int64) Mix {
	n := float64(c.Full + c.Regions + c.Carry)
	if n == 0 {
		return Mix{Full: 1}
	}
	m := Mix{Full: float64(c.Full) / n, Regions: float64(c.Regions) / n, Carry: float64(c.Carry) / n}
	if c.Regions > 0 {
		m.RegionsPerFrame = float64(crops) / float64(c.Regions)
	}
	return m
}

// FrameCost is the mean cost of one analysed frame with this mix.
func (c Cost) FrameCost(m Mix) time.Duration {
	d := m.Full*float64(c.Full) + m.Regions*m.RegionsPerFrame*float64(c.Region) + float64(c.PerFrame)
	return time.Duration(d)
}

// Sustained is the analysed frames per second the box sustains with this
// mix: the inverse of the frame cost in each lane, the lanes sharing the
// box's cores (the figure is per box, not per core). headroom (0–1) is
// kept back for bursts and the rest of the service.
func (c Cost) Sustained(m Mix, headroom float64) float64 {
	fc := c.FrameCost(m)
	if fc <= 0 {
		return 0
	}
	return float64(c.Parallel()) * (1 - headroom) * float64(time.Second) / float64(fc)
}

// Parallel is how many inferences run at once: Lanes, at least one.
func (c Cost) Parallel() int { return max(c.Lanes, 1) }

// Admit says whether a camera asking for fps analysed frames per second
// fits beside cameras already using used of a capacity; the reason names
// the numbers either way.
func Admit(capacity, used, fps float64) (bool, string) {
	if used+fps <= capacity {
		return true, fmt.Sprintf("%.1f of %.1f analysed fps in use after adding %.1f", used+fps, capacity, fps)
	}
	return false, fmt.Sprintf("over capacity: %.1f analysed fps in use, %.1f asked, this box sustains %.1f", used, fps, capacity)
}
