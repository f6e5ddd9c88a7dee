package detect

import (
	"image"

	"github.com/vigil-cctv/vigil/internal/geom"
)

// RegionDetections are the detections a detector found in one crop of a
// frame, already mapped to frame pixels.
type RegionDetections struct {
	Rect image.Rectangle // the crop, in frame pixels
	Dets []Detection
}

// edgeSlack is how close (pixels) a box may come to a crop edge before it
// counts as cut by it.
const edgeSlack = 2

// MergeRegions joins the detections of several crops of one w×h frame into
// one list, as if the detector had seen the whole frame: a box cut by a
// crop edge that lies inside the frame is dropped when another crop saw
// the object whole, and overlapping boxes from different crops go through
// grouped NMS (iou) plus a containment test (a cut box inside a whole one
// is the same object even when their IoU is low).
func MergeRegions(regions []RegionDetections, w, h int, iou float64) []Detection {
	type cand struct {
		d      Detection
		region int
		cut    bool
	}
	var all []cand
	for i, r := range regions {
		for _, d := range r.Dets {
			all = append(all, cand{d: d, region: i, cut: cutByEdge(d.Box, r.Rect, w, h)})
		}
	}
	var out []Detection
	kept := make([]cand, 0, len(all))
	// Whole boxes first, then by score: a cut box never suppresses a whole one.
	order := make([]int, len(all))
	for i := range order {
		order[i] = i
	}
	sortStable(order, func(a, b int) bool {
		if all[a].cut != all[b].cut {
			return !all[a].cut
		}
		return all[a].d.Score > all[b].d.Score
	})
	for _, i := range order {
		c := all[i]
		dup := false
		for _, k := range kept {
			if k.d.Class.Group() != c.d.Class.Group() {
				continue
			}
			if k.d.Box.IoU(c.d.Box) > iou || (k.region != c.region && contained(c.d.Box, k.d.Box)) {
				dup = true
				break
			}
		}
		if !dup {
			kept = append(kept, c)
			out = append(out, c.d)
		}
	}
	return out
}

// cutByEdge reports whether box touches an edge of rect that is not an
// edge of the w×h frame: the object may go on beyond the crop.
func cutByEdge(b geom.Box, r image.Rectangle, w, h int) bool {
	return (r.Min.X > 0 && b.X <= float64(r.Min.X)+edgeSlack) ||
		(r.Min.Y > 0 && b.Y <= float64(r.Min.Y)+edgeSlack) ||
		(r.Max.X < w && b.X2() >= float64(r.Max.X)-edgeSlack) ||
		(r.Max.Y < h && b.Y2() >= float64(r.Max.Y)-edgeSlack)
}

// contained reports whether most (70%) of a lies inside b or of b inside a.
func contained(a, b geom.Box) bool {
	in := a.Intersection(b)
	small := min(a.Area(), b.Area())
	return small > 0 && in >= 0.7*small
}

// sortStable is an insertion sort: region detections number in tens.
func sortStable(idx []int, less func(a, b int) bool) {
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && less(idx[j], idx[j-1]); j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
}

// FillCrop letterboxes the r part of a frame (packed RGB24, frameW pixels
// wide) into dst like Fill does for a whole frame; l must have been made
// with NewLetterbox(r.Dx(), r.Dy(), …). ToSource then maps boxes to crop
// pixels: add r.Min for frame pixels.
func (l Letterbox) FillCrop(dst []float32, pix []byte, frameW int, r image.Rectangle) error {
	if r.Dx() != l.SrcW || r.Dy() != l.SrcH || r.Min.X < 0 || r.Min.Y < 0 || r.Max.X > frameW ||
		frameW <= 0 || len(pix) < r.Max.Y*frameW*3 {
		return errCrop
	}
	return l.fill(dst, pix[(r.Min.Y*frameW+r.Min.X)*3:], frameW*3)
}
