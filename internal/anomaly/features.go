package anomaly

import (
	"context"
	"math"
	"path/filepath"
	"runtime"
	"sync"
)

const (
	cellSize  = 10   // cell side in half-resolution pixels (20 px full resolution)
	diffThr   = 12.0 // grey-level change that marks a pixel as moving
	matchGap  = 2    // frames between the blocks compared by block matching
	searchR   = 8    // block-matching search radius in half-resolution pixels
	minMoving = 6    // moving pixels a cell needs before its speed is estimated
	nFeat     = 3
)

// clipFeatures holds per-frame, per-cell features: feat[t][cell*nFeat+k].
type clipFeatures struct {
	gw, gh int
	feat   [][]float32
}

// computeClip decodes the frames of one clip and extracts cell features.
func computeClip(ctx context.Context, paths []string) (clipFeatures, error) {
	frames := make([]grey, len(paths))
	for i, p := range paths {
		if err := ctx.Err(); err != nil {
			return clipFeatures{}, err
		}
		g, err := loadGrey(p)
		if err != nil {
			return clipFeatures{}, err
		}
		frames[i] = g
	}
	if len(frames) == 0 {
		return clipFeatures{}, nil
	}
	w, h := frames[0].w, frames[0].h
	gw, gh := w/cellSize, h/cellSize
	cf := clipFeatures{gw: gw, gh: gh, feat: make([][]float32, len(frames))}
	mask := make([]bool, w*h)
	diff := make([]float32, w*h)
	for t := range frames {
		f := make([]float32, gw*gh*nFeat)
		cf.feat[t] = f
		if t == 0 {
			continue // filled from frame 1 below
		}
		cur, prev := frames[t].pix, frames[t-1].pix
		for i := range cur {
			d := cur[i] - prev[i]
			if d < 0 {
				d = -d
			}
			diff[i] = d
			mask[i] = d > diffThr
		}
		ref := frames[max(0, t-matchGap)].pix
		gap := float64(min(t, matchGap))
		for cy := 0; cy < gh; cy++ {
			for cx := 0; cx < gw; cx++ {
				var sumD float64
				n := 0
				for y := cy * cellSize; y < (cy+1)*cellSize; y++ {
					for x := cx * cellSize; x < (cx+1)*cellSize; x++ {
						sumD += float64(diff[y*w+x])
						if mask[y*w+x] {
							n++
						}
					}
				}
				c := (cy*gw + cx) * nFeat
				area := float64(cellSize * cellSize)
				f[c+0] = float32(float64(n) / area)
				f[c+1] = float32(sumD / area)
				if n >= minMoving {
					f[c+2] = float32(matchSpeed(cur, ref, mask, w, h, cx*cellSize, cy*cellSize) / gap)
				}
			}
		}
	}
	if len(frames) > 1 {
		copy(cf.feat[0], cf.feat[1])
	}
	return cf, nil
}

// matchSpeed finds the displacement that best maps the moving pixels of one
// cell in cur onto ref (mean absolute difference plus a small preference for
// short displacements) and returns its length.
func matchSpeed(cur, ref []float32, mask []bool, w, h, x0, y0 int) float64 {
	best, bestD := math.Inf(1), 0.0
	for dy := -searchR; dy <= searchR; dy++ {
		for dx := -searchR; dx <= searchR; dx++ {
			var s float64
			n := 0
			for y := y0; y < y0+cellSize; y++ {
				ry := y + dy
				if ry < 0 || ry >= h {
					continue
				}
				for x := x0; x < x0+cellSize; x++ {
					if !mask[y*w+x] {
						continue
					}
					rx := x + dx
					if rx < 0 || rx >= w {
						continue
					}
					d := cur[y*w+x] - ref[ry*w+rx]
					if d < 0 {
						d = -d
					}
					s += float64(d)
					n++
				}
			}
			if n < minMoving {
				continue
			}
			dist := math.Hypot(float64(dx), float64(dy))
			cost := s/float64(n) + 0.3*dist
			if cost < best {
				best, bestD = cost, dist
			}
		}
	}
	return bestD
}

// computeClips extracts features of many clips with a bounded worker pool.
// Results are indexed by clip, so the output does not depend on scheduling.
func computeClips(ctx context.Context, root string, clips [][]string, workers int) ([]clipFeatures, error) {
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	out := make([]clipFeatures, len(clips))
	errs := make([]error, len(clips))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				paths := make([]string, len(clips[i]))
				for k, p := range clips[i] {
					if filepath.IsAbs(p) {
						paths[k] = p
					} else {
						paths[k] = filepath.Join(root, p)
					}
				}
				out[i], errs[i] = computeClip(ctx, paths)
			}
		}()
	}
	for i := range clips {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
