package scene

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

	"github.com/vigil-cctv/vigil/internal/geom"
)

// decoder walks the YAML syntax tree by hand instead of unmarshalling into
// tagged structs: a struct decoder stops at the first problem and loses the
// positions of values that decode fine but fail later checks (an unknown
// zone name, a point outside the image). Walking the tree keeps a node, and
// so a line:column, for every value, and collects every error.
type decoder struct {
	file    string
	errs    Errors
	anchors map[string]ast.Node
}

// errorf records an error at node n for the field at path.
func (d *decoder) errorf(n ast.Node, path, format string, args ...any) {
	line, col := position(n)
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Column: col, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// position is where n starts. Block mappings report the position of their
// first ':' in the parser, so use the first key instead, which is where a
// reader looks for "this mapping".
func position(n ast.Node) (int, int) {
	if m, ok := n.(*ast.MappingNode); ok && !m.IsFlowStyle && len(m.Values) > 0 {
		n = m.Values[0].Key
	}
	if n == nil || n.GetToken() == nil || n.GetToken().Position == nil {
		return 1, 1
	}
	p := n.GetToken().Position
	return max(p.Line, 1), max(p.Column, 1)
}

// join builds field paths: join("rules[2]", "zone") is "rules[2].zone".
func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// resolve strips anchors and tags and follows aliases, so that scene files
// may share a polygon or a window through YAML anchors.
func (d *decoder) resolve(n ast.Node, path string) ast.Node {
	for range 64 { // bounded: alias chains cannot loop forever
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		case *ast.AliasNode:
			name := v.Value.GetToken().Value
			target, ok := d.anchors[name]
			if !ok {
				d.errorf(v, path, "unknown alias *%s", name)
				return nil
			}
			n = target
		default:
			return n
		}
	}
	d.errorf(n, path, "alias chain too deep")
	return nil
}

// collectAnchors indexes every anchor in the document by name.
func collectAnchors(root ast.Node) map[string]ast.Node {
	out := map[string]ast.Node{}
	for _, n := range ast.Filter(ast.AnchorType, root) {
		a := n.(*ast.AnchorNode)
		out[a.Name.GetToken().Value] = a.Value
	}
	return out
}

// kind names a node's type the way a user would say it.
func kind(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.NullNode:
		return "nothing (null)"
	case *ast.StringNode, *ast.LiteralNode:
		return "a string"
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "a number"
	case *ast.BoolNode:
		return "a boolean"
	}
	return n.Type().YAMLName()
}

// fields is a decoded mapping: its values by key, for one object.
type fields struct {
	node ast.Node
	path string
	vals map[string]ast.Node
	keys map[string]ast.Node
}

// mapping checks n is a mapping whose keys are all in known, reporting
// unknown keys. It returns nil when n is not a mapping at all.
func (d *decoder) mapping(n ast.Node, path string, known []string) *fields {
	n = d.resolve(n, path)
	m, ok := n.(*ast.MappingNode)
	if !ok {
		if n != nil {
			d.errorf(n, path, "want a mapping, got %s", kind(n))
		}
		return nil
	}
	f := &fields{node: m, path: path, vals: map[string]ast.Node{}, keys: map[string]ast.Node{}}
	for _, kv := range m.Values {
		key := kv.Key.GetToken().Value
		switch {
		case !slices.Contains(known, key):
			d.errorf(kv.Key, join(path, key), "unknown field (known: %s)", strings.Join(known, ", "))
		case f.vals[key] != nil:
			d.errorf(kv.Key, join(path, key), "duplicate field")
		default:
			f.vals[key], f.keys[key] = kv.Value, kv.Key
		}
	}
	return f
}

// has reports whether the field is present.
func (f *fields) has(name string) bool { return f != nil && f.vals[name] != nil }

// get is the field's value node, nil when absent.
func (f *fields) get(name string) ast.Node {
	if f == nil {
		return nil
	}
	return f.vals[name]
}

// require reports a missing field and returns its node otherwise.
func (d *decoder) require(f *fields, name string) ast.Node {
	if f == nil {
		return nil
	}
	if n := f.vals[name]; n != nil {
		return n
	}
	d.errorf(f.node, join(f.path, name), "missing required field")
	return nil
}

// seq decodes a list.
func (d *decoder) seq(n ast.Node, path string) ([]ast.Node, bool) {
	n = d.resolve(n, path)
	s, ok := n.(*ast.SequenceNode)
	if !ok {
		if n != nil {
			d.errorf(n, path, "want a list, got %s", kind(n))
		}
		return nil, false
	}
	return s.Values, true
}

// str decodes a string. Numbers and booleans are refused rather than
// converted so that, say, a zone named `no` does not silently become false.
func (d *decoder) str(n ast.Node, path string) (string, bool) {
	n = d.resolve(n, path)
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		return v.Value.Value, true
	case nil:
		return "", false
	}
	d.errorf(n, path, "want a string, got %s", kind(n))
	return "", false
}

