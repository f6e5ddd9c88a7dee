package scene

import (
	"github.com/goccy/go-yaml/ast"

	"github.com/vigil-cctv/vigil/internal/geom"
)

// zone decodes one zone and, when calibrated, its ground polygon.
func (b *builder) zone(n ast.Node, path string) {
	f := b.mapping(n, path, []string{"name", "type", "polygon"})
	if f == nil {
		return
	}
	z := &Zone{}
	name, okName := objectName(b, f, path, b.zones, "zone")
	t, okType := b.enum(b.require(f, "type"), path+".type", zoneTypes)
	z.Name, z.Type = name, ZoneType(t)
	okPoly := false
	if pn := b.require(f, "polygon"); pn != nil {
		z.Polygon, okPoly = b.polygon(pn, path+".polygon")
	}
	if okName {
		// Registered even when invalid so that references to it do not pile
		// up "unknown zone" errors on top of the real one.
		b.zones[name] = z
	}
	if okName && okType && okPoly {
		b.groundZone(z)
		b.s.Zones = append(b.s.Zones, z)
	}
}

// objectName decodes the required, unique name of a zone, line, lane or
// schedule.
func objectName[T any](b *builder, f *fields, path string, seen map[string]*T, what string) (string, bool) {
	n := b.require(f, "name")
	if n == nil {
		return "", false
	}
	name, ok := b.name(n, path+".name")
	return name, ok && unique(b, seen, name, what, n, path+".name")
}

func (b *builder) polygon(n ast.Node, path string) (geom.Polygon, bool) {
	if b.vertices > maxTotalVertices || !b.alive(n, path) {
		return nil, false // already reported
	}
	pts, ok := b.imagePoints(n, path)
	if !ok {
		return nil, false
	}
	rn := b.resolve(n, path)
	if len(pts) > maxVertices {
		b.errorf(rn, path, "too many vertices (%d, at most %d)", len(pts), maxVertices)
		return nil, false
	}
	if b.vertices += len(pts); b.vertices > maxTotalVertices {
		b.errorf(n, path, "the scene's polygons have more than %d vertices in all "+
			"(an alias counts each time it is used); later polygons are not checked", maxTotalVertices)
		return nil, false
	}
	pg := geom.Polygon(pts)
	if err := pg.Valid(); err != nil {
		b.errorf(rn, path, "invalid polygon: %v", err)
		return nil, false
	}
	return pg, true
}

// groundZone projects a zone onto the ground. A homography maps straight
// edges to straight edges, and w is affine in the image, so when every
// vertex is in front of the camera the whole polygon is, and the projected
// vertices outline the ground polygon exactly.
func (b *builder) groundZone(z *Zone) {
	if b.s.Homography == nil {
		return
	}
	g := make(geom.Polygon, len(z.Polygon))
	for i, p := range z.Polygon {
		q, ok := b.s.Homography.Apply(p)
		if !ok {
			return // reaches the horizon: no finite ground area
		}
		g[i] = q
	}
	z.Ground, z.AreaM2 = g, g.Area()
}

// line decodes one tripwire.
func (b *builder) line(n ast.Node, path string) {
	f := b.mapping(n, path, []string{"name", "points", "in"})
	if f == nil {
		return
	}
	l := &Line{}
	name, okName := objectName(b, f, path, b.lines, "line")
	in, okIn := b.enum(b.require(f, "in"), path+".in", []string{"left", "right"})
	l.Name, l.In = name, LineSide(in)
	okPts := false
	if pn := b.require(f, "points"); pn != nil {
		var ends [2]geom.Point
		ends, okPts = b.segment(pn, path+".points")
		l.A, l.B = ends[0], ends[1]
	}
	if okName {
		b.lines[name] = l
	}
	if okName && okIn && okPts {
		b.s.Lines = append(b.s.Lines, l)
	}
}

// segment decodes two distinct image points.
func (b *builder) segment(n ast.Node, path string) ([2]geom.Point, bool) {
	var out [2]geom.Point
	pts, ok := b.imagePoints(n, path)
	if !ok {
		return out, false
	}
	rn := b.resolve(n, path)
	if len(pts) != 2 {
		b.errorf(rn, path, "want 2 points [[x1, y1], [x2, y2]], got %d", len(pts))
		return out, false
	}
	if pts[0] == pts[1] {
		b.errorf(rn, path, "the two points coincide")
		return out, false
	}
	copy(out[:], pts)
	return out, true
}

// lane decodes one lane and its direction of travel.
func (b *builder) lane(n ast.Node, path string) {
	f := b.mapping(n, path, []string{"name", "zone", "direction"})
	if f == nil {
		return
	}
	l := &Lane{}
	name, okName := objectName(b, f, path, b.lanes, "lane")
	l.Name = name
	okZone := false
	if zn := b.require(f, "zone"); zn != nil {
		l.Zone = lookup(b, b.zones, zn, path+".zone", "zone")
		okZone = l.Zone != nil && b.zoneType(l.Zone, zn, path+".zone", Carriageway)
	}
	okDir := false
	if dn := b.require(f, "direction"); dn != nil {
		l.Arrow, okDir = b.segment(dn, path+".direction")
		okDir = okDir && okZone && b.laneDirection(l, dn, path+".direction")
	}
	if okName {
		b.lanes[name] = l
	}
	if okName && okZone && okDir {
		b.s.Lanes = append(b.s.Lanes, l)
	}
}

// zoneType checks a referenced zone has one of the wanted types.
func (b *builder) zoneType(z *Zone, n ast.Node, path string, want ...ZoneType) bool {
	for _, t := range want {
		if z.Type == t {
			return true
		}
	}
	b.errorf(n, path, "zone %q is a %s zone, want %s", z.Name, z.Type, typeList(want))
	return false
}

func typeList(ts []ZoneType) string {
	s := ""
	for i, t := range ts {
		switch {
		case i == 0:
		case i == len(ts)-1:
			s += " or "
		default:
			s += ", "
		}
		s += string(t)
	}
	return s
}

// laneDirection derives the unit directions of a lane's arrow. The arrow
// must lie inside its zone: under perspective the ground direction of an
// image arrow depends on where it is drawn, so it has to be drawn on the
// lane it describes.
func (b *builder) laneDirection(l *Lane, n ast.Node, path string) bool {
	items, _ := b.seq(n, path) // already decoded: only for positions
	for i, p := range l.Arrow {
		if len(l.Zone.Polygon) > 0 && !l.Zone.Contains(p) {
			b.errorf(items[i], index(path, i), "arrow point [%g, %g] is outside zone %q", p.X, p.Y, l.Zone.Name)
			return false
		}
	}
	d := l.Arrow[1].Sub(l.Arrow[0])
	l.ImageDir = d.Scale(1 / d.Norm())
	if b.s.Homography == nil {
		return true
	}
	g0, ok0 := b.s.Homography.Apply(l.Arrow[0])
	g1, ok1 := b.s.Homography.Apply(l.Arrow[1])
	if !ok0 || !ok1 || g0 == g1 {
		b.errorf(n, path, "arrow reaches the horizon of the calibration; draw it lower on the road")
		return false
	}
	gd := g1.Sub(g0)
	l.GroundDir, l.HasGround = gd.Scale(1/gd.Norm()), true
	return true
}
