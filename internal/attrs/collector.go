package attrs

import (
	"bytes"
	"cmp"
	"image"
	"image/jpeg"
	"math"
	"slices"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/search"
	"github.com/vigil-cctv/vigil/internal/track"
)

// Embedder computes appearance vectors (re-identification embeddings)
// for boxes of one frame: one vector per box, nil for a box it could not
// embed. internal/reid's OSNet model is one.
type Embedder interface {
	Embed(f *decode.Frame, boxes []geom.Box) ([][]float32, error)
}

// Config tunes a Collector; the zero value plus defaults works.
type Config struct {
	// Scene gives the ground plane (height, heading in metres) and the
	// zones; nil: headings on the image, no height, no zones.
	Scene *scene.Scene
	// Embedder, when set, embeds each track's best crops.
	Embedder Embedder
	// Every samples a track's crop every this many of its frames
	// (default 3); Crops is how many best crops are kept (default 3).
	Every, Crops int
	// MinShare is the share of a region's pixels a colour needs to be
	// named (default 0.25); ThumbHeight the thumbnail height (default 128).
	MinShare    float64
	ThumbHeight int
}

func (c Config) withDefaults() Config {
	c.Every = cmp.Or(c.Every, 3)
	c.Crops = cmp.Or(c.Crops, 3)
	c.MinShare = cmp.Or(c.MinShare, 0.25)
	c.ThumbHeight = cmp.Or(c.ThumbHeight, 128)
	return c
}

// Sampling limits.
const (
	minPersonH    = 24   // px: smaller people are not sampled for colour
	minVehicleH   = 12   // px
	maxOcclusion  = 0.25 // share of a box covered by another track's box
	carriedCover  = 0.5  // share of a carried object's box inside the person's
	carriedShare  = 0.1  // of a track's frames with the object, at least 2
	minHeadingPx  = 20.0 // image displacement giving a heading
	minHeadingM   = 1.0  // ground displacement giving a heading
	minHeightSamp = 3
)

// Collector gathers the attributes of one camera's tracks. Not safe for
// concurrent use.
type Collector struct {
	cfg  Config
	cam  *Camera
	open map[int]*trackState
}

// trackState is what is known of one open track.
type trackState struct {
	class        detect.Class
	frames       int
	upper, lower histogram
	body         histogram
	carried      [4]int // frames with each search.Carried object
	heights      []float64
	first, last  geom.Point // foot, image
	zones        []string
	crops        []crop
}

// crop is one of a track's best views.
type crop struct {
	score float64
	thumb *image.RGBA
	vec   []float32
}

// New makes a collector for one camera.
func New(cfg Config) *Collector {
	c := &Collector{cfg: cfg.withDefaults(), open: map[int]*trackState{}}
	c.SetScene(cfg.Scene)
	return c
}

// SetScene replaces the scene (zones, ground plane); open tracks keep
// what they gathered.
func (c *Collector) SetScene(sc *scene.Scene) {
	c.cfg.Scene, c.cam = sc, nil
	if sc != nil && sc.Homography != nil {
		if cam, err := CameraFrom(*sc.Homography, float64(sc.Image.Width)/2, float64(sc.Image.Height)/2); err == nil {
			c.cam = cam
		}
	}
}

// pendingEmbed is a crop waiting for its vector.
type pendingEmbed struct {
	st  *trackState
	box geom.Box
	c   crop
}

// Observe takes one frame: its pixels (may be empty: then only paths,
// zones and carried objects are followed), its tracks and the detections
// the tracks' DetIndex refer to.
func (c *Collector) Observe(f *decode.Frame, tracks []track.Track, dets []detect.Detection) {
	var g *gains
	var embed []pendingEmbed
	for i := range tracks {
		t := &tracks[i]
		st := c.state(t)
		if st == nil {
			continue
		}
		st.frames++
		c.follow(st, t.Box.Foot())
		if len(f.Pix) == 0 || t.DetIndex < 0 || t.DetIndex >= len(dets) || (st.frames-1)%c.cfg.Every != 0 {
			continue
		}
		if g == nil {
			gw := greyWorld(f)
			g = &gw
		}
		box := dets[t.DetIndex].Box.Clip(float64(f.Width), float64(f.Height))
		if cr, ok := c.sample(f, st, box, occlusion(tracks, i), *g); ok && c.cfg.Embedder != nil {
			embed = append(embed, pendingEmbed{st: st, box: box, c: cr})
		} else if ok {
			st.keep(cr, c.cfg.Crops)
		}
	}
	c.associate(tracks, dets)
	c.embed(f, embed)
}

