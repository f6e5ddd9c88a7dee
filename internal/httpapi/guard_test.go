package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/auth"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/store"
)

// isStream marks routes whose handlers hold the connection open.
func isStream(path string) bool {
	return strings.HasSuffix(path, "/events") || strings.HasSuffix(path, "/live.mjpeg")
}

// concrete fills a route pattern's path parameters.
func concrete(path string) string {
	return strings.NewReplacer("{id}", "1", "{name}", "nobody").Replace(path)
}

// TestRoleMatrix sends every route of the table as every role: a role
// below the route's least role is refused with 403 before the handler
// runs; a role at or above it gets past authorisation.
func TestRoleMatrix(t *testing.T) {
	hs := newHarness(t, Options{})
	ctx := context.Background()
	for _, rt := range routeTable() {
		if isStream(rt.path) || rt.path == "/api/v1/login" { // login's own 401 is for the empty body
			continue
		}
		for _, role := range auth.Roles() {
			// A fresh session each time: logout and password changes end
			// the session they run in.
			sid, _, err := hs.auth.svc.Login(ctx, role.String(), testPassword, "192.0.2.9:1", "")
			require.NoError(t, err)
			req := httptest.NewRequest(rt.method, concrete(rt.path), strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/json")
			req.AddCookie(&http.Cookie{Name: SessionCookie, Value: sid})
			req.Header.Set(CSRFHeader, auth.CSRFToken(sid))
			w := httptest.NewRecorder()
			hs.h.ServeHTTP(w, req)
			what := fmt.Sprintf("%s %s as %s", rt.method, rt.path, role)
			if role < rt.role {
				e := requireError(t, w, http.StatusForbidden, codeForbidden)
				require.Contains(t, e.Error.Message, "needs the "+rt.role.String()+" role", what)
			} else {
				require.NotContains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, w.Code, "%s: %s", what, w.Body.String())
			}
		}
	}
}

// TestViewerChangesNothing: every state-changing route needs more than a
// viewer, except a viewer's own session and password.
func TestViewerChangesNothing(t *testing.T) {
	// The user's own session and password, and the suspect search: a
	// POST only because a query can be too long for a URL; it changes
	// nothing.
	own := []string{"POST /api/v1/logout", "POST /api/v1/me/password", "POST /api/v1/login", "POST /api/v1/search"}
	for _, rt := range routeTable() {
		if isSafeMethod(rt.method) || slices.Contains(own, rt.method+" "+rt.path) {
			continue
		}
		require.Greater(t, rt.role, auth.Viewer, "%s %s", rt.method, rt.path)
	}
}

// TestUnauthenticated: no login, no access, except the public routes.
func TestUnauthenticated(t *testing.T) {
	hs := newHarness(t, Options{}).as(auth.Public)
	for _, rt := range routeTable() {
		w := hs.doType(rt.method, concrete(rt.path), "{}", "application/json")
		if rt.role == auth.Public {
			if rt.path != "/api/v1/login" { // whose 401 is for the empty body
				require.NotEqual(t, http.StatusUnauthorized, w.Code, rt.path)
			}
			continue
		}
		requireError(t, w, http.StatusUnauthorized, codeUnauthenticated)
	}
	for _, bad := range []string{"", "x", strings.Repeat("A", 43), "%00", strings.Repeat("a", 5000)} {
		req := httptest.NewRequest("GET", "/api/v1/cameras", nil)
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: bad})
		requireError(t, hs.serve(req), http.StatusUnauthorized, codeUnauthenticated)
	}
}

