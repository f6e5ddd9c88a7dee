package scene

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/yamlguard"
)

// Limits that keep a hostile or broken file from costing quadratic time;
// real scenes are far below them.
const (
	maxVertices = 1000
	maxItems    = 1000
	// maxTotalVertices bounds the polygon vertices of the whole scene, an
	// alias counting each time it is used: checking a polygon is O(n²), so
	// this bounds validation work (real scenes have a few hundred).
	maxTotalVertices = 10000
	// MaxBytes is the largest scene file accepted.
	MaxBytes = 1 << 20
	// imageMargin is how far outside the frame, as a fraction of its size,
	// a point may lie: zones are drawn to the frame edge by hand and a click
	// often lands a pixel or two outside.
	imageMargin = 0.02
)

// limits bound the YAML itself before it is decoded: a real scene nests
// five levels deep and uses a few aliases; these leave room for any
// hand-written scene and refuse the 50,000 nested brackets or the
// thousand-times-aliased polygon of a hostile upload in microseconds.
var limits = yamlguard.Limits{MaxBytes: MaxBytes, MaxDepth: 32, MaxAliases: 2000, MaxExpanded: 200_000}

// builder decodes one scene, keeping the named objects decoded so far so
// that later sections can resolve references to them.
type builder struct {
	decoder
	s         *Scene
	zones     map[string]*Zone
	lines     map[string]*Line
	lanes     map[string]*Lane
	schedules map[string]*Schedule
	ruleNames map[string]string // rule name → path of the rule that has it
	// hasCalibration is true when the file has a calibration section, so
	// that rules needing one are not also blamed when it is merely invalid.
	hasCalibration bool
	// ctx bounds the time validation may take; stopped is set once it
	// has ended and the error for it recorded.
	ctx     context.Context
	stopped bool
	// vertices counts the polygon vertices decoded so far.
	vertices int
}

// Parse decodes and validates a scene file. name is used in error
// messages. On any problem it returns a nil Scene and an Errors listing
// every problem found, each with file:line:column and field path.
func Parse(data []byte, name string) (*Scene, error) {
	return ParseContext(context.Background(), data, name)
}

// ParseContext is Parse with a bound on validation time: once ctx ends the
// scene is refused with an error saying so. Files too large, too deeply
// nested or expanding too far through aliases are refused before
// validation starts.
func ParseContext(ctx context.Context, data []byte, name string) (*Scene, error) {
	if err := yamlguard.Scan(data, limits); err != nil {
		return nil, Errors{guardError(name, err)}
	}
	root, err := parseYAML(data, name)
	if err != nil {
		return nil, err
	}
	if err := yamlguard.Expansion(root, limits.MaxExpanded); err != nil {
		return nil, Errors{guardError(name, err)}
	}
	b := &builder{
		decoder: decoder{file: name, anchors: collectAnchors(root)},
		zones:   map[string]*Zone{}, lines: map[string]*Line{},
		lanes: map[string]*Lane{}, schedules: map[string]*Schedule{},
		ruleNames: map[string]string{}, ctx: ctx,
	}
	s := b.scene(root)
	if len(b.errs) > 0 {
		return nil, b.errs.sorted()
	}
	return s, nil
}

// guardError places a yamlguard refusal in the file.
func guardError(name string, err error) *Error {
	var ge *yamlguard.Error
	if errors.As(err, &ge) {
		return &Error{File: name, Line: max(ge.Line, 1), Column: max(ge.Column, 1), Msg: ge.Msg}
	}
	return &Error{File: name, Line: 1, Column: 1, Msg: err.Error()}
}

// alive reports whether validation may go on; the first time the context
// has ended it records why the scene is refused.
func (b *builder) alive(n ast.Node, path string) bool {
	if b.stopped {
		return false
	}
	if err := b.ctx.Err(); err != nil {
		b.stopped = true
		b.errorf(n, path, "validation stopped here: the scene took longer to check than allowed (%v)", err)
		return false
	}
	return true
}

// parseYAML turns the bytes into the single document's root node.
func parseYAML(data []byte, name string) (root ast.Node, err error) {
	// The YAML parser is third-party code fed user input; a panic in it must
	// become an error, not take the process down.
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, Errors{{File: name, Line: 1, Column: 1, Msg: fmt.Sprintf("YAML parser failed: %v", r)}}
		}
	}()
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) {
			return nil, Errors{tokenError(name, ye.GetMessage(), ye.GetToken())}
		}
		return nil, Errors{{File: name, Line: 1, Column: 1, Msg: err.Error()}}
	}
	var docs []ast.Node
	for _, doc := range f.Docs {
		if doc != nil && doc.Body != nil {
			docs = append(docs, doc.Body)
		}
	}
	switch {
	case len(docs) == 0:
		return nil, Errors{{File: name, Line: 1, Column: 1, Msg: "empty scene file"}}
	case len(docs) > 1:
		line, col := position(docs[1])
		return nil, Errors{{File: name, Line: line, Column: col, Msg: "a scene file holds one YAML document"}}
	}
	return docs[0], nil
}

