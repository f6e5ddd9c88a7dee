package yamlguard

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// moduleRoot walks up from the package directory to go.mod.
func moduleRoot(t testing.TB) string {
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, parent, dir, "go.mod not found")
		dir = parent
	}
}

func TestScanRefusesDeepFlowNesting(t *testing.T) {
	// The 100 KB scene: 50,000 nested '[' after a valid header.
	doc := "version: 1\ncamera: a\nzones: " + strings.Repeat("[", 50000)
	err := Scan([]byte(doc), Limits{MaxDepth: 32})
	require.Error(t, err)
	require.Contains(t, err.Error(), "nest more than 32 levels")
	var ye *Error
	require.ErrorAs(t, err, &ye)
	require.Equal(t, 3, ye.Line)
}

func TestScanRefusesDeepBlockNesting(t *testing.T) {
	var b strings.Builder
	for i := range 100 {
		fmt.Fprintf(&b, "%sk%d:\n", strings.Repeat(" ", i), i)
	}
	require.ErrorContains(t, Scan([]byte(b.String()), Limits{MaxDepth: 32}), "nest more than 32")
	compact := strings.Repeat("- ", 100) + "x\n"
	require.ErrorContains(t, Scan([]byte(compact), Limits{MaxDepth: 32}), "nest more than 32")
	mixed := "a:\n" + strings.Repeat("  - ", 20) + strings.Repeat("{b: ", 20) + "1" + strings.Repeat("}", 20) + "\n"
	require.ErrorContains(t, Scan([]byte(mixed), Limits{MaxDepth: 32}), "nest more than 32")
}

func TestScanIgnoresBracketsThatAreText(t *testing.T) {
	for _, doc := range []string{
		`name: "[[[[[[[[[[[[[[[["`,
		`name: '[[[[[[[[[[[[[[''[[['`,
		"name: a[[[[[[[[[[[[[[[[",
		"# [[[[[[[[[[[[[[[[[[[[[[\nname: x # [[[[[[[[[[[[[[[",
		"text: |\n  [[[[[[[[[[[[[[[[[[[\n  {{{{{{{{{{{{{{{{\nnext: 1",
		"text: >-\n  - - - - - - - - - - - - - -\n",
	} {
		require.NoError(t, Scan([]byte(doc), Limits{MaxDepth: 4}), doc)
	}
}

func TestScanLimitsSizeAndAliases(t *testing.T) {
	require.ErrorContains(t, Scan(make([]byte, 2000), Limits{MaxBytes: 1000}), "2000 bytes, more than the 1000")
	doc := "a: &p [1, 2]\nb: [" + strings.Repeat("*p, ", 11) + "*p]\n"
	require.ErrorContains(t, Scan([]byte(doc), Limits{MaxAliases: 10}), "more than 10 aliases")
	require.NoError(t, Scan([]byte(doc), Limits{MaxAliases: 12}))
}

// The project's own scene and config files nest at most a few levels, far
// below the bounds the parsers use.
func TestScanAcceptsRealFiles(t *testing.T) {
	root := moduleRoot(t)
	var files []string
	for _, pat := range []string{"scenes/*.yaml", "testdata/scenes/*.yaml", "configs/*.yaml"} {
		m, err := filepath.Glob(filepath.Join(root, pat))
		require.NoError(t, err)
		files = append(files, m...)
	}
	require.NotEmpty(t, files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, Scan(data, Limits{MaxDepth: 8}), f)
	}
}

// polygonAliases is the case: one 1,000-vertex polygon anchored
// and aliased by 1,000 zones.
func polygonAliases(zones, vertices int) string {
	var b strings.Builder
	b.WriteString("version: 1\ncamera: a\nimage: {width: 2000, height: 2000}\nshapes:\n  big: &poly [")
	for i := range vertices {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "[%d, %d]", i, i%7)
	}
	b.WriteString("]\nzones:\n")
	for i := range zones {
		fmt.Fprintf(&b, "  - {name: z%d, type: custom, polygon: *poly}\n", i)
	}
	return b.String()
}

func parse(t testing.TB, doc string) ast.Node {
	f, err := parser.ParseBytes([]byte(doc), 0)
	require.NoError(t, err)
	require.NotEmpty(t, f.Docs)
	return f.Docs[0]
}

func TestExpansionRefusesAliasBlowUp(t *testing.T) {
	root := parse(t, polygonAliases(1000, 1000))
	err := Expansion(root, 200_000)
	require.Error(t, err)
	require.Contains(t, err.Error(), "more than 200000 values once aliases are followed")
	require.Contains(t, err.Error(), "anchor &poly is used 1000 times")
	var ye *Error
	require.ErrorAs(t, err, &ye)
	require.Equal(t, 7, ye.Line, "points at the first alias")

	require.NoError(t, Expansion(parse(t, polygonAliases(3, 100)), 200_000))
}

