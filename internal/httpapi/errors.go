package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/vigil-cctv/vigil/internal/auth"
	"github.com/vigil-cctv/vigil/internal/store"
)

// Stable error codes: clients switch on these, so they never change
// meaning; messages are for people and may.
const (
	codeBadRequest       = "bad_request"
	codeNotFound         = "not_found"
	codeConflict         = "conflict"
	codeInvalidScene     = "invalid_scene"
	codeInvalidProtocols = "invalid_protocols"
	codeMethodNotAllowed = "method_not_allowed"
	codeTooLarge         = "too_large"
	codeUnavailable      = "unavailable"
	codeInternal         = "internal"
	codeUnauthenticated  = "unauthenticated"
	codeForbidden        = "forbidden"
	codeTooManyRequests  = "too_many_requests"
)

// apiError is an error with its HTTP status and stable code.
type apiError struct {
	Status  int      `json:"-"`
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Details []string `json:"details,omitempty"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, codeBadRequest, format, args...)
}

func notFound(format string, args ...any) *apiError {
	return errorf(http.StatusNotFound, codeNotFound, format, args...)
}

func conflict(format string, args ...any) *apiError {
	return errorf(http.StatusConflict, codeConflict, format, args...)
}

func unavailable(format string, args ...any) *apiError {
	return errorf(http.StatusServiceUnavailable, codeUnavailable, format, args...)
}

func unauthenticated(format string, args ...any) *apiError {
	return errorf(http.StatusUnauthorized, codeUnauthenticated, format, args...)
}

func forbidden(format string, args ...any) *apiError {
	return errorf(http.StatusForbidden, codeForbidden, format, args...)
}

// fail writes err as a JSON error response. Errors that are not an
// apiError are mapped by kind; anything unexpected is logged and reported
// as a bare 500, since its text may describe internals.
func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	var input *auth.InputError
	var throttled *auth.ThrottledError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &input):
		ae = badRequest("%s", input.Error())
	case errors.As(err, &throttled):
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(throttled.Wait.Seconds()))))
		ae = errorf(http.StatusTooManyRequests, codeTooManyRequests, "%s", throttled.Error())
	case errors.Is(err, auth.ErrBadCredentials):
		ae = unauthenticated("%s", auth.ErrBadCredentials.Error())
	case isTooLarge(err):
		ae = errTooLarge()
	case errors.Is(err, store.ErrNotFound):
		ae = notFound("not found")
	case errors.Is(err, store.ErrConflict):
		ae = conflict("conflict")
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away; nobody will read the answer.
		ae = unavailable("request cancelled")
	default:
		a.log.Error("http request failed", "method", r.Method, "route", r.Pattern, "path", r.URL.Path, "err", err)
		ae = errorf(http.StatusInternalServerError, codeInternal, "internal error")
	}
	writeError(w, ae)
}

// errorBody is the JSON shape of every error response.
type errorBody struct {
	Error *apiError `json:"error"`
}

func writeError(w http.ResponseWriter, ae *apiError) {
	writeJSON(w, ae.Status, errorBody{Error: ae})
}

// writeJSON encodes v before writing anything, so an encoding failure can
// still become a clean 500 rather than a half-written body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":{"code":"internal","message":"cannot encode response"}}` + "\n")
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// levelFor picks the access-log level: server errors deserve attention,
// the rest is routine.
func levelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelWarn
	}
	return slog.LevelDebug
}

// requireMediaType checks the request's Content-Type against allowed
// types. Insisting on application/json for JSON bodies also makes browsers
// send a CORS preflight, so a foreign web page cannot post to the API.
func requireMediaType(r *http.Request, allowed ...string) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil {
		for _, a := range allowed {
			if mt == a {
				return nil
			}
		}
	}
	return errorf(http.StatusUnsupportedMediaType, codeBadRequest,
		"Content-Type must be %s, not %q", strings.Join(allowed, " or "), ct)
}

// decodeJSON reads one JSON object into v, rejecting unknown fields and
// trailing data, with messages that name what is wrong.
func decodeJSON(r *http.Request, v any) error {
	if err := requireMediaType(r, "application/json"); err != nil {
		return err
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if err := dec.Decode(&json.RawMessage{}); !errors.Is(err, io.EOF) {
		if isTooLarge(err) {
			return err
		}
		return badRequest("body must hold exactly one JSON object")
	}
	return nil
}

// jsonError explains a decoding error in the request's terms.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case isTooLarge(err):
		return err
	case errors.Is(err, io.EOF):
		return badRequest("request body is empty; expected a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("malformed JSON: body ends in the middle of a value")
	case errors.As(err, &syn):
		return badRequest("malformed JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badRequest("body must be a JSON object, not %s", typ.Value)
		}
		return badRequest("field %q must be %s, not %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
	}
	msg := err.Error()
	if i := strings.Index(msg, "unknown field "); i >= 0 {
		return badRequest("unknown field %s", msg[i+len("unknown field "):])
	}
	return badRequest("malformed JSON: %s", strings.TrimPrefix(msg, "json: "))
}

// jsonKind names a Go kind the way a JSON client thinks of it.
func jsonKind(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"), strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "true or false"
	case kind == "slice", kind == "array":
		return "an array"
	}
	return "an object"
}
