package analysis

import (
	"cmp"
	"maps"
	"math"
	"slices"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/reid"
	"github.com/vigil-cctv/vigil/internal/track"
)

// Embedder computes one L2-normalised appearance embedding per box
// (reid.Embedder); a nil entry means the box gave none.
type Embedder interface {
	Embed(f *decode.Frame, boxes []geom.Box) ([][]float32, error)
}

// AppearanceConfig tunes Appearance. Zero fields take the defaults,
// chosen on principles rather than fitted to the evaluation footage (see
// DefaultAppearance).
type AppearanceConfig struct {
	FPS float64
	// Relink is how long an ended track's id stays open for a new track
	// to take it back.
	Relink float64 // seconds
	// MinSim is the cosine similarity a re-link needs.
	MinSim float32
	// Refresh is how often a visible track's appearance is sampled.
	Refresh float64 // seconds
	// Speed bounds how far a person can have gone while unseen, in box
	// heights per second (a 1.7 m person walking at 1.5 m/s moves about
	// one height a second; twice that allows for running and for the box
	// height shrinking with distance).
	Speed float64
	// Probe is how long a new track may wait for a good crop before it is
	// given up as a re-link candidate.
	Probe float64 // seconds
	// FilteredBoxes reports the Kalman filter's box of a matched track,
	// as ByteTrack does, instead of the detection it matched this frame.
	FilteredBoxes bool
}

// DefaultAppearance: BoT-SORT's appearance threshold (its
// appearance_thresh 0.25 applies to half the cosine distance, so a cosine
// similarity of 0.5), a re-link window of 3 s (three times the tracker's
// 1 s lost buffer), one appearance sample per half second, a walking-pace
// gate, and the matched detection's box reported.
func DefaultAppearance(fps float64) AppearanceConfig {
	return AppearanceConfig{FPS: fps, Relink: 3, MinSim: 0.5, Refresh: 0.5, Speed: 2, Probe: 1}
}

func (c AppearanceConfig) frames(sec float64) int {
	return max(1, int(math.Round(sec*c.FPS)))
}

// Appearance wraps the ByteTrack tracker with appearance: ByteTrack
// associates by motion exactly as it does alone, and this layer keeps a
// small gallery of embeddings per track (sampled from good, unoccluded
// crops) and gives a newly confirmed track the id of a track that ended or
// was lost on the same camera shortly before, when the new box lies where
// the old one could have walked and their appearance agrees. Embeddings
// are computed only for new tracks and at the refresh rate for visible
// ones, so the cost stays bounded. Track ends are reported Relink seconds
// after the track was last seen, once no new track has taken its id back.
type Appearance struct {
	T   *track.Tracker
	E   Embedder
	cfg AppearanceConfig

	frame   int
	nextOut int
	live    map[int]*appTrack // by ByteTrack id
	held    []*appTrack       // ended in ByteTrack, id still open
	ended   []int
	err     error
	// Relinks counts the ids given back; Swaps the pairs of ids swapped
	// back after ByteTrack exchanged them.
	Relinks, Swaps int
	// Splits counts re-found tracks that turned out to be someone else.
	Splits int
	// Crops counts the boxes embedded.
	Crops int
}

type appTrack struct {
	key        int // ByteTrack id: a stable order
	out        int // id reported
	reported   bool
	gallery    reid.Gallery
	box        geom.Box // last seen
	last       int      // frame last seen
	vel        geom.Point
	born       int
	lastSample int
	probing    bool      // new, not yet tried for a re-link
	cur        []float32 // embedding of the latest sample
	// ref is the gallery mean when the track first touched another;
	// partners are the tracks touched since, by the frame of the contact.
	ref      []float32
	partners map[*appTrack]int
	touching bool // overlaps another track this frame
	// refound is set when ByteTrack finds a lost track again; prevBox and
	// prevLast are where and when it was seen before.
	refound  bool
	prevBox  geom.Box
	prevLast int
}