var topFields = []string{"version", "camera", "image", "calibration", "zones", "lines", "lanes", "schedules", "rules"}

// scene decodes the top level. Sections are decoded in dependency order,
// whatever their order in the file, so references resolve.
func (b *builder) scene(root ast.Node) *Scene {
	b.s = &Scene{File: b.file}
	f := b.mapping(root, "", topFields)
	if f == nil {
		return nil
	}
	if n := b.require(f, "version"); n != nil {
		b.version(n)
	}
	if n := b.require(f, "camera"); n != nil {
		b.s.Camera, _ = b.name(n, "camera")
	}
	if n := b.require(f, "image"); n != nil {
		b.image(n)
	}
	if f.has("calibration") {
		b.hasCalibration = true
		b.calibration(f.get("calibration"))
	}
	b.each(f.get("zones"), "zones", b.zone)
	b.each(f.get("lines"), "lines", b.line)
	b.each(f.get("lanes"), "lanes", b.lane)
	b.each(f.get("schedules"), "schedules", b.schedule)
	b.each(f.get("rules"), "rules", b.rule)
	return b.s
}

// each decodes every item of an optional list section.
func (b *builder) each(n ast.Node, path string, item func(ast.Node, string)) {
	if n == nil {
		return
	}
	items, ok := b.seq(n, path)
	if !ok {
		return
	}
	if len(items) > maxItems {
		b.errorf(n, path, "too many entries (%d, at most %d)", len(items), maxItems)
		return
	}
	for i, it := range items {
		if !b.alive(it, index(path, i)) {
			return
		}
		item(it, index(path, i))
	}
}

func (b *builder) version(n ast.Node) {
	v, ok := b.integer(n, "version", 0, 1<<30)
	if ok && v != Version {
		b.errorf(n, "version", "unsupported version %d (this build reads version %d)", v, Version)
	}
	b.s.Version = v
}

func (b *builder) image(n ast.Node) {
	f := b.mapping(n, "image", []string{"width", "height"})
	w, okw := b.integer(b.require(f, "width"), "image.width", 1, 1<<16)
	h, okh := b.integer(b.require(f, "height"), "image.height", 1, 1<<16)
	if okw && okh {
		b.s.Image = Size{Width: w, Height: h}
	}
}

// inImage reports (and records) a point outside the frame plus margin.
// Without a valid image size there is nothing to check against.
func (b *builder) inImage(p geom.Point, n ast.Node, path string) bool {
	w, h := float64(b.s.Image.Width), float64(b.s.Image.Height)
	if w == 0 {
		return true
	}
	mx, my := imageMargin*w, imageMargin*h
	if p.X < -mx || p.X > w+mx || p.Y < -my || p.Y > h+my {
		b.errorf(n, path, "point [%g, %g] is outside the %dx%d image", p.X, p.Y, b.s.Image.Width, b.s.Image.Height)
		return false
	}
	return true
}

// imagePoints decodes a list of points that must all be in the frame.
func (b *builder) imagePoints(n ast.Node, path string) ([]geom.Point, bool) {
	pts, nodes, ok := b.points(n, path)
	if !ok {
		return pts, false
	}
	for i, p := range pts {
		ok = b.inImage(p, nodes[i], index(path, i)) && ok
	}
	return pts, ok
}

// unique records a duplicate name; seen holds the names decoded so far.
func unique[T any](b *builder, seen map[string]T, name, what string, n ast.Node, path string) bool {
	if _, dup := seen[name]; dup {
		b.errorf(n, path, "duplicate %s name %q", what, name)
		return false
	}
	return true
}

// lookup resolves a reference to a named object, listing the known names
// when it fails so a typo is obvious.
func lookup[T any](b *builder, seen map[string]*T, n ast.Node, path, what string) *T {
	name, ok := b.str(n, path)
	if !ok {
		return nil
	}
	if v, ok := seen[name]; ok {
		return v
	}
	known := slices.Sorted(maps.Keys(seen))
	list := "none defined"
	if len(known) > 0 {
		list = "known: " + strings.Join(known, ", ")
	}
	b.errorf(n, path, "unknown %s %q (%s)", what, name, list)
	return nil
}
