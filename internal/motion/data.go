package motion

import (
	"encoding/csv"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// loadGrey decodes an image file and downsamples it 2×2 to greyscale.
func loadGrey(path string) (plane, error) {
	f, err := os.Open(path)
	if err != nil {
		return plane{}, err
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		return plane{}, fmt.Errorf("decode %s: %w", path, err)
	}
	return toGrey(img), nil
}

func toGrey(img image.Image) plane {
	b := img.Bounds()
	W, H := b.Dx(), b.Dy()
	full := make([]float32, W*H)
	switch m := img.(type) {
	case *image.Gray:
		for y := 0; y < H; y++ {
			for x := 0; x < W; x++ {
				full[y*W+x] = float32(m.Pix[y*m.Stride+x])
			}
		}
	case *image.YCbCr:
		for y := 0; y < H; y++ {
			for x := 0; x < W; x++ {
				full[y*W+x] = float32(m.Y[m.YOffset(x+b.Min.X, y+b.Min.Y)])
			}
		}
	default:
		for y := 0; y < H; y++ {
			for x := 0; x < W; x++ {
				r, g, bb, _ := img.At(x+b.Min.X, y+b.Min.Y).RGBA()
				full[y*W+x] = float32(0.299*float64(r)+0.587*float64(g)+0.114*float64(bb)) / 257
			}
		}
	}
	w, h := W/2, H/2
	out := newPlane(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := 2*y*W + 2*x
			out.pix[y*w+x] = (full[i] + full[i+1] + full[i+W] + full[i+W+1]) / 4
		}
	}
	return out
}

// listFrames returns the sorted image paths of one clip folder.
func listFrames(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		n := strings.ToLower(e.Name())
		if !e.IsDir() && (strings.HasSuffix(n, ".jpg") || strings.HasSuffix(n, ".jpeg") || strings.HasSuffix(n, ".tif") || strings.HasSuffix(n, ".tiff")) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}

// listClips returns sorted sub-folder names of dir.
func listClips(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// gtClip is the ground truth of one test clip.
type gtClip struct {
	Clip  string   // e.g. Test001
	Files []string // relative to dataDir, frame order
	Anom  []bool
}

// readGT parses frame_gt.csv (clip,frame,file,anomalous; frame 1-based).
func readGT(r io.Reader) ([]gtClip, error) {
	cr := csv.NewReader(r)
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) < 2 || len(recs[0]) < 4 || recs[0][0] != "clip" {
		return nil, fmt.Errorf("frame_gt.csv: unexpected header %v", recs[:min(1, len(recs))])
	}
	var out []gtClip
	pos := map[string]int{}
	for i, rec := range recs[1:] {
		frame, err := strconv.Atoi(rec[1])
		if err != nil {
			return nil, fmt.Errorf("frame_gt.csv line %d: %w", i+2, err)
		}
		k, ok := pos[rec[0]]
		if !ok {
			k = len(out)
			pos[rec[0]] = k
			out = append(out, gtClip{Clip: rec[0]})
		}
		c := &out[k]
		if frame != len(c.Files)+1 {
			return nil, fmt.Errorf("frame_gt.csv line %d: clip %s frame %d out of order", i+2, rec[0], frame)
		}
		c.Files = append(c.Files, rec[2])
		c.Anom = append(c.Anom, strings.TrimSpace(rec[3]) == "1")
	}
	return out, nil
}