func TestCSRF(t *testing.T) {
	hs := newHarness(t, Options{})
	sid := hs.auth.sessions[auth.Admin]
	post := func(mutate func(*http.Request)) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/api/v1/cameras", strings.NewReader(`{"id":"cam","url":"rtsp://h/"}`))
		req.Header.Set("Content-Type", "application/json")
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: sid})
		mutate(req)
		w := httptest.NewRecorder()
		hs.h.ServeHTTP(w, req)
		return w
	}
	e := requireError(t, post(func(*http.Request) {}), http.StatusForbidden, codeForbidden)
	require.Contains(t, e.Error.Message, CSRFHeader)
	other, _, err := hs.auth.svc.Login(context.Background(), "viewer", testPassword, "192.0.2.9:1", "")
	require.NoError(t, err)
	requireError(t, post(func(r *http.Request) { r.Header.Set(CSRFHeader, auth.CSRFToken(other)) }),
		http.StatusForbidden, codeForbidden) // another session's token
	e = requireError(t, post(func(r *http.Request) {
		r.Header.Set(CSRFHeader, auth.CSRFToken(sid))
		r.Header.Set("Sec-Fetch-Site", "cross-site")
	}), http.StatusForbidden, codeForbidden)
	require.Contains(t, e.Error.Message, "cross-origin")
	requireError(t, post(func(r *http.Request) {
		r.Header.Set(CSRFHeader, auth.CSRFToken(sid))
		r.Header.Set("Origin", "https://evil.example")
	}), http.StatusForbidden, codeForbidden)
	require.Equal(t, http.StatusCreated, post(func(r *http.Request) {
		r.Header.Set(CSRFHeader, auth.CSRFToken(sid))
		r.Header.Set("Sec-Fetch-Site", "same-origin")
	}).Code)

	// Cross-site login is refused too (login CSRF).
	req := httptest.NewRequest("POST", "/api/v1/login", strings.NewReader(`{"name":"admin","password":"`+testPassword+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	w := httptest.NewRecorder()
	hs.h.ServeHTTP(w, req)
	requireError(t, w, http.StatusForbidden, codeForbidden)
}

func TestSecurityHeaders(t *testing.T) {
	hs := newHarness(t, Options{})
	for _, path := range []string{"/api/v1/cameras", "/healthz", "/api/v1/nothing"} {
		w := hs.do("GET", path, "")
		require.Contains(t, w.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'", path)
		require.NotContains(t, w.Header().Get("Content-Security-Policy"), "unsafe-inline", path)
		require.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"), path)
		require.Equal(t, "no-referrer", w.Header().Get("Referrer-Policy"), path)
	}
}

// TestLoginLogout drives the session routes as the console does.
func TestLoginLogout(t *testing.T) {
	hs := newHarness(t, Options{}).as(auth.Public)
	w := hs.do("POST", "/api/v1/login", `{"name":"Operator","password":"`+testPassword+`"}`)
	me := readJSON[meView](t, w, http.StatusOK)
	require.Equal(t, "operator", me.User.Name)
	require.Equal(t, auth.Operator, me.Role)
	cookies := map[string]*http.Cookie{}
	for _, c := range w.Result().Cookies() {
		cookies[c.Name] = c
	}
	sess, csrf := cookies[SessionCookie], cookies[CSRFCookie]
	require.NotNil(t, sess)
	require.True(t, sess.HttpOnly && sess.Secure && sess.SameSite == http.SameSiteStrictMode, "%+v", sess)
	require.True(t, !csrf.HttpOnly && csrf.Secure && csrf.SameSite == http.SameSiteStrictMode, "%+v", csrf)
	require.Equal(t, me.CSRFToken, csrf.Value)
	require.Equal(t, int((12 * time.Hour).Seconds()), sess.MaxAge)

	send := func(method, path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, nil)
		req.AddCookie(sess)
		req.Header.Set(CSRFHeader, csrf.Value)
		return hs.serve(req)
	}
	require.Equal(t, "operator", readJSON[meView](t, send("GET", "/api/v1/me"), http.StatusOK).User.Name)
	require.Equal(t, http.StatusNoContent, send("POST", "/api/v1/logout").Code)
	requireError(t, send("GET", "/api/v1/me"), http.StatusUnauthorized, codeUnauthenticated)

	// Wrong password and unknown user: the same answer.
	e1 := requireError(t, hs.do("POST", "/api/v1/login", `{"name":"operator","password":"wrong password 1"}`), http.StatusUnauthorized, codeUnauthenticated)
	e2 := requireError(t, hs.do("POST", "/api/v1/login", `{"name":"nobody","password":"wrong password 1"}`), http.StatusUnauthorized, codeUnauthenticated)
	require.Equal(t, e1.Error.Message, e2.Error.Message)
	requireError(t, hs.do("POST", "/api/v1/login", `{"name":"operator"}`+"x"), http.StatusBadRequest, codeBadRequest)
}

// TestLoginThrottle runs the account service on an injected clock: after
// five wrong passwords the account is refused with 429 and Retry-After,
// even with the right password, until the lock ends.
func TestLoginThrottle(t *testing.T) {
	hs := newHarness(t, Options{}).as(auth.Public)
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	hs.auth.svc = auth.New(hs.store.(auth.Store), auth.Options{Params: testParams, Now: func() time.Time { return now }})
	hs.h = New(Deps{Store: hs.store, Auth: hs.auth.svc}, Options{})
	for range 5 {
		requireError(t, hs.do("POST", "/api/v1/login", `{"name":"admin","password":"not the password"}`), http.StatusUnauthorized, codeUnauthenticated)
	}
	w := hs.do("POST", "/api/v1/login", `{"name":"admin","password":"`+testPassword+`"}`)
	requireError(t, w, http.StatusTooManyRequests, codeTooManyRequests)
	require.Equal(t, "60", w.Header().Get("Retry-After"))
	now = now.Add(time.Minute)
	require.Equal(t, http.StatusOK, hs.do("POST", "/api/v1/login", `{"name":"admin","password":"`+testPassword+`"}`).Code)
}

func TestBearerToken(t *testing.T) {
	hs := newHarness(t, Options{})
	tv := readJSON[tokenView](t, hs.do("POST", "/api/v1/tokens", `{"user":"operator","name":"nvr","role":"operator","expires_in":"720h"}`), http.StatusCreated)
	require.True(t, strings.HasPrefix(tv.Secret, "vgt_"))
	seedAlerts(t, hs, 1)
	bearer := func(method, path, body, token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		hs.h.ServeHTTP(w, req)
		return w
	}
	a := readJSON[alertView](t, bearer("POST", "/api/v1/alerts/1/transition", `{"to":"acknowledged"}`, tv.Secret), http.StatusOK)
	require.Equal(t, "operator", a.History[0].By, "no CSRF token needed: a token is not sent by browsers on their own")
	requireError(t, bearer("POST", "/api/v1/cameras", `{"id":"c","url":"rtsp://h/"}`, tv.Secret), http.StatusForbidden, codeForbidden)
	requireError(t, bearer("GET", "/api/v1/cameras", "", tv.Secret+"x"), http.StatusUnauthorized, codeUnauthenticated)

	list := readJSON[struct{ Tokens []auth.Token }](t, hs.do("GET", "/api/v1/tokens", ""), http.StatusOK)
	require.Len(t, list.Tokens, 1)
	require.NotContains(t, hs.do("GET", "/api/v1/tokens", "").Body.String(), tv.Secret[21:], "secrets are shown once")
	readJSON[auth.Token](t, hs.do("DELETE", "/api/v1/tokens/"+tv.ID, ""), http.StatusOK)
	requireError(t, bearer("GET", "/api/v1/cameras", "", tv.Secret), http.StatusUnauthorized, codeUnauthenticated)
}

// TestWhoAndAudit: each change through the API lands in the audit log
// under the logged-in user, with before and after.
func TestWhoAndAudit(t *testing.T) {
	hs := newHarness(t, Options{})
	readJSON[cameraView](t, hs.do("POST", "/api/v1/cameras", `{"id":"gate","url":"rtsp://u:s3cret@h/"}`), http.StatusCreated)
	readJSON[cameraView](t, hs.do("PUT", "/api/v1/cameras/gate", `{"name":"Gate 2"}`), http.StatusOK)
	require.Equal(t, http.StatusOK, hs.as(auth.Supervisor).doType("PUT", "/api/v1/cameras/gate/scene", validScene, "application/yaml").Code)
	_, err := hs.store.AddAlert(context.Background(), event.Event{Rule: "intrusion", Camera: "gate", Class: "person"})
	require.NoError(t, err)
	readJSON[alertView](t, hs.as(auth.Operator).do("POST", "/api/v1/alerts/1/transition", `{"to":"false_alarm","note":"a cat"}`), http.StatusOK)
	readJSON[auth.User](t, hs.do("POST", "/api/v1/users", `{"name":"ana","role":"operator","password":"`+testPassword+`"}`), http.StatusCreated)
	readJSON[auth.User](t, hs.do("PATCH", "/api/v1/users/ana", `{"role":"supervisor"}`), http.StatusOK)
	require.Equal(t, http.StatusNoContent, hs.do("DELETE", "/api/v1/cameras/gate", "").Code)

	page := readJSON[struct{ Entries []auth.AuditEntry }](t, hs.as(auth.Supervisor).do("GET", "/api/v1/audit?limit=500", ""), http.StatusOK)
	byAction := map[string]auth.AuditEntry{}
	for _, e := range page.Entries {
		if _, seen := byAction[e.Action]; !seen {
			byAction[e.Action] = e
		}
	}
	for action, who := range map[string]string{"camera.create": "admin", "camera.update": "admin", "scene.save": "supervisor",
		"alert.transition": "operator", "user.create": "admin", "user.update": "admin", "camera.delete": "admin"} {
		e, ok := byAction[action]
		require.True(t, ok, action)
		require.Equal(t, who, e.Actor, action)
		require.Equal(t, "192.0.2.1:1234", e.Addr, action)
	}
	tr := byAction["alert.transition"]
	require.Equal(t, "alert/1", tr.Object)
	require.JSONEq(t, `{"state":"new","camera":"gate"}`, string(tr.Before))
	require.JSONEq(t, `{"state":"false_alarm","camera":"gate","note":"a cat"}`, string(tr.After))
	require.Contains(t, string(byAction["camera.update"].After), `"name":"Gate 2"`)
	require.Contains(t, string(byAction["user.update"].Before), `"role":"operator"`)
	require.Contains(t, string(byAction["user.update"].After), `"role":"supervisor"`)
	require.NotContains(t, hs.do("GET", "/api/v1/audit?limit=500", "").Body.String(), "s3cret", "no camera password in the log")
	require.Equal(t, "operator", hs.verdict.lastBy(), "verdict feedback gets the session's user")

	filtered := readJSON[struct{ Entries []auth.AuditEntry }](t, hs.do("GET", "/api/v1/audit?action=camera.*&actor=admin", ""), http.StatusOK)
	require.Len(t, filtered.Entries, 3)
	requireError(t, hs.as(auth.Operator).do("GET", "/api/v1/audit", ""), http.StatusForbidden, codeForbidden)
	requireError(t, hs.do("GET", "/api/v1/audit?who=x", ""), http.StatusBadRequest, codeBadRequest)
}

// TestCameraGroupScope: a user limited to a group sees and acts on its
// cameras only; the rest is 404 and left out of lists and the stream.
func TestCameraGroupScope(t *testing.T) {
	hs := newHarness(t, Options{})
	for _, id := range []string{"north1", "south1"} {
		readJSON[cameraView](t, hs.do("POST", "/api/v1/cameras", `{"id":"`+id+`","url":"rtsp://h/`+id+`"}`), http.StatusCreated)
		_, err := hs.store.AddAlert(context.Background(), event.Event{Rule: "intrusion", Camera: id, Class: "person"})
		require.NoError(t, err)
	}
	readJSON[auth.CameraGroup](t, hs.do("PUT", "/api/v1/groups/north", `{"cameras":["north1"]}`), http.StatusOK)
	readJSON[auth.CameraGroup](t, hs.do("PUT", "/api/v1/groups/south", `{"cameras":["south1"]}`), http.StatusOK)
	readJSON[auth.User](t, hs.do("POST", "/api/v1/users", `{"name":"nora","role":"operator","groups":["north"],"password":"`+testPassword+`"}`), http.StatusCreated)
	sid, _, err := hs.auth.svc.Login(context.Background(), "nora", testPassword, "192.0.2.5:1", "")
	require.NoError(t, err)
	hs.auth.sessions[auth.Role(99)] = sid
	nora := hs.as(auth.Role(99))

	cams := readJSON[struct{ Cameras []cameraView }](t, nora.do("GET", "/api/v1/cameras", ""), http.StatusOK)
	require.Len(t, cams.Cameras, 1)
	require.Equal(t, "north1", cams.Cameras[0].ID)
	alerts := readJSON[alertPage](t, nora.do("GET", "/api/v1/alerts", ""), http.StatusOK)
	require.Len(t, alerts.Alerts, 1)
	require.Equal(t, "north1", alerts.Alerts[0].Event.Camera)
	require.Empty(t, readJSON[alertPage](t, nora.do("GET", "/api/v1/alerts?camera=south1", ""), http.StatusOK).Alerts)
	for _, path := range []string{"/api/v1/cameras/south1", "/api/v1/cameras/south1/status", "/api/v1/cameras/south1/scene",
		"/api/v1/cameras/south1/snapshot.jpg", "/api/v1/alerts/2", "/api/v1/alerts/2/snapshot", "/api/v1/cameras/south1/baseline"} {
		requireError(t, nora.do("GET", path, ""), http.StatusNotFound, codeNotFound)
	}
	requireError(t, nora.do("POST", "/api/v1/alerts/2/transition", `{"to":"acknowledged"}`), http.StatusNotFound, codeNotFound)
	readJSON[alertView](t, nora.do("POST", "/api/v1/alerts/1/transition", `{"to":"acknowledged"}`), http.StatusOK)
	stats := readJSON[statsView](t, nora.do("GET", "/api/v1/stats", ""), http.StatusOK)
	require.Equal(t, map[string]int{"north1": 1}, stats.ByCamera)
	groups := readJSON[struct{ Groups []auth.CameraGroup }](t, nora.do("GET", "/api/v1/groups", ""), http.StatusOK)
	require.Len(t, groups.Groups, 1)

	p, err := hs.auth.svc.Session(context.Background(), sid)
	require.NoError(t, err)
	require.True(t, mayReceive(p, Message{Type: MessageAlert, Data: store.Alert{Event: event.Event{Camera: "north1"}}}))
	require.False(t, mayReceive(p, Message{Type: MessageAlert, Data: store.Alert{Event: event.Event{Camera: "south1"}}}))
	require.False(t, mayReceive(p, Message{Type: MessageCameraState, Data: map[string]any{"camera": "south1"}}))
	require.False(t, mayReceive(p, Message{Type: "other", Data: 42}), "unknown camera: not for limited users")
	require.True(t, mayReceive(p, Message{Type: "other", Data: 42, Camera: "north1"}))
}

func TestAuthDisabledIsLoopbackOnly(t *testing.T) {
	h := New(Deps{Store: newMemStore()}, Options{AuthDisabled: true})
	for remote, want := range map[string]int{"127.0.0.1:5000": http.StatusOK, "[::1]:5000": http.StatusOK, "192.0.2.7:5000": http.StatusUnauthorized} {
		req := httptest.NewRequest("GET", "/api/v1/me", nil)
		req.RemoteAddr = remote
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		require.Equal(t, want, w.Code, remote)
		if want == http.StatusOK {
			var me meView
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &me))
			require.Equal(t, "local", me.User.Name)
		}
	}
}

