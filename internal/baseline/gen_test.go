package baseline

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/track"
)

// The test camera: 1280×720, 20 px per metre looking straight down, ground
// Y (north) up the image. Two walkway lanes 2.5 m wide cross the view
// east–west, 2.5 m apart: the northern one westbound, the southern one
// eastbound. Zone "plaza" covers the middle of both.
const (
	imgW, imgH = 1280, 720
	pxPerM     = 20.0
	northLo    = 250.0 // image y band of the westbound lane
	northHi    = 300.0
	southLo    = 350.0 // eastbound lane
	southHi    = 400.0
	walkMPS    = 1.4
)

func testScene() *scene.Scene {
	h := geom.Homography{{1 / pxPerM, 0, 0}, {0, -1 / pxPerM, imgH / pxPerM}, {0, 0, 1}}
	return &scene.Scene{
		Camera:     "cam-test",
		Image:      scene.Size{Width: imgW, Height: imgH},
		Homography: &h,
		Zones: []*scene.Zone{{
			Name: "plaza", Type: scene.Custom,
			Polygon: geom.Polygon{{X: 400, Y: 240}, {X: 880, Y: 240}, {X: 880, Y: 420}, {X: 400, Y: 420}},
		}},
	}
}

// mover is one synthetic object: its foot point moves at constant image
// velocity from start to end.
type mover struct {
	id         int
	class      detect.Class
	x, y       float64 // foot point at start, px
	vx, vy     float64 // px/s
	w, h       float64 // box size
	start, end time.Duration
}

// at is the foot point at pts.
func (o *mover) at(pts time.Duration) (float64, float64) {
	s := (pts - o.start).Seconds()
	return o.x + o.vx*s, o.y + o.vy*s
}

// world generates normal pedestrian traffic plus injected movers.
type world struct {
	rng    *rand.Rand
	fps    float64
	rate   float64 // pedestrian arrivals per second
	nextID int
	next   time.Duration // next arrival
	live   []*mover
	gone   []*mover // left the view, not yet reported ended
	ended  []int    // ids the latest step reported ended
	pts    time.Duration
	jitter float64 // ± px per frame on the box
}

func newWorld(seed uint64) *world {
	return &world{rng: rand.New(rand.NewPCG(seed, 7)), fps: 4, rate: 0.55, nextID: 1, jitter: 1}
}

// pedestrian makes a normal walker starting now at the edge of its lane.
func (w *world) pedestrian() *mover {
	speed := walkMPS * math.Exp(0.1*w.rng.NormFloat64()) * pxPerM
	o := &mover{class: detect.Person, w: 24, h: 60 * math.Exp(0.05*w.rng.NormFloat64())}
	if w.rng.IntN(2) == 0 {
		o.x, o.y, o.vx = imgW+10, northLo+w.rng.Float64()*(northHi-northLo), -speed
	} else {
		o.x, o.y, o.vx = -10, southLo+w.rng.Float64()*(southHi-southLo), speed
	}
	o.end = w.pts + time.Duration((imgW+20)/speed*float64(time.Second))
	return w.add(o)
}

// add starts o now (keeping its end if set) with a fresh id.
func (w *world) add(o *mover) *mover {
	o.id, o.start = w.nextID, w.pts
	w.nextID++
	if o.end == 0 {
		o.end = w.pts + time.Minute
	}
	w.live = append(w.live, o)
	return o
}

// step advances one frame and returns the tracker output.
func (w *world) step() []track.Track {
	w.pts += time.Duration(float64(time.Second) / w.fps)
	for w.rate > 0 && w.next <= w.pts {
		w.pedestrian()
		w.next += time.Duration(w.rng.ExpFloat64() / w.rate * float64(time.Second))
	}
	out := make([]track.Track, 0, len(w.live))
	w.endGone()
	keep := w.live[:0]
	for _, o := range w.live {
		if w.pts > o.end {
			w.gone = append(w.gone, o)
			continue
		}
		keep = append(keep, o)
		x, y := o.at(w.pts)
		x += (w.rng.Float64()*2 - 1) * w.jitter
		y += (w.rng.Float64()*2 - 1) * w.jitter
		box := geom.Box{X: x - o.w/2, Y: y - o.h, W: o.w, H: o.h}
		out = append(out, track.Track{ID: o.id, Class: o.class, Box: box, Score: 0.9, Hits: 1})
	}
	w.live = keep
	return out
}

