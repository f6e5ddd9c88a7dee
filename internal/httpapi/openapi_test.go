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

// TestOpenAPIDeclaresPathParameters checks each {param} of a path is
// declared, at path or operation level.
func TestOpenAPIDeclaresPathParameters(t *testing.T) {
	var raw struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	require.NoError(t, yaml.Unmarshal(openAPIDoc, &raw))
	param := regexp.MustCompile(`\{(\w+)\}`)
	for path, item := range raw.Paths {
		if !param.MatchString(path) {
			continue
		}
		_, ok := item["parameters"]
		require.True(t, ok, "%s declares its path parameters", path)
	}
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