// number decodes a finite integer or float.
func (d *decoder) number(n ast.Node, path string) (float64, bool) {
	n = d.resolve(n, path)
	var x float64
	switch v := n.(type) {
	case *ast.IntegerNode:
		x, _ = strconv.ParseFloat(fmt.Sprint(v.Value), 64)
	case *ast.FloatNode:
		x = v.Value
	case *ast.InfinityNode, *ast.NanNode:
		d.errorf(n, path, "want a finite number, got %s", n.GetToken().Value)
		return 0, false
	case nil:
		return 0, false
	default:
		d.errorf(n, path, "want a number, got %s", kind(n))
		return 0, false
	}
	if math.IsInf(x, 0) || math.IsNaN(x) {
		d.errorf(n, path, "want a finite number")
		return 0, false
	}
	return x, true
}

// positive decodes a number > 0.
func (d *decoder) positive(n ast.Node, path string) (float64, bool) {
	x, ok := d.number(n, path)
	if ok && x <= 0 {
		d.errorf(n, path, "must be greater than 0, got %g", x)
		return 0, false
	}
	return x, ok
}

// integer decodes a whole number within [lo, hi].
func (d *decoder) integer(n ast.Node, path string, lo, hi int) (int, bool) {
	n = d.resolve(n, path)
	v, ok := n.(*ast.IntegerNode)
	if !ok {
		if n != nil {
			d.errorf(n, path, "want a whole number, got %s", kind(n))
		}
		return 0, false
	}
	i, err := strconv.ParseInt(fmt.Sprint(v.Value), 10, 64)
	if err != nil || i < int64(lo) || i > int64(hi) {
		d.errorf(n, path, "must be between %d and %d, got %s", lo, hi, v.GetToken().Value)
		return 0, false
	}
	return int(i), true
}

// duration decodes a Go duration string such as "30s" or "1h30m", at least
// lo. Bare numbers are refused: "30" could mean seconds or minutes.
func (d *decoder) duration(n ast.Node, path string, lo time.Duration) (time.Duration, bool) {
	n = d.resolve(n, path)
	s, isStr := n.(*ast.StringNode)
	if !isStr {
		if n != nil {
			d.errorf(n, path, "want a duration such as \"30s\" or \"5m\", got %s", kind(n))
		}
		return 0, false
	}
	v, err := time.ParseDuration(s.Value)
	if err != nil {
		d.errorf(n, path, "want a duration such as \"30s\" or \"5m\", got %q", s.Value)
		return 0, false
	}
	if v < lo {
		d.errorf(n, path, "must be at least %s, got %s", lo, v)
		return 0, false
	}
	return v, true
}

// point decodes [x, y].
func (d *decoder) point(n ast.Node, path string) (geom.Point, bool) {
	items, ok := d.seq(n, path)
	if !ok {
		return geom.Point{}, false
	}
	if len(items) != 2 {
		d.errorf(d.resolve(n, path), path, "want a point [x, y], got %d numbers", len(items))
		return geom.Point{}, false
	}
	x, okx := d.number(items[0], index(path, 0))
	y, oky := d.number(items[1], index(path, 1))
	return geom.Point{X: x, Y: y}, okx && oky
}

// points decodes a list of points; ok is false when any failed.
func (d *decoder) points(n ast.Node, path string) ([]geom.Point, []ast.Node, bool) {
	items, ok := d.seq(n, path)
	if !ok {
		return nil, nil, false
	}
	out := make([]geom.Point, len(items))
	for i, it := range items {
		p, pok := d.point(it, index(path, i))
		out[i], ok = p, ok && pok
	}
	return out, items, ok
}

// name decodes an object name: a short identifier, so that names work as
// metric labels and in file names without quoting.
func (d *decoder) name(n ast.Node, path string) (string, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return "", false
	}
	if !ValidName(s) {
		d.errorf(n, path, "invalid name %q: use letters, digits, '_', '-' and '.', starting with a letter or digit", s)
		return "", false
	}
	return s, true
}

// MaxNameLen bounds names and camera ids.
const MaxNameLen = 64

// ValidName reports whether s is a short identifier: 1–64 letters, digits,
// '_', '-' and '.', starting with a letter or digit. Scene object names and
// camera ids follow it, so both work as metric labels and in file names.
func ValidName(s string) bool {
	if s == "" || len(s) > MaxNameLen {
		return false
	}
	for i, r := range s {
		alnum := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !alnum && (i == 0 || !strings.ContainsRune("_-.", r)) {
			return false
		}
	}
	return true
}

// enum decodes one of a fixed set of strings.
func (d *decoder) enum(n ast.Node, path string, known []string) (string, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return "", false
	}
	if !slices.Contains(known, s) {
		d.errorf(n, path, "unknown value %q (known: %s)", s, strings.Join(known, ", "))
		return "", false
	}
	return s, true
}

// tokenError converts a parser error into an Error at its token.
func tokenError(file, msg string, tk *token.Token) *Error {
	e := &Error{File: file, Line: 1, Column: 1, Msg: msg}
	if tk != nil && tk.Position != nil {
		e.Line, e.Column = max(tk.Position.Line, 1), max(tk.Position.Column, 1)
	}
	return e
}
