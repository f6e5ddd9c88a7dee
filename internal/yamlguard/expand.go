package yamlguard

import (
	"fmt"
	"reflect"

	"github.com/goccy/go-yaml/ast"
)

// Expansion counts the values (scalars, lists, mappings) a parsed document
// holds once every alias is replaced by its anchor's content, and refuses
// it when that exceeds max (no limit when max <= 0). The count stops early
// once past max, and each anchor's size is computed once, so the check
// itself costs time in proportion to the syntax tree, not to its
// expansion. The error names the anchor used most.
func Expansion(root ast.Node, max int) error {
	if doc, ok := root.(*ast.DocumentNode); ok {
		root = doc.Body
	}
	if max <= 0 || root == nil || reflect.ValueOf(root).IsNil() {
		return nil // an empty document
	}
	e := &expander{max: max, anchors: map[string]ast.Node{}, sizes: map[string]int{}, uses: map[string]int{}}
	e.index(root)
	if n := e.size(root, 0); n > max {
		return e.tooBig(root)
	}
	return nil
}

type expander struct {
	max     int
	anchors map[string]ast.Node // anchor name → its value, as the parser resolves aliases
	sizes   map[string]int      // anchor name → expanded size, once known
	uses    map[string]int      // alias uses per anchor name
	open    map[string]bool     // anchors being sized: an alias inside its own anchor
}

// index records each anchor and counts alias uses.
func (e *expander) index(root ast.Node) {
	for _, n := range ast.Filter(ast.AnchorType, root) {
		a := n.(*ast.AnchorNode)
		e.anchors[a.Name.GetToken().Value] = a.Value
	}
	for _, n := range ast.Filter(ast.AliasType, root) {
		e.uses[aliasName(n.(*ast.AliasNode))]++
	}
}

// maxDepth bounds the recursion: Scan has already refused deeper documents
// when it ran first, and a tree this deep is refused here regardless.
const maxDepth = 1000

// size is n's expanded value count, saturating just past e.max.
func (e *expander) size(n ast.Node, depth int) int {
	if n == nil {
		return 0
	}
	if depth > maxDepth {
		return e.max + 1
	}
	switch v := n.(type) {
	case *ast.DocumentNode:
		return e.size(v.Body, depth+1)
	case *ast.AnchorNode:
		return e.size(v.Value, depth+1)
	case *ast.TagNode:
		return e.size(v.Value, depth+1)
	case *ast.MappingKeyNode:
		return e.size(v.Value, depth+1)
	case *ast.MappingValueNode:
		return e.add(e.size(v.Key, depth+1), e.size(v.Value, depth+1))
	case *ast.MappingNode:
		return sizeAll(e, v.Values, depth+1)
	case *ast.SequenceNode:
		return sizeAll(e, v.Values, depth+1)
	case *ast.AliasNode:
		return e.alias(v, depth)
	}
	return 1
}

// sizeAll is one collection's expanded size: itself and its items.
func sizeAll[N ast.Node](e *expander, items []N, depth int) int {
	total := 1
	for _, it := range items {
		if total = e.add(total, e.size(it, depth)); total > e.max {
			break
		}
	}
	return total
}

func (e *expander) alias(v *ast.AliasNode, depth int) int {
	name := aliasName(v)
	if s, ok := e.sizes[name]; ok {
		return s
	}
	target, ok := e.anchors[name]
	if !ok || e.open[name] {
		return 1 // unknown or recursive: the parser reports it
	}
	if e.open == nil {
		e.open = map[string]bool{}
	}
	e.open[name] = true
	s := e.size(target, depth+1)
	delete(e.open, name)
	e.sizes[name] = s
	return s
}

func (e *expander) add(a, b int) int {
	if a+b > e.max {
		return e.max + 1
	}
	return a + b
}

// tooBig builds the error, naming the most used anchor as the likely cause.
func (e *expander) tooBig(root ast.Node) error {
	msg := fmt.Sprintf("the document holds more than %d values once aliases are followed", e.max)
	best, line, col := "", 1, 1
	for name, n := range e.uses {
		if n > e.uses[best] || (n == e.uses[best] && name < best) {
			best = name
		}
	}
	if best != "" {
		msg += fmt.Sprintf(" (anchor &%s is used %d times, and each alias repeats all of it)", best, e.uses[best])
		for _, n := range ast.Filter(ast.AliasType, root) {
			if aliasName(n.(*ast.AliasNode)) == best {
				if tk := n.GetToken(); tk != nil && tk.Position != nil {
					line, col = tk.Position.Line, tk.Position.Column
				}
				break
			}
		}
	}
	return &Error{Line: line, Column: col, Msg: msg}
}

func aliasName(a *ast.AliasNode) string {
	if a.Value == nil || a.Value.GetToken() == nil {
		return ""
	}
	return a.Value.GetToken().Value
}
