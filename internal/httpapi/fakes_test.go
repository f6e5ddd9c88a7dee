package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/auth"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

// fakeCameras records what the API asked of the camera manager.
type fakeCameras struct {
	mu       sync.Mutex
	applied  []store.Camera
	removed  []string
	statuses map[string]CameraStatus
	applyErr error
}

func (f *fakeCameras) Apply(_ context.Context, c store.Camera) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applied = append(f.applied, c)
	return f.applyErr
}

func (f *fakeCameras) Remove(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removed = append(f.removed, id)
	return nil
}

func (f *fakeCameras) Status(id string) (CameraStatus, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.statuses[id]
	return st, ok
}

func (f *fakeCameras) setStatus(st CameraStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.statuses == nil {
		f.statuses = map[string]CameraStatus{}
	}
	f.statuses[st.ID] = st
}

// fakeScenes records applied scenes.
type fakeScenes struct {
	mu      sync.Mutex
	applied map[string]*scene.Scene
}

func (f *fakeScenes) ApplyScene(_ context.Context, camera string, sc *scene.Scene, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.applied == nil {
		f.applied = map[string]*scene.Scene{}
	}
	f.applied[camera] = sc
	return nil
}

// fakeLive hands out one channel per subscriber and counts live ones.
type fakeLive struct {
	mu     sync.Mutex
	subs   map[chan []byte]bool
	active int
}

func (f *fakeLive) Subscribe(camera string) (<-chan []byte, func(), error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.subs == nil {
		f.subs = map[chan []byte]bool{}
	}
	ch := make(chan []byte, 8)
	f.subs[ch] = true
	f.active++
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			delete(f.subs, ch)
			f.active--
		})
	}, nil
}

func (f *fakeLive) send(frame []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		ch <- frame
	}
}

func (f *fakeLive) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.active
}

// fakeBroker is a Broker and Publisher with buffered subscribers.
type fakeBroker struct {
	mu        sync.Mutex
	subs      map[chan Message]bool
	published []Message
}

func (b *fakeBroker) Subscribe() (<-chan Message, func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs == nil {
		b.subs = map[chan Message]bool{}
	}
	ch := make(chan Message, 16)
	b.subs[ch] = true
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			delete(b.subs, ch)
		})
	}
}

func (b *fakeBroker) Publish(m Message) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.published = append(b.published, m)
	for ch := range b.subs {
		select {
		case ch <- m:
		default:
		}
	}
}

func (b *fakeBroker) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// syncBuffer is a log sink safe for concurrent handlers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// testParams make password hashing cheap in tests.
var testParams = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

const testPassword = "correct horse battery"

// testAuth is an account service with one logged-in user per role, each
// named after its role ("viewer", "operator", "supervisor", "admin").
type testAuth struct {
	svc      *auth.Service
	sessions map[auth.Role]string // session ids
}

func newTestAuth(t testing.TB, st auth.Store) *testAuth {
	t.Helper()
	ctx := context.Background()
	ta := &testAuth{svc: auth.New(st, auth.Options{Params: testParams}), sessions: map[auth.Role]string{}}
	sys := auth.Actor{Name: "system", Via: auth.ViaSystem, Addr: "local"}
	for _, role := range auth.Roles() {
		_, err := ta.svc.CreateUser(ctx, sys, auth.NewUser{Name: role.String(), Role: role, Password: testPassword})
		require.NoError(t, err)
		ta.sessions[role], _, err = ta.svc.Login(ctx, role.String(), testPassword, "192.0.2.1:1234", "test")
		require.NoError(t, err)
	}
	return ta
}

// fuzzAuth is one account service shared by the fuzz harnesses, which
// are built per input: opening SQLite each time would leave little time
// for fuzzing. TestMain closes it.
var fuzzAuth struct {
	once sync.Once
	st   *sqlite.Store
	ta   *testAuth
}

func sharedTestAuth(t testing.TB) *testAuth {
	fuzzAuth.once.Do(func() {
		st, err := sqlite.Open(context.Background(), ":memory:")
		require.NoError(t, err)
		fuzzAuth.st, fuzzAuth.ta = st, newTestAuth(t, st)
	})
	return fuzzAuth.ta
}

