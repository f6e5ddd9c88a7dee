package scene

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// allocated is the heap the call allocated, in bytes: a measure of its
// work that does not depend on the machine's speed.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

const bigHeader = "version: 1\ncamera: cam\nimage: {width: 2000, height: 2000}\n"

// polygonText is an n-vertex convex polygon (points on a circle).
func polygonText(n int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		a := 2 * math.Pi * float64(i) / float64(n)
		x, y := 1000+900*math.Cos(a), 1000+900*math.Sin(a)
		fmt.Fprintf(&b, "[%.3f, %.3f]", x, y)
	}
	b.WriteByte(']')
	return b.String()
}

func requireRefused(t *testing.T, err error, want string) {
	t.Helper()
	require.Error(t, err)
	var es Errors
	require.True(t, errors.As(err, &es), "a scene.Errors: %v", err)
	require.Contains(t, err.Error(), want)
}

// Issue 16 item 2: 50,000 nested '[' (100 KB) ran for more than 30 s and
// grew past 4 GB; it is now refused before the YAML parser sees it.
func TestParseRefusesDeepNesting(t *testing.T) {
	doc := bigHeader + "zones: " + strings.Repeat("[", 50000)
	var err error
	alloc := allocated(func() { _, err = Parse([]byte(doc), "deep.yaml") })
	requireRefused(t, err, "deep.yaml:4:")
	require.Contains(t, err.Error(), "lists and mappings nest more than 32 levels deep")
	require.Less(t, alloc, uint64(1<<20), "refused without building anything")

	deep := bigHeader + "zones: " + strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	_, err = Parse([]byte(deep), "deep.yaml")
	requireRefused(t, err, "nest more than 32 levels")
}

// Issue 16 item 3: 1,000 zones aliasing one 1,000-vertex polygon (65 KB)
// cost 7 s of CPU, every copy re-validated; now refused by counting what
// the aliases expand to, before any polygon is checked.
func TestParseRefusesAliasedPolygons(t *testing.T) {
	var b strings.Builder
	b.WriteString(bigHeader + "zones:\n  - {name: z0, type: custom, polygon: &poly " + polygonText(1000) + "}\n")
	for i := 1; i < 1000; i++ {
		fmt.Fprintf(&b, "  - {name: z%d, type: custom, polygon: *poly}\n", i)
	}
	var err error
	alloc := allocated(func() { _, err = Parse([]byte(b.String()), "alias.yaml") })
	requireRefused(t, err, "alias.yaml:6:39:")
	require.Contains(t, err.Error(), "anchor &poly is used 999 times")
	require.Less(t, alloc, uint64(64<<20), "refused before the zones are decoded")
}

// A few aliased copies are fine; past the vertex budget the rest of the
// polygons are refused unchecked, whether written out or aliased.
func TestParseBudgetsVerticesAcrossAliases(t *testing.T) {
	var b strings.Builder
	b.WriteString(bigHeader + "zones:\n  - {name: z0, type: custom, polygon: &poly " + polygonText(900) + "}\n")
	for i := 1; i < 3; i++ {
		fmt.Fprintf(&b, "  - {name: z%d, type: custom, polygon: *poly}\n", i)
	}
	sc, err := Parse([]byte(b.String()), "ok.yaml")
	require.NoError(t, err)
	require.Len(t, sc.Zones, 3)

	b.Reset()
	b.WriteString(bigHeader + "zones:\n")
	for i := range 12 {
		fmt.Fprintf(&b, "  - {name: z%d, type: custom, polygon: %s}\n", i, polygonText(900))
	}
	_, err = Parse([]byte(b.String()), "many.yaml")
	requireRefused(t, err, "many.yaml:")
	require.Contains(t, err.Error(), "zones[11].polygon: the scene's polygons have more than 10000 vertices in all")
	require.Equal(t, 1, strings.Count(err.Error(), "vertices in all"), "reported once")
}

func TestParseContextStopsAtDeadline(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(examples, "example.yaml"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	cancel()
	_, err = ParseContext(ctx, data, "example.yaml")
	requireRefused(t, err, "validation stopped here: the scene took longer to check than allowed")
	_, err = ParseContext(context.Background(), data, "example.yaml")
	require.NoError(t, err)
}

func TestParseRefusesOversizedFile(t *testing.T) {
	doc := bigHeader + "# " + strings.Repeat("x", MaxBytes) + "\n"
	_, err := Parse([]byte(doc), "big.yaml")
	requireRefused(t, err, "big.yaml:1:1: the document is")
}

// BenchmarkRefuseDeepNesting and BenchmarkRefuseAliasedPolygons time the
// refusals of issue 16's hostile scenes (they took > 30 s / 4 GB and 7 s).
// go test -run x -bench Refuse ./internal/scene/
func BenchmarkRefuseDeepNesting(b *testing.B) {
	doc := []byte(bigHeader + "zones: " + strings.Repeat("[", 50000))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(doc, "deep.yaml"); err == nil {
			b.Fatal("accepted")
		}
	}
}

func BenchmarkRefuseAliasedPolygons(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(bigHeader + "zones:\n  - {name: z0, type: custom, polygon: &poly " + polygonText(1000) + "}\n")
	for i := 1; i < 1000; i++ {
		fmt.Fprintf(&sb, "  - {name: z%d, type: custom, polygon: *poly}\n", i)
	}
	doc := []byte(sb.String())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(doc, "alias.yaml"); err == nil {
			b.Fatal("accepted")
		}
	}
}