// NewAppearance wraps t; e computes the embeddings.
func NewAppearance(t *track.Tracker, e Embedder, cfg AppearanceConfig) *Appearance {
	d := DefaultAppearance(cfg.FPS)
	cfg.Relink = cmp.Or(cfg.Relink, d.Relink)
	cfg.MinSim = cmp.Or(cfg.MinSim, d.MinSim)
	cfg.Refresh = cmp.Or(cfg.Refresh, d.Refresh)
	cfg.Speed = cmp.Or(cfg.Speed, d.Speed)
	cfg.Probe = cmp.Or(cfg.Probe, d.Probe)
	return &Appearance{T: t, E: e, cfg: cfg, live: map[int]*appTrack{}}
}

// Err is the first embedding error; after one, tracking goes on by
// motion alone.
func (a *Appearance) Err() error { return a.err }

// Update tracks the detections and maps ByteTrack's ids to stable ones.
func (a *Appearance) Update(f *decode.Frame, dets []detect.Detection) []track.Track {
	a.frame++
	a.ended = a.ended[:0]
	crops := a.newCrops(f, dets)
	ts := a.T.UpdateWith(dets, crops)
	a.retire(a.T.Ended())
	fresh := a.observe(ts, dets)
	a.contacts(ts)
	a.sample(crops, ts)
	a.Crops += crops.crops
	if crops.err != nil && a.err == nil {
		a.err = crops.err
	}
	a.verify(ts)
	fresh = a.recheck(ts, fresh)
	a.relink(fresh)
	a.expire()
	out := make([]track.Track, len(ts))
	for i, t := range ts {
		at := a.live[t.ID]
		at.reported = true
		t.ID = at.out
		if !a.cfg.FilteredBoxes {
			t.Box = detBox(t, dets)
		}
		out[i] = t
	}
	slices.SortFunc(out, func(x, y track.Track) int { return cmp.Compare(x.ID, y.ID) })
	slices.Sort(a.ended)
	return out
}

// observe updates the state of the reported tracks and returns the new
// ones.
func (a *Appearance) observe(ts []track.Track, dets []detect.Detection) []*appTrack {
	var fresh []*appTrack
	for _, t := range ts {
		box := detBox(t, dets)
		at, ok := a.live[t.ID]
		if !ok {
			a.nextOut++
			at = &appTrack{key: t.ID, out: a.nextOut, born: a.frame, probing: true, lastSample: -1 << 30}
			a.live[t.ID] = at
		} else if gap := a.frame - at.last; gap > 0 {
			v := geom.Point{X: (box.Center().X - at.box.Center().X) / float64(gap), Y: (box.Center().Y - at.box.Center().Y) / float64(gap)}
			at.vel = geom.Point{X: 0.7*at.vel.X + 0.3*v.X, Y: 0.7*at.vel.Y + 0.3*v.Y}
		}
		if ok && a.frame-at.last > 1 && at.reported {
			at.refound, at.prevBox, at.prevLast = true, at.box, at.last
		}
		at.box, at.last = box, a.frame
		if at.probing {
			fresh = append(fresh, at)
		}
	}
	return fresh
}

// detBox is the detection box of a matched track (tighter than the
// filtered one), else its reported box.
func detBox(t track.Track, dets []detect.Detection) geom.Box {
	if t.DetIndex >= 0 && t.DetIndex < len(dets) {
		return dets[t.DetIndex].Box
	}
	return t.Box
}

