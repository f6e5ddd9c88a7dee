package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"time"
)

// statusWriter remembers the status sent, for the access log and so that
// panic recovery knows whether an error response can still be written.
type statusWriter struct {
	http.ResponseWriter
	code  int
	bytes int64
}

func (s *statusWriter) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and SetWriteDeadline of
// the underlying writer, which the streaming routes need.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// recoverPanics turns a handler panic into a logged 500 internal error, so
// one bad request cannot take down a process that serves every camera.
func (a *api) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw, ok := w.(*statusWriter)
		if !ok {
			sw = &statusWriter{ResponseWriter: w}
		}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler { //nolint:errorlint // sentinel compared as net/http does
				panic(v)
			}
			a.log.Error("http handler panic", "method", r.Method, "route", r.Pattern,
				"path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if sw.code != 0 {
				// Part of a response is out: abort the connection rather
				// than let the client take a truncated body for a whole one.
				panic(http.ErrAbortHandler)
			}
			writeError(sw, errorf(http.StatusInternalServerError, codeInternal, "internal error"))
		}()
		next.ServeHTTP(sw, r)
	})
}

// accessLog logs one line per request at debug level (server errors at
// warn). It logs the path but never a body or query: neither may hold a
// secret today, but a log is the wrong place to find out.
func (a *api) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		level := levelFor(sw.code)
		a.log.Log(r.Context(), level, "http request", "method", r.Method, "path", r.URL.Path,
			"route", r.Pattern, "status", sw.code, "bytes", sw.bytes, "duration", time.Since(start))
	})
}

// limitBody caps every request body at maxBody; reading past it fails
// with *http.MaxBytesError, which fail maps to 413 too_large.
func (a *api) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxBody {
			a.fail(w, r, errTooLarge())
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		next.ServeHTTP(w, r)
	})
}

func errTooLarge() *apiError {
	return errorf(http.StatusRequestEntityTooLarge, codeTooLarge, "request body exceeds %d bytes", maxBody)
}

// isTooLarge reports whether err came from reading past maxBody.
func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}
