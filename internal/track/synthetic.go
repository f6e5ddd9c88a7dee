package track

import (
	"math/rand/v2"

	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/geom"
)

// Synthetic simulates n objects wandering a 1920×1080 frame: people and
// vehicles at constant velocity, bouncing off the edges, observed with
// pixel jitter, 5% missed detections, 10% low-score (occluded)
// detections and a few false positives. Frames are played forwards then
// backwards so that a benchmark of any length sees continuous motion. It
// drives the tracker benchmarks and `vigil bench`.
type Synthetic struct {
	frames [][]detect.Detection
}

const (
	sceneW, sceneH = 1920.0, 1080.0
	sceneFrames    = 300
)

type mover struct {
	box    geom.Box
	vx, vy float64
	class  detect.Class
}

// NewSynthetic builds a reproducible scene of n objects (seeded by n).
func NewSynthetic(n int) *Synthetic {
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	movers := make([]mover, n)
	for i := range movers {
		movers[i] = randomMover(rng)
	}
	s := &Synthetic{}
	for f := 0; f < sceneFrames; f++ {
		var dets []detect.Detection
		for i := range movers {
			movers[i].step()
			if d, ok := movers[i].observe(rng); ok {
				dets = append(dets, d)
			}
		}
		for k := rng.IntN(4); k > 0; k-- { // false positives
			dets = append(dets, detect.Detection{
				Box:   geom.Box{X: rng.Float64() * sceneW, Y: rng.Float64() * sceneH, W: 40, H: 90},
				Class: detect.Person, Score: 0.3 + 0.5*rng.Float32(),
			})
		}
		s.frames = append(s.frames, dets)
	}
	return s
}

func randomMover(rng *rand.Rand) mover {
	m := mover{vx: rng.Float64()*8 - 4, vy: rng.Float64()*4 - 2, class: detect.Person}
	m.box.W, m.box.H = 30+30*rng.Float64(), 80+80*rng.Float64()
	if rng.IntN(3) == 0 {
		m.class = []detect.Class{detect.Car, detect.Truck, detect.Bus}[rng.IntN(3)]
		m.box.W, m.box.H = 80+80*rng.Float64(), 50+40*rng.Float64()
	}
	m.box.X = rng.Float64() * (sceneW - m.box.W)
	m.box.Y = rng.Float64() * (sceneH - m.box.H)
	return m
}

func (m *mover) step() {
	m.box.X += m.vx
	m.box.Y += m.vy
	if m.box.X < 0 || m.box.X2() > sceneW {
		m.vx = -m.vx
	}
	if m.box.Y < 0 || m.box.Y2() > sceneH {
		m.vy = -m.vy
	}
}

func (m *mover) observe(rng *rand.Rand) (detect.Detection, bool) {
	r := rng.Float64()
	if r < 0.05 {
		return detect.Detection{}, false
	}
	score := 0.6 + 0.4*rng.Float32()
	if r < 0.15 {
		score = 0.15 + 0.3*rng.Float32()
	}
	b := m.box
	b.X += rng.NormFloat64() * 2
	b.Y += rng.NormFloat64() * 2
	b.W *= 1 + rng.NormFloat64()*0.03
	b.H *= 1 + rng.NormFloat64()*0.03
	return detect.Detection{Box: b, Class: m.class, Score: score}, true
}

// Frame returns frame i of an endless forwards-backwards replay.
func (s *Synthetic) Frame(i int) []detect.Detection {
	period := 2 * (len(s.frames) - 1)
	i %= period
	if i >= len(s.frames) {
		i = period - i
	}
	return s.frames[i]
}