// sample embeds the good crops of tracks that are new or due a refresh
// (crops the tracker already embedded this frame are not embedded again),
// and gives the tracker the ones that join a gallery.
func (a *Appearance) sample(crops *frameCrops, ts []track.Track) {
	if !crops.ok() {
		return
	}
	f := crops.f
	all := make([]geom.Box, len(ts))
	for i, t := range ts {
		all[i] = a.live[t.ID].box
	}
	var idx []int
	var who []*appTrack
	for _, t := range ts {
		at := a.live[t.ID]
		due := at.probing || at.refound || len(at.partners) > 0 || a.frame-at.lastSample >= a.cfg.frames(a.cfg.Refresh)
		if q := reid.Quality(at.box, f.Width, f.Height, all); due && !at.touching && q > 0 && t.DetIndex >= 0 && t.Class == detect.Person {
			idx, who = append(idx, t.DetIndex), append(who, at)
		}
	}
	if len(idx) == 0 {
		return
	}
	embs := crops.Embed(idx)
	if crops.err != nil {
		return
	}
	for i, at := range who {
		at.cur = embs[i]
		at.lastSample = a.frame
		if len(at.partners) > 0 || at.refound {
			continue // checked first (verify, recheck)
		}
		at.gallery.Add(embs[i], reid.Quality(at.box, f.Width, f.Height, all)+float64(a.frame)*1e-6)
		a.T.Observe(at.key, embs[i])
	}
}

// frameCrops embeds one frame's detections for the tracker and for the
// galleries, each crop at most once (track.Appearance).
type frameCrops struct {
	e     Embedder
	f     *decode.Frame
	dets  []detect.Detection
	boxes []geom.Box
	cache map[int][]float32
	crops int
	err   error
}

func (a *Appearance) newCrops(f *decode.Frame, dets []detect.Detection) *frameCrops {
	c := &frameCrops{e: a.E, f: f, dets: dets, err: a.err, cache: map[int][]float32{}}
	c.boxes = make([]geom.Box, len(dets))
	for i, d := range dets {
		c.boxes[i] = d.Box
	}
	return c
}

// ok reports whether the frame can be cropped.
func (c *frameCrops) ok() bool {
	return c.err == nil && c.f != nil && c.f.Pix != nil
}

// Embed returns the embeddings of dets[idx[k]], computing the missing
// ones in one batch; after an error every entry is nil.
func (c *frameCrops) Embed(idx []int) [][]float32 {
	out := make([][]float32, len(idx))
	if !c.ok() {
		return out
	}
	var boxes []geom.Box
	var ask []int
	for _, i := range idx {
		if _, done := c.cache[i]; !done && !slices.Contains(ask, i) {
			boxes, ask = append(boxes, c.dets[i].Box), append(ask, i)
		}
	}
	if len(ask) > 0 {
		embs, err := c.e.Embed(c.f, boxes)
		if err != nil {
			c.err = err
			return out
		}
		c.crops += len(ask)
		for k, i := range ask {
			c.cache[i] = embs[k]
		}
	}
	for k, i := range idx {
		out[k] = c.cache[i]
	}
	return out
}

// Clean reports whether detection i is a person whose crop is good enough
// to describe them (reid.Quality among this frame's detections).
func (c *frameCrops) Clean(i int) bool {
	return c.ok() && c.dets[i].Class == detect.Person && reid.Quality(c.boxes[i], c.f.Width, c.f.Height, c.boxes) > 0
}

// relink gives each new track with an embedding the id of the most
// similar candidate that passes the motion gate and the similarity
// threshold; candidates are tracks ended but still open, and tracks lost
// this frame. New tracks without a good crop wait up to Probe seconds.
func (a *Appearance) relink(fresh []*appTrack) {
	type option struct {
		n, c *appTrack
		sim  float32
	}
	cands := a.candidates()
	var opts []option
	for _, n := range fresh {
		emb := n.gallery.Mean()
		if emb == nil {
			if a.frame-n.born >= a.cfg.frames(a.cfg.Probe) {
				n.probing = false
			}
			continue
		}
		n.probing = false
		for _, c := range cands {
			if !a.reachable(c, n) {
				continue
			}
			if s := reid.Cosine(emb, c.gallery.Mean()); s >= a.cfg.MinSim {
				opts = append(opts, option{n, c, s})
			}
		}
	}
	slices.SortStableFunc(opts, func(x, y option) int { return cmp.Compare(y.sim, x.sim) })
	used := map[*appTrack]bool{}
	for _, o := range opts {
		if used[o.n] || used[o.c] {
			continue
		}
		used[o.n], used[o.c] = true, true
		a.take(o.n, o.c)
	}
}

