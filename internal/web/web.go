// Package web is the operator console served at "/": live camera views and
// the alert queue, talking only to the public HTTP API (no server-side
// rendering), embedded in the binary so one file runs a site.
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// Handler serves the console's static files.
func Handler() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return http.FileServer(http.FS(sub))
}