// trackerBuffer is how long after its last sighting the tracker reports
// a track ended (track.DefaultConfig).
const trackerBuffer = time.Second

// endGone moves movers unseen for the tracker's buffer to w.ended.
func (w *world) endGone() {
	w.ended = w.ended[:0]
	keep := w.gone[:0]
	for _, o := range w.gone {
		if w.pts-o.end > trackerBuffer {
			w.ended = append(w.ended, o.id)
			continue
		}
		keep = append(keep, o)
	}
	w.gone = keep
}

// run feeds d of frames to m and returns the alerts.
func (w *world) run(m *Model, d time.Duration) []event.Event {
	var out []event.Event
	for end := w.pts + d; w.pts < end; {
		tracks := w.step()
		out = append(out, m.Update(w.pts, imgW, imgH, tracks)...)
		m.End(w.ended)
	}
	return out
}

// walker injects a person in a lane at speed (m/s, negative: westward).
func (w *world) walker(y, x0, mps float64, d time.Duration) *mover {
	return w.add(&mover{class: detect.Person, x: x0, y: y, vx: mps * pxPerM, w: 24, h: 60, end: w.pts + d})
}

// parked injects a stationary object.
func (w *world) parked(cls detect.Class, x, y float64, d time.Duration) *mover {
	return w.add(&mover{class: cls, x: x, y: y, w: 90, h: 40, end: w.pts + d})
}

// alertsFor filters alerts by kind and track.
func alertsFor(evs []event.Event, kind string, id int) []event.Event {
	var out []event.Event
	for _, e := range evs {
		if (kind == "" || e.Name == kind) && (id == 0 || (len(e.Tracks) > 0 && e.Tracks[0] == id)) {
			out = append(out, e)
		}
	}
	return out
}

// clone restores a saved model into a fresh one on the test scene.
func clone(t testing.TB, cfg Config, b []byte) *Model {
	m, err := New(cfg, testScene())
	require.NoError(t, err)
	require.NoError(t, m.UnmarshalBinary(b))
	return m
}

// fork copies the world so that two continuations see the same traffic.
func (w *world) fork(seed uint64) *world {
	c := *w
	c.rng = rand.New(rand.NewPCG(seed, 7))
	c.live = append([]*mover(nil), w.live...)
	c.gone = append([]*mover(nil), w.gone...)
	c.ended = nil
	return &c
}

// base is a model trained on 30 min of warm-up and an hour of normal
// traffic, closed and saved, with the world as it was then and the
// alerts of that hour. Training takes most of the scenario tests' time,
// so it is done once and each test restores its own copy.
type base struct {
	cfg    Config
	saved  []byte
	world  *world
	normal []event.Event
}

var (
	baseOnce sync.Once
	baseRun  base
	baseErr  error
)

func trained(t testing.TB) (*Model, *world, base) {
	baseOnce.Do(func() {
		cfg := Config{}
		m, err := New(cfg, testScene())
		if err != nil {
			baseErr = err
			return
		}
		w := newWorld(1)
		w.run(m, 30*time.Minute)
		normal := w.run(m, time.Hour)
		m.Close(w.pts)
		saved, err := m.MarshalBinary()
		baseRun, baseErr = base{cfg: cfg, saved: saved, world: w, normal: normal}, err
	})
	require.NoError(t, baseErr)
	return clone(t, baseRun.cfg, baseRun.saved), baseRun.world.fork(uint64(len(t.Name()))), baseRun
}

func pointOf(p event.PathPoint) geom.Point { return geom.Point{X: p.Image[0], Y: p.Image[1]} }