func closeSharedTestAuth() {
	if fuzzAuth.st != nil {
		fuzzAuth.st.Close()
	}
}

// harness is an API over a store and the fakes.
type harness struct {
	t       testing.TB
	h       http.Handler
	store   store.Store
	setNow  func(func() time.Time) // the store's clock for Created/Updated
	cams    *fakeCameras
	scenes  *fakeScenes
	live    *fakeLive
	broker  *fakeBroker
	verdict *fakeFeedback
	base    *fakeBaselines
	logs    *syncBuffer
	readyFn func() error
	auth    *testAuth
	// role is whose session do and doType send (default admin); a zero
	// role sends none.
	role auth.Role
}

// as is the harness sending requests as the user with role (auth.Public:
// not logged in).
func (hs *harness) as(role auth.Role) *harness {
	c := *hs
	c.role = role
	return &c
}

// newHarness serves the real SQLite store (in memory).
func newHarness(t testing.TB, opts Options) *harness {
	st, err := sqlite.Open(context.Background(), ":memory:")
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return newHarnessWith(t, st, func(now func() time.Time) { st.Now = now }, newTestAuth(t, st), opts)
}

// newFuzzHarness serves the in-memory fake store: a fuzz target builds a
// harness per input, and opening and migrating SQLite each time would
// leave little time for fuzzing.
func newFuzzHarness(t testing.TB, opts Options) *harness {
	ms := newMemStore()
	return newHarnessWith(t, ms, func(now func() time.Time) { ms.setNow(now) }, sharedTestAuth(t), opts)
}

func newHarnessWith(t testing.TB, st store.Store, setNow func(func() time.Time), ta *testAuth, opts Options) *harness {
	hs := &harness{t: t, store: st, setNow: setNow, cams: &fakeCameras{}, scenes: &fakeScenes{},
		live: &fakeLive{}, broker: &fakeBroker{}, logs: &syncBuffer{}, verdict: &fakeFeedback{st: st}, base: &fakeBaselines{},
		auth: ta, role: auth.Admin}
	hs.h = New(Deps{
		Store: hs.store, Cameras: hs.cams, Scenes: hs.scenes, Live: hs.live, Broker: hs.broker,
		Feedback: hs.verdict, Baselines: hs.base,
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "vigil_up 1\n") }),
		Ready:   func() error { return hs.ready() },
		Logger:  newTestLogger(hs.logs),
		Auth:    ta.svc,
	}, opts)
	return hs
}

// login adds the harness role's session cookie and CSRF header to req.
func (hs *harness) login(req *http.Request) *http.Request {
	if sid, ok := hs.auth.sessions[hs.role]; ok {
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: sid})
		req.Header.Set(CSRFHeader, auth.CSRFToken(sid))
	}
	return req
}

// serve sends req as the harness role.
func (hs *harness) serve(req *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	hs.h.ServeHTTP(w, hs.login(req))
	return w
}

func (hs *harness) ready() error {
	if hs.readyFn != nil {
		return hs.readyFn()
	}
	return nil
}

// do sends a request; a string body is sent as JSON.
func (hs *harness) do(method, path, body string) *httptest.ResponseRecorder {
	if body == "" {
		return hs.doType(method, path, body, "")
	}
	return hs.doType(method, path, body, "application/json")
}

func (hs *harness) doType(method, path, body, contentType string) *httptest.ResponseRecorder {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return hs.serve(req)
}

// decode unmarshals a JSON response, checking the status first.
func readJSON[T any](t testing.TB, w *httptest.ResponseRecorder, status int) T {
	t.Helper()
	require.Equal(t, status, w.Code, w.Body.String())
	var v T
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v), w.Body.String())
	return v
}

// errBody is an error response.
type errBody struct {
	Error struct {
		Code    string   `json:"code"`
		Message string   `json:"message"`
		Details []string `json:"details"`
	} `json:"error"`
}

// requireError checks status and code of an error response.
func requireError(t testing.TB, w *httptest.ResponseRecorder, status int, code string) errBody {
	t.Helper()
	e := readJSON[errBody](t, w, status)
	require.Equal(t, code, e.Error.Code, w.Body.String())
	require.NotEmpty(t, e.Error.Message)
	return e
}

func newTestLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
