package track

import "math"

// Appearance gives the tracker appearance embeddings of the current
// frame's detections, computed only when asked: the tracker asks for the
// detections of ambiguous first-stage matches (a connected component with
// more than one admissible pair) and for tracks as they are confirmed, so
// the cost stays bounded however many people are in view.
type Appearance interface {
	// Embed returns one L2-normalised embedding per detection index (of
	// the slice given to UpdateWith), in order; a nil entry means that
	// detection gave none.
	Embed(idx []int) [][]float32
	// Clean reports whether detection i's crop shows one whole object
	// (large enough, not cut by the frame edge, not covered by another
	// box): only clean crops update a track's appearance.
	Clean(i int) bool
}

// fusedCost is BoT-SORT's appearance cost: half the cosine distance, so
// that it lies in [0, 1] like 1 − IoU.
func fusedCost(a, b []float32) float64 {
	var dot float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
	}
	return (1 - dot) / 2
}

// learn folds a clean embedding into the track's appearance: an
// exponential moving average (BoT-SORT's feature EMA), kept L2-normalised.
func (s *strack) learn(emb []float32, momentum float64, frame int) {
	if len(emb) == 0 {
		return
	}
	s.featFrame = frame
	if len(s.feat) != len(emb) {
		s.feat = append(s.feat[:0], emb...)
		return
	}
	var norm float64
	for i := range s.feat {
		v := momentum*float64(s.feat[i]) + (1-momentum)*float64(emb[i])
		s.feat[i] = float32(v)
		norm += v * v
	}
	if norm = math.Sqrt(norm); norm > 0 {
		for i := range s.feat {
			s.feat[i] = float32(float64(s.feat[i]) / norm)
		}
	}
}

// embed fetches, in one batch, the embeddings of the detections not yet
// asked for this frame.
func (t *Tracker) embed(idx []int) {
	if t.app == nil {
		return
	}
	var ask []int
	for _, i := range idx {
		if _, done := t.embs[i]; !done {
			t.embs[i] = nil // asked, even if it gives none
			ask = append(ask, i)
		}
	}
	if len(ask) == 0 {
		return
	}
	for k, e := range t.app.Embed(ask) {
		t.embs[ask[k]] = e
	}
}

// refineByAppearance returns the first stage's cost refinement (nil
// without appearance): within components of more than one pair, a pair
// whose boxes overlap by at least ProximityIoU and whose appearance
// distance is within AppearanceDist costs the lower of its IoU cost and
// its appearance distance (BoT-SORT's fusion). Isolated pairs are left to
// motion, and need no embedding.
func (t *Tracker) refineByAppearance(tracks []*strack, idx []int) func([]pair) {
	if t.app == nil {
		return nil
	}
	return func(ps []pair) {
		var need []int
		t.eachAmbiguous(ps, tracks, func(p *pair) { need = append(need, idx[p.c]) })
		t.embed(need)
		t.eachAmbiguous(ps, tracks, func(p *pair) {
			emb := t.embs[idx[p.c]]
			if emb == nil {
				return
			}
			if d := fusedCost(tracks[p.r].feat, emb); d <= t.cfg.AppearanceDist && d < p.cost {
				p.cost = d
			}
		})
	}
}

// eachAmbiguous calls fn for every pair that shares its component with
// another pair, whose track has an appearance and whose boxes are close
// enough for appearance to count.
func (t *Tracker) eachAmbiguous(ps []pair, tracks []*strack, fn func(*pair)) {
	for start := 0; start < len(ps); {
		end := start + 1
		for end < len(ps) && ps[end].root == ps[start].root {
			end++
		}
		if end-start > 1 {
			for i := start; i < end; i++ {
				if p := &ps[i]; tracks[p.r].feat != nil && p.iou >= t.cfg.ProximityIoU {
					fn(p)
				}
			}
		}
		start = end
	}
}

// learnAppearance updates the appearance of the tracks matched this
// frame from the clean crops embedded this frame, and embeds the clean
// crops of tracks confirmed this frame that have none yet.
func (t *Tracker) learnAppearance() {
	if t.app == nil {
		return
	}
	var need []int
	for _, s := range t.tracked {
		if s.confirmed && s.feat == nil && s.detIndex >= 0 && t.app.Clean(s.detIndex) {
			need = append(need, s.detIndex)
		}
	}
	t.embed(need)
	for _, s := range t.tracked {
		if s.detIndex < 0 || s.featFrame == t.frame {
			continue
		}
		if emb := t.embs[s.detIndex]; emb != nil && t.app.Clean(s.detIndex) {
			s.learn(emb, t.cfg.FeatureMomentum, t.frame)
		}
	}
}

// Observe folds an embedding of track id's object, taken from a clean
// crop of this frame's detection, into the track's appearance, unless this
// frame already updated it. It reports whether the track was found.
func (t *Tracker) Observe(id int, emb []float32) bool {
	for _, list := range [][]*strack{t.tracked, t.lost} {
		for _, s := range list {
			if s.confirmed && s.id == id {
				if s.featFrame != t.frame {
					s.learn(emb, t.cfg.FeatureMomentum, t.frame)
				}
				return true
			}
		}
	}
	return false
}
