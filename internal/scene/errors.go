package scene

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem found in a scene file, located by position and by
// the path of the offending field (e.g. "rules[2].zone"). Path is empty for
// YAML syntax errors, which have no field yet.
type Error struct {
	File         string
	Line, Column int
	Path         string
	Msg          string
}

// Error formats as "file:line:column: path: message", the shape editors and
// CI logs recognise as a jump-to location.
func (e *Error) Error() string {
	loc := fmt.Sprintf("%s:%d:%d: ", e.File, e.Line, e.Column)
	if e.Path == "" {
		return loc + e.Msg
	}
	return loc + e.Path + ": " + e.Msg
}

// Errors is every problem found in one file, in file order. Parse returns
// all of them at once so that a user fixes a scene in one round.
type Errors []*Error

// Error joins the messages one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find the individual errors.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// sorted orders by position, keeping the order found for equal positions,
// and drops exact duplicates (an alias can make one node report twice).
func (es Errors) sorted() Errors {
	slices.SortStableFunc(es, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	return slices.CompactFunc(es, func(a, b *Error) bool { return *a == *b })
}