func TestTrustedProxyHeader(t *testing.T) {
	hs := newHarness(t, Options{})
	hs.h = New(Deps{Store: hs.store, Auth: hs.auth.svc}, Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16")},
		ProxyUserHeader: "X-Remote-User"})
	send := func(remote, user string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/api/v1/me", nil)
		req.RemoteAddr = remote
		req.Header.Set("X-Remote-User", user)
		req.Header.Set("X-Forwarded-For", "198.51.100.4, 10.9.0.2")
		w := httptest.NewRecorder()
		hs.h.ServeHTTP(w, req)
		return w
	}
	me := readJSON[meView](t, send("10.9.0.1:4000", "supervisor"), http.StatusOK)
	require.Equal(t, "supervisor", me.User.Name)
	require.Equal(t, auth.ViaProxy, me.Via)
	requireError(t, send("192.0.2.1:4000", "supervisor"), http.StatusUnauthorized, codeUnauthenticated)
	requireError(t, send("10.9.0.1:4000", "mallory"), http.StatusUnauthorized, codeUnauthenticated)

	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "10.9.0.1:4000"
	req.Header.Set("X-Forwarded-For", "198.51.100.4, 10.9.0.2")
	require.Equal(t, "198.51.100.4", (&api{opts: Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16")}}}).clientAddr(req))
}

func TestSeparateMonitor(t *testing.T) {
	hs := newHarness(t, Options{SeparateMonitor: true})
	requireError(t, hs.do("GET", "/metrics", ""), http.StatusNotFound, codeNotFound)
	mon := NewMonitor(Deps{Store: hs.store, Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})}, Options{SeparateMonitor: true})
	for path, want := range map[string]int{"/metrics": 200, "/healthz": 200, "/readyz": 200, "/api/v1/cameras": 404} {
		w := httptest.NewRecorder()
		mon.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		require.Equal(t, want, w.Code, path)
	}
}

