package httpapi

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/require"
)

// openAPIDocument is the part of the document the tests read.
type openAPIDocument struct {
	OpenAPI string                    `yaml:"openapi"`
	Paths   map[string]map[string]any `yaml:"paths"`
}

var httpMethods = []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}

// TestOpenAPIMatchesRoutes holds the document to the route table: every
// registered route is documented, and nothing else is.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc openAPIDocument
	require.NoError(t, yaml.Unmarshal(openAPIDoc, &doc))
	require.True(t, strings.HasPrefix(doc.OpenAPI, "3."))
	var documented, registered []string
	for path, item := range doc.Paths {
		for key, v := range item {
			if !slices.Contains(httpMethods, key) {
				continue // path-level parameters
			}
			op, ok := v.(map[string]any)
			require.True(t, ok, key+" "+path)
			documented = append(documented, strings.ToUpper(key)+" "+path)
			require.NotEmpty(t, op["operationId"], key+" "+path)
			require.NotEmpty(t, op["responses"], key+" "+path)
		}
	}
	for _, rt := range routeTable() {
		registered = append(registered, rt.method+" "+rt.path)
	}
	slices.Sort(documented)
	slices.Sort(registered)
	require.Equal(t, registered, documented)
}

// TestOpenAPIDeclaresPathParameters checks that every operation of a path
// with {name} segments declares each of them, at path or operation level
// (a $ref into components/parameters counts), as a required path parameter,
// and declares no path parameter the template lacks.
func TestOpenAPIDeclaresPathParameters(t *testing.T) {
	var raw struct {
		Paths      map[string]map[string]any `yaml:"paths"`
		Components struct {
			Parameters map[string]any `yaml:"parameters"`
		} `yaml:"components"`
	}
	require.NoError(t, yaml.Unmarshal(openAPIDoc, &raw))
	placeholder := regexp.MustCompile(`\{(\w+)\}`)
	for path, item := range raw.Paths {
		var want []string
		for _, m := range placeholder.FindAllStringSubmatch(path, -1) {
			want = append(want, m[1])
		}
		slices.Sort(want)
		shared := pathParams(t, raw.Components.Parameters, item["parameters"], path)
		for key, v := range item {
			if !slices.Contains(httpMethods, key) {
				continue
			}
			op, _ := v.(map[string]any)
			got := slices.Concat(shared, pathParams(t, raw.Components.Parameters, op["parameters"], key+" "+path))
			slices.Sort(got)
			require.Equal(t, want, slices.Compact(got), "%s %s: declared path parameters", key, path)
		}
	}
}

// pathParams returns the names of the path parameters in an OpenAPI
// parameter list, resolving references to components/parameters, and fails
// on a path parameter that is not required.
func pathParams(t *testing.T, components map[string]any, list any, where string) []string {
	t.Helper()
	items, _ := list.([]any)
	var names []string
	for _, it := range items {
		p, ok := it.(map[string]any)
		require.True(t, ok, "%s: parameter %v is not an object", where, it)
		if ref, ok := p["$ref"].(string); ok {
			name, found := strings.CutPrefix(ref, "#/components/parameters/")
			require.True(t, found, "%s: unsupported $ref %q", where, ref)
			p, ok = components[name].(map[string]any)
			require.True(t, ok, "%s: $ref %q resolves to nothing", where, ref)
		}
		if p["in"] != "path" {
			continue
		}
		require.Equal(t, true, p["required"], "%s: path parameter %v must be required", where, p["name"])
		names = append(names, p["name"].(string))
	}
	return names
}

// TestRoutesAreRegistered checks that every route in the table reaches a
// handler: none answers with the mux's own 404 or 405.
func TestRoutesAreRegistered(t *testing.T) {
	hs := newHarness(t, Options{})
	for _, rt := range routeTable() {
		if strings.HasSuffix(rt.path, "/events") || strings.HasSuffix(rt.path, "/live.mjpeg") {
			continue // streams: covered by their own tests
		}
		path := strings.ReplaceAll(rt.path, "{id}", "1")
		w := hs.doType(rt.method, path, "{}", "application/json")
		require.NotEqual(t, http.StatusMethodNotAllowed, w.Code, rt.method+" "+path)
		if w.Code == http.StatusNotFound {
			require.NotContains(t, w.Body.String(), "no route", rt.method+" "+path)
		}
	}
}