// state returns the open state of a person or vehicle track.
func (c *Collector) state(t *track.Track) *trackState {
	if t.Class != detect.Person && !t.Class.IsVehicle() && t.Class != detect.Bicycle {
		return nil
	}
	st := c.open[t.ID]
	if st == nil {
		st = &trackState{first: t.Box.Foot()}
		c.open[t.ID] = st
	}
	st.class = t.Class
	return st
}

// follow records the foot point and the zones it is in.
func (c *Collector) follow(st *trackState, foot geom.Point) {
	st.last = foot
	if c.cfg.Scene == nil {
		return
	}
	for _, z := range c.cfg.Scene.Zones {
		if z.Contains(foot) && !slices.Contains(st.zones, z.Name) {
			st.zones = append(st.zones, z.Name)
		}
	}
}

// sample reads colours (and height) from one view of a track and returns
// the view as a crop when it is good enough to be among the best.
func (c *Collector) sample(f *decode.Frame, st *trackState, box geom.Box, occ float64, g gains) (crop, bool) {
	minH := float64(minPersonH)
	if st.class != detect.Person {
		minH = minVehicleH
	}
	if box.H < minH || box.W < 4 || occ > maxOcclusion {
		return crop{}, false
	}
	if st.class == detect.Person {
		h1 := regionHistogram(f, part(box, 0.25, 0.75, 0.18, 0.5), g, 2)
		h2 := regionHistogram(f, part(box, 0.25, 0.75, 0.55, 0.85), g, 2)
		st.upper.add(&h1, 1)
		st.lower.add(&h2, 1)
		c.measureHeight(f, st, box)
	} else {
		h := regionHistogram(f, part(box, 0.15, 0.85, 0.3, 0.9), g, 2)
		st.body.add(&h, 1)
	}
	score := math.Sqrt(box.Area()) * sharpness(f, box) * (1 - occ)
	if atBorder(f, box) {
		score /= 2
	}
	if len(st.crops) == c.cfg.Crops && score <= st.crops[len(st.crops)-1].score {
		return crop{}, false
	}
	return crop{score: score, thumb: thumbnail(f, box, c.cfg.ThumbHeight)}, true
}

// keep inserts cr among the best crops, best first.
func (st *trackState) keep(cr crop, n int) {
	i, _ := slices.BinarySearchFunc(st.crops, cr.score, func(a crop, s float64) int { return cmp.Compare(s, a.score) })
	st.crops = slices.Insert(st.crops, i, cr)
	if len(st.crops) > n {
		st.crops = st.crops[:n]
	}
}

func (c *Collector) measureHeight(f *decode.Frame, st *trackState, box geom.Box) {
	if c.cam == nil || atBorder(f, box) {
		return
	}
	foot := box.Foot()
	if h, ok := c.cam.Height(foot, geom.Point{X: foot.X, Y: box.Y}); ok {
		st.heights = append(st.heights, h)
	}
}

// embed computes the vectors of this frame's new crops in one batch; a
// failed batch leaves them without vectors.
func (c *Collector) embed(f *decode.Frame, pend []pendingEmbed) {
	if len(pend) == 0 {
		return
	}
	boxes := make([]geom.Box, len(pend))
	for i, p := range pend {
		boxes[i] = p.box
	}
	vecs, err := c.cfg.Embedder.Embed(f, boxes)
	if err != nil {
		vecs = nil
	}
	for i, p := range pend {
		if i < len(vecs) {
			p.c.vec = vecs[i]
		}
		p.st.keep(p.c, c.cfg.Crops)
	}
}