// candidates are the tracks a new one may continue: ended ones still
// held, and live ones not seen this frame (ByteTrack's lost tracks).
func (a *Appearance) candidates() []*appTrack {
	var cs []*appTrack
	for _, h := range a.held {
		if h.gallery.Len() > 0 {
			cs = append(cs, h)
		}
	}
	ids := make([]int, 0, len(a.live))
	for id := range a.live {
		ids = append(ids, id)
	}
	slices.Sort(ids) // deterministic order
	for _, id := range ids {
		if at := a.live[id]; at.last < a.frame && at.reported && at.gallery.Len() > 0 {
			cs = append(cs, at)
		}
	}
	return cs
}

// reachable is the motion gate: the new box is where the old track could
// have walked in the gap, and of a similar size.
func (a *Appearance) reachable(old, n *appTrack) bool {
	gap := float64(n.born - old.last)
	if gap <= 0 || gap > float64(a.cfg.frames(a.cfg.Relink)) {
		return false
	}
	if r := n.box.H / old.box.H; r < 0.67 || r > 1.5 {
		return false
	}
	h := math.Max(old.box.H, n.box.H)
	secs := gap / a.cfg.FPS
	pred := geom.Point{X: old.box.Center().X + old.vel.X*gap, Y: old.box.Center().Y + old.vel.Y*gap}
	c := n.box.Center()
	d := math.Min(math.Hypot(c.X-pred.X, c.Y-pred.Y), math.Hypot(c.X-old.box.Center().X, c.Y-old.box.Center().Y))
	return d <= h*(0.5+a.cfg.Speed*secs)
}

// take gives n the id of old. old stops being a candidate; if it was a
// live (lost) track that ByteTrack finds again, it gets a new id.
func (a *Appearance) take(n, old *appTrack) {
	if n.reported {
		a.ended = append(a.ended, n.out)
	}
	n.out = old.out
	n.ref, n.partners = nil, nil
	for _, e := range old.gallery.Items() {
		n.gallery.Add(e.Emb, e.Quality)
	}
	a.Relinks++
	if i := slices.Index(a.held, old); i >= 0 {
		a.held = slices.Delete(a.held, i, i+1)
		return
	}
	a.nextOut++
	old.out, old.reported = a.nextOut, false
	old.gallery = reid.Gallery{}
	old.ref, old.partners = nil, nil
}

// contacts records which visible tracks overlap: from the first contact
// a track's appearance before it is kept as its reference, and its crops
// are not added to its gallery until verify has checked it.
func (a *Appearance) contacts(ts []track.Track) {
	for _, t := range ts {
		a.live[t.ID].touching = false
	}
	for i := range ts {
		x := a.live[ts[i].ID]
		for j := i + 1; j < len(ts); j++ {
			y := a.live[ts[j].ID]
			if x.box.Intersection(y.box) <= 0 {
				continue
			}
			x.touching, y.touching = true, true
			for _, p := range [2][2]*appTrack{{x, y}, {y, x}} {
				if p[0].partners == nil {
					p[0].partners, p[0].ref = map[*appTrack]int{}, p[0].gallery.Mean()
				}
				p[0].partners[p[1]] = a.frame
			}
		}
	}
}

// verify checks, once two tracks that touched are apart and both freshly
// sampled, whether ByteTrack swapped them: if each now looks more like the
// other's reference than its own, by swapMargin in total, their ids
// swap. A track whose partners are gone or stale is released.
func (a *Appearance) verify(ts []track.Track) {
	stale := a.cfg.frames(a.cfg.Relink)
	for _, t := range ts {
		x := a.live[t.ID]
		ys := slices.SortedFunc(maps.Keys(x.partners), func(p, q *appTrack) int { return cmp.Compare(p.key, q.key) })
		for _, y := range ys {
			at, ok := x.partners[y]
			if !ok {
				continue
			}
			ready := x.lastSample == a.frame && y.lastSample == a.frame && y.last == a.frame && !x.touching && !y.touching
			switch {
			case ready:
				a.settle(x, y)
			case a.frame-at > stale || y.last < a.frame-stale:
				delete(x.partners, y)
			}
		}
		if len(x.partners) == 0 && x.partners != nil {
			x.release()
		}
	}
}

