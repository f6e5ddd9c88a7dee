// Package web is the operator console served at "/": the login page, the
// camera wall, the incident queue, the incident and alert views, the
// scene editor, the dashboard and the administration pages (audit log,
// alert protocols, dead letters, users, tokens, groups). It is plain ES modules talking
// only to the public HTTP API (no server-side rendering, no build step,
// nothing from a CDN), embedded in the binary so one file runs a site.
// Every response carries the security headers, including a CSP that
// allows no inline script; user-controlled text is only ever set as text.
package web

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/vigil-cctv/vigil/internal/auth"
)

//go:embed static
var static embed.FS

// Handler serves the console's static files.
func Handler() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServer(http.FS(sub))
	return auth.SecurityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The console changes with the binary; revalidate rather than
		// run yesterday's script against today's API.
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	}))
}