// associate gives each carried object of the frame to the person whose
// box holds most of it (the nearest such person on a tie).
func (c *Collector) associate(tracks []track.Track, dets []detect.Detection) {
	for _, d := range dets {
		k := slices.Index(search.Carried, d.Class.String())
		if k < 0 {
			continue
		}
		best, bestCover, bestDist := -1, carriedCover, math.Inf(1)
		dc := d.Box.Center()
		for i := range tracks {
			t := &tracks[i]
			if t.Class != detect.Person || d.Box.Area() == 0 {
				continue
			}
			cover := d.Box.Intersection(t.Box) / d.Box.Area()
			tc := t.Box.Center()
			dist := math.Hypot(tc.X-dc.X, tc.Y-dc.Y)
			if cover > bestCover || (cover == bestCover && best >= 0 && dist < bestDist) {
				best, bestCover, bestDist = i, cover, dist
			}
		}
		if best >= 0 {
			if st := c.open[tracks[best].ID]; st != nil {
				st.carried[k]++
			}
		}
	}
}

// End closes track id and returns its appearance; false for a track the
// collector did not follow (carried objects, unknown ids).
func (c *Collector) End(id int) (search.Appearance, bool) {
	st := c.open[id]
	delete(c.open, id)
	if st == nil {
		return search.Appearance{}, false
	}
	var a search.Appearance
	if st.class == detect.Person {
		a.Upper = st.upper.names(c.cfg.MinShare, 3)
		a.Lower = st.lower.names(c.cfg.MinShare, 3)
		for k, n := range st.carried {
			if n >= 2 && float64(n) >= carriedShare*float64(st.frames) {
				a.Carried = append(a.Carried, search.Carried[k])
			}
		}
		a.HeightM = medianHeight(st.heights)
	} else {
		a.Colours = st.body.vehicleNames(c.cfg.MinShare, 2)
	}
	a.Heading = c.heading(st)
	a.Zones = st.zones
	a.Embedding = meanVec(st.crops)
	if len(st.crops) > 0 {
		var buf bytes.Buffer
		if jpeg.Encode(&buf, st.crops[0].thumb, &jpeg.Options{Quality: 80}) == nil {
			a.Thumb = buf.Bytes()
		}
	}
	return a, true
}

// heading names the direction from the first to the last foot point: on
// the ground (X east, Y north) when calibrated, else image up is north.
func (c *Collector) heading(st *trackState) string {
	if sc := c.cfg.Scene; sc != nil && sc.Homography != nil {
		a, ok1 := sc.Homography.Apply(st.first)
		b, ok2 := sc.Homography.Apply(st.last)
		if ok1 && ok2 && math.Hypot(b.X-a.X, b.Y-a.Y) >= minHeadingM {
			h, _ := search.HeadingOf(b.X-a.X, b.Y-a.Y)
			return h
		}
		return ""
	}
	dx, dy := st.last.X-st.first.X, st.first.Y-st.last.Y
	if math.Hypot(dx, dy) < minHeadingPx {
		return ""
	}
	h, _ := search.HeadingOf(dx, dy)
	return h
}

func medianHeight(hs []float64) float64 {
	if len(hs) < minHeightSamp {
		return 0
	}
	s := slices.Clone(hs)
	slices.Sort(s)
	m := s[len(s)/2]
	if m < 0.8 || m > 2.5 {
		return 0 // not an upright person, or a calibration that does not fit
	}
	return math.Round(m*100) / 100
}

// meanVec averages the unit vectors of the crops; nil without any.
func meanVec(crops []crop) []float32 {
	var sum []float64
	for _, cr := range crops {
		var ss float64
		for _, x := range cr.vec {
			ss += float64(x) * float64(x)
		}
		if ss == 0 || (sum != nil && len(cr.vec) != len(sum)) {
			continue
		}
		if sum == nil {
			sum = make([]float64, len(cr.vec))
		}
		inv := 1 / math.Sqrt(ss)
		for j, x := range cr.vec {
			sum[j] += float64(x) * inv
		}
	}
	if sum == nil {
		return nil
	}
	out := make([]float32, len(sum))
	for j, x := range sum {
		out[j] = float32(x)
	}
	return out
}