// swapMargin is how much more similar (summed cosine) the crossed
// assignment must be before two ids are swapped.
const swapMargin = 0.1

// settle decides one pair and releases both from it.
func (a *Appearance) settle(x, y *appTrack) {
	delete(x.partners, y)
	delete(y.partners, x)
	if x.ref != nil && y.ref != nil && x.cur != nil && y.cur != nil {
		straight := reid.Cosine(x.cur, x.ref) + reid.Cosine(y.cur, y.ref)
		crossed := reid.Cosine(x.cur, y.ref) + reid.Cosine(y.cur, x.ref)
		if crossed > straight+swapMargin {
			x.out, y.out = y.out, x.out
			x.gallery, y.gallery = y.gallery, x.gallery
			x.ref, y.ref = y.ref, x.ref
			a.Swaps++
		}
	}
	for _, t := range []*appTrack{x, y} {
		if len(t.partners) == 0 {
			t.release()
		}
	}
}

// release ends a track's watch: its latest crop joins its gallery.
func (t *appTrack) release() {
	if t.cur != nil {
		t.gallery.Add(t.cur, 0.5)
	}
	t.partners, t.ref = nil, nil
}

// splitSim is the similarity below which a re-found track is taken to be
// someone else: the re-link threshold (DefaultAppearance MinSim).
const splitSim = 0.5

// recheck compares a track ByteTrack found again after losing it with its
// gallery. When the crop looks like someone else, the old identity is
// held (it may be re-linked) and the track goes on as a new one, itself a
// re-link candidate.
func (a *Appearance) recheck(ts []track.Track, fresh []*appTrack) []*appTrack {
	for _, t := range ts {
		at := a.live[t.ID]
		if !at.refound || at.lastSample != a.frame {
			if at.refound && a.frame-at.prevLast > a.cfg.frames(a.cfg.Probe) {
				at.refound = false
			}
			continue
		}
		at.refound = false
		ref := at.gallery.Mean()
		if ref == nil || at.cur == nil || reid.Cosine(at.cur, ref) >= splitSim {
			at.gallery.Add(at.cur, 0.5)
			continue
		}
		a.held = append(a.held, &appTrack{key: at.key, out: at.out, reported: true, gallery: at.gallery, box: at.prevBox, last: at.prevLast, vel: at.vel})
		a.nextOut++
		at.out, at.reported, at.gallery, at.born, at.probing = a.nextOut, false, reid.Gallery{}, a.frame, true
		at.gallery.Add(at.cur, 0.5)
		at.ref, at.partners = nil, nil
		a.Splits++
		fresh = append(fresh, at)
	}
	return fresh
}

// retire moves ByteTrack's ended tracks to the held list.
func (a *Appearance) retire(ids []int) {
	for _, id := range ids {
		at, ok := a.live[id]
		if !ok {
			continue
		}
		delete(a.live, id)
		if at.reported {
			a.held = append(a.held, at)
		}
	}
}

// expire ends the held ids nobody took back in time.
func (a *Appearance) expire() {
	a.held = slices.DeleteFunc(a.held, func(h *appTrack) bool {
		if a.frame-h.last > a.cfg.frames(a.cfg.Relink) {
			a.ended = append(a.ended, h.out)
			return true
		}
		return false
	})
}

// Ended lists the ids whose tracks ended for good in the latest Update.
func (a *Appearance) Ended() []int { return a.ended }

// Close ends every open id: live and held.
func (a *Appearance) Close() []int {
	a.T.Close()
	var ids []int
	for _, at := range a.live {
		if at.reported {
			ids = append(ids, at.out)
		}
	}
	for _, h := range a.held {
		ids = append(ids, h.out)
	}
	a.live, a.held = map[int]*appTrack{}, nil
	slices.Sort(ids)
	return ids
}
