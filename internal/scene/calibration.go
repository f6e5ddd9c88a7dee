package scene

import (
	"github.com/goccy/go-yaml/ast"

	"github.com/vigil-cctv/vigil/internal/geom"
)

// calibration decodes either surveyed point pairs or a rectangle of known
// size, fits the homography and checks the reprojection error.
func (b *builder) calibration(n ast.Node) {
	const path = "calibration"
	f := b.mapping(n, path, []string{"pairs", "rectangle", "max_error_m"})
	if f == nil {
		return
	}
	c := &Calibration{}
	var src ast.Node
	var ok bool
	switch {
	case f.has("pairs") && f.has("rectangle"):
		b.errorf(f.keys["rectangle"], path+".rectangle", "give either pairs or rectangle, not both")
		return
	case f.has("pairs"):
		src = f.get("pairs")
		c.Pairs, ok = b.pairs(src, path+".pairs")
	case f.has("rectangle"):
		src = f.get("rectangle")
		c.Rectangle, ok = b.rectangle(src, path+".rectangle")
		if ok {
			c.Pairs = c.Rectangle.pairs()
		}
	default:
		b.errorf(f.node, path, "needs pairs (4 or more image↔ground points) or rectangle")
		return
	}
	if f.has("max_error_m") {
		c.MaxErrorLimit, _ = b.positive(f.get("max_error_m"), path+".max_error_m")
	}
	if ok && b.fit(c, src, f) {
		b.s.Calibration, b.s.Homography = c, &c.H
	}
}

// fit computes the homography and its reprojection error.
func (b *builder) fit(c *Calibration, src ast.Node, f *fields) bool {
	img, ground := make([]geom.Point, len(c.Pairs)), make([]geom.Point, len(c.Pairs))
	for i, p := range c.Pairs {
		img[i], ground[i] = p.Image, p.Ground
	}
	path := "calibration.pairs"
	if c.Rectangle != nil {
		path = "calibration.rectangle"
	}
	h, err := geom.FitHomography(img, ground)
	if err != nil {
		b.errorf(src, path, "cannot fit a ground-plane homography: %v", err)
		return false
	}
	c.H = h
	c.RMSError, c.MaxError = geom.ReprojectionError(h, img, ground)
	if c.MaxErrorLimit > 0 && c.RMSError > c.MaxErrorLimit {
		b.errorf(f.get("max_error_m"), "calibration.max_error_m",
			"reprojection RMS error %.3f m (worst pair %.3f m) exceeds the limit %g m", c.RMSError, c.MaxError, c.MaxErrorLimit)
		return false
	}
	return true
}

func (b *builder) pairs(n ast.Node, path string) ([]Pair, bool) {
	items, ok := b.seq(n, path)
	if !ok {
		return nil, false
	}
	if len(items) > maxItems {
		b.errorf(n, path, "too many pairs (%d, at most %d)", len(items), maxItems)
		return nil, false
	}
	out := make([]Pair, 0, len(items))
	for i, it := range items {
		p, pok := b.pair(it, index(path, i))
		ok = ok && pok
		out = append(out, p)
	}
	if ok && len(out) < 4 {
		b.errorf(n, path, "need at least 4 pairs to determine a homography, have %d", len(out))
		return nil, false
	}
	return out, ok
}

func (b *builder) pair(n ast.Node, path string) (Pair, bool) {
	f := b.mapping(n, path, []string{"image", "ground"})
	if f == nil {
		return Pair{}, false
	}
	var p Pair
	var oki, okg bool
	if in := b.require(f, "image"); in != nil {
		p.Image, oki = b.point(in, path+".image")
		oki = oki && b.inImage(p.Image, in, path+".image")
	}
	if gn := b.require(f, "ground"); gn != nil {
		p.Ground, okg = b.point(gn, path+".ground")
	}
	return p, oki && okg
}

func (b *builder) rectangle(n ast.Node, path string) (*Rectangle, bool) {
	f := b.mapping(n, path, []string{"image", "width_m", "length_m"})
	if f == nil {
		return nil, false
	}
	r := &Rectangle{}
	var okImg, okW, okL bool
	if in := b.require(f, "image"); in != nil {
		okImg = b.quad(r, in, path+".image")
	}
	if wn := b.require(f, "width_m"); wn != nil {
		r.WidthM, okW = b.positive(wn, path+".width_m")
	}
	if ln := b.require(f, "length_m"); ln != nil {
		r.LengthM, okL = b.positive(ln, path+".length_m")
	}
	return r, okImg && okW && okL
}

// quad decodes the rectangle's four image corners, which must outline a
// simple quadrilateral: crossed corners mean they are out of order.
func (b *builder) quad(r *Rectangle, n ast.Node, path string) bool {
	pts, ok := b.imagePoints(n, path)
	if !ok {
		return false
	}
	if len(pts) != 4 {
		b.errorf(b.resolve(n, path), path, "want the 4 corners in order around the rectangle, got %d points", len(pts))
		return false
	}
	if err := geom.Polygon(pts).Valid(); err != nil {
		b.errorf(b.resolve(n, path), path, "corners must go around the rectangle in order: %v", err)
		return false
	}
	copy(r.Image[:], pts)
	return true
}