func TestExpansionBillionLaughs(t *testing.T) {
	doc := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for i := range 9 {
		name := fmt.Sprintf("l%d", i)
		doc += fmt.Sprintf("%s: &%s [%s]\n", name, name, strings.TrimSuffix(strings.Repeat("*"+prev+", ", 10), ", "))
		prev = name
	}
	require.ErrorContains(t, Expansion(parse(t, doc), 1_000_000), "more than 1000000 values")
}

func TestExpansionSurvivesRecursiveAlias(t *testing.T) {
	f, err := parser.ParseBytes([]byte("a: &a [1, *a]\n"), 0)
	if err != nil {
		return // the parser refused it itself
	}
	require.NoError(t, Expansion(f.Docs[0], 100))
}

// collectionDepth is how deeply lists and mappings nest in a parsed tree.
func collectionDepth(n ast.Node) int {
	switch v := n.(type) {
	case *ast.DocumentNode:
		return collectionDepth(v.Body)
	case *ast.AnchorNode:
		return collectionDepth(v.Value)
	case *ast.TagNode:
		return collectionDepth(v.Value)
	case *ast.MappingValueNode:
		return max(collectionDepth(v.Key), collectionDepth(v.Value))
	case *ast.MappingKeyNode:
		return collectionDepth(v.Value)
	case *ast.MappingNode:
		d := 0
		for _, kv := range v.Values {
			d = max(d, collectionDepth(kv))
		}
		return d + 1
	case *ast.SequenceNode:
		d := 0
		for _, it := range v.Values {
			d = max(d, collectionDepth(it))
		}
		return d + 1
	}
	return 0
}

// tree generates nested lists, mappings and awkward strings.
func tree(depth int) *rapid.Generator[any] {
	return rapid.Custom(func(t *rapid.T) any {
		kind := 0
		if depth > 0 {
			kind = rapid.IntRange(0, 2).Draw(t, "kind")
		}
		switch kind {
		case 1:
			n := rapid.IntRange(1, 3).Draw(t, "len")
			out := make([]any, n)
			for i := range out {
				out[i] = tree(depth-1).Draw(t, "item")
			}
			return out
		case 2:
			n := rapid.IntRange(1, 3).Draw(t, "len")
			out := map[string]any{}
			for i := range n {
				out[fmt.Sprintf("k%d", i)] = tree(depth-1).Draw(t, "value")
			}
			return out
		}
		return rapid.StringOfN(rapid.RuneFrom([]rune("ab []{}'\"#:-|>&*!,?\\\n")), 0, 12, -1).Draw(t, "scalar")
	})
}

// Whatever the layout the encoder picks (block or flow, quoted strings
// full of brackets), the scan never reports less nesting than the parser
// builds, and never more than about twice as much.
func TestScanDepthBoundsParserDepth(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := tree(rapid.IntRange(1, 8).Draw(t, "depth")).Draw(t, "tree")
		var opts []yaml.EncodeOption
		if rapid.Bool().Draw(t, "flow") {
			opts = append(opts, yaml.Flow(true))
		}
		data, err := yaml.MarshalWithOptions(v, opts...)
		if err != nil {
			t.Skip("the encoder refused it")
		}
		f, err := parser.ParseBytes(data, 0)
		if err != nil || len(f.Docs) == 0 {
			t.Skip("the encoder's output does not parse")
		}
		depth := collectionDepth(f.Docs[0])
		if depth > 1 { // MaxDepth 0 means no limit
			require.Error(t, Scan(data, Limits{MaxDepth: depth - 1}), "scan undercounts:\n%s", data)
		}
		require.NoError(t, Scan(data, Limits{MaxDepth: 2*depth + 3}), "scan overcounts:\n%s", data)
	})
}

// Anything the scan lets through, the parser nests at most about twice as
// deep (the scan may count a list written at its key's indentation once).
func FuzzScan(f *testing.F) {
	for _, s := range []string{
		"a: [1, {b: c}]", "- - - x", "a:\n  b:\n    - [1]", "x: |\n  [[[\ny: 1", `a: "[[[[", b: '[['`,
		"a: &x [1]\nb: *x", "[[[[[[[[[[", "? [a]\n: b", "---\na: 1\n...\n---\nb: [2]",
	} {
		f.Add([]byte(s))
	}
	const maxDepth = 8
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			return
		}
		if Scan(data, Limits{MaxDepth: maxDepth}) != nil {
			return
		}
		file, err := parser.ParseBytes(data, 0)
		if err != nil {
			return
		}
		for _, d := range file.Docs {
			if got := collectionDepth(d); got > 2*maxDepth+2 {
				t.Fatalf("scan let through depth %d:\n%s", got, data)
			}
		}
	})
}