// FuzzLoginBody: no login body makes the server fail or log anyone in
// without the password.
func FuzzLoginBody(f *testing.F) {
	for _, s := range []string{`{"name":"admin","password":"` + testPassword + `"}`, `{"name":"admin"}`, `{"name":1}`,
		`{"name":"admin","password":"x","extra":1}`, `{`, `null`, `{"name":"` + strings.Repeat("a", 300) + `","password":""}`} {
		f.Add([]byte(s))
	}
	hs := newFuzzHarness(f, Options{}).as(auth.Public)
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > 4096 {
			return
		}
		w := hs.doType("POST", "/api/v1/login", string(body), "application/json")
		checkResponse(t, w)
		if w.Code == http.StatusOK && !strings.Contains(string(body), testPassword) {
			t.Fatalf("logged in without the password: %q", body)
		}
	})
}

// FuzzSessionCookie: an arbitrary Cookie header never authenticates and
// never fails the server.
func FuzzSessionCookie(f *testing.F) {
	f.Add("vigil_session=" + strings.Repeat("A", 43))
	f.Add("vigil_session=; vigil_session=x")
	f.Add(`vigil_session="quoted"; other=1`)
	hs := newFuzzHarness(f, Options{})
	f.Fuzz(func(t *testing.T, cookie string) {
		if len(cookie) > 4096 {
			return
		}
		req := httptest.NewRequest("GET", "/api/v1/me", nil)
		req.Header.Set("Cookie", cookie)
		w := httptest.NewRecorder()
		hs.h.ServeHTTP(w, req)
		checkResponse(t, w)
		if w.Code == http.StatusOK {
			t.Fatalf("cookie %q authenticated", cookie)
		}
	})
}
