package motion

import (
	"context"
	"path/filepath"
	"runtime"
	"sync"
)

const (
	cellSize = 10   // cell side in half-resolution pixels (20 px full resolution)
	diffThr  = 12.0 // grey-level change that marks a pixel as moving
	// winR is the momentum window radius in half-resolution pixels: 11×11,
	// roughly one pedestrian in the middle of the Ped2 walkway.
	winR = 5
	// margin drops a border band where LK flow is extrapolated from repeated
	// edge pixels: people entering the frame otherwise look fast.
	margin = 2
)

// motionFlow runs LK on half-resolution frames: Ped2 pedestrians move about
// 0.5–1 px per frame there and bicycles 1–3, within reach of two levels.
var motionFlow = flowParams{levels: 2, iters: 3, radius: 3, lambda: 4}

// clipFeatures holds, per frame and cell, the strongest momentum of the
// windows centred in that cell: cells[t][cy*gw+cx].
type clipFeatures struct {
	gw, gh int
	cells  [][]float32
}

// computeClip decodes the frames of one clip and extracts cell momenta.
func computeClip(ctx context.Context, paths []string) (clipFeatures, error) {
	frames := make([]plane, len(paths))
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
	cf := clipFeatures{gw: frames[0].w / cellSize, gh: frames[0].h / cellSize}
	cf.cells = make([][]float32, len(frames))
	for t := 1; t < len(frames); t++ {
		if err := ctx.Err(); err != nil {
			return clipFeatures{}, err
		}
		cf.cells[t] = cellMax(momentum(frames[t-1], frames[t]), cf.gw, cf.gh)
	}
	if len(frames) > 1 {
		cf.cells[0] = cf.cells[1]
	} else {
		cf.cells[0] = make([]float32, cf.gw*cf.gh)
	}
	return cf, nil
}

// momentum returns, per pixel, the length of the summed flow of the moving
// pixels in the surrounding window divided by the window area. It grows with
// both the speed and the size of what moves, which is what sets a bicycle or
// a cart apart from a pedestrian, while flow noise of random direction and
// the opposite swing of arms and legs cancel out.
func momentum(prev, cur plane) plane {
	u, v := lkFlow(prev, cur, motionFlow)
	mu, mv := newPlane(cur.w, cur.h), newPlane(cur.w, cur.h)
	for y := margin; y < cur.h-margin; y++ {
		for x := margin; x < cur.w-margin; x++ {
			i := y*cur.w + x
			if d := cur.pix[i] - prev.pix[i]; d > diffThr || d < -diffThr {
				mu.pix[i], mv.pix[i] = u.pix[i], v.pix[i]
			}
		}
	}
	bu, bv := boxMeanZero(mu, winR), boxMeanZero(mv, winR)
	return magnitude(bu, bv)
}

// cellMax returns the maximum of m over each cellSize×cellSize cell.
func cellMax(m plane, gw, gh int) []float32 {
	out := make([]float32, gw*gh)
	for y := 0; y < gh*cellSize; y++ {
		for x := 0; x < gw*cellSize; x++ {
			c := (y/cellSize)*gw + x/cellSize
			out[c] = max(out[c], m.pix[y*m.w+x])
		}
	}
	return out
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
