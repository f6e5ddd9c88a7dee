package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/auth"
	"github.com/vigil-cctv/vigil/internal/cluster"
	"github.com/vigil-cctv/vigil/internal/deliver"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/httpapi"
	"github.com/vigil-cctv/vigil/internal/incident"
	"github.com/vigil-cctv/vigil/internal/live"
	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
	"github.com/vigil-cctv/vigil/internal/web"
)

// hostile is a name that would run script if it were ever put into the
// page as HTML.
const hostile = `<img src=x onerror="window.__xss=1">`

const password = "correct horse battery"

var fast = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// clock is the account service's clock, moved by the test to end a
// login lock without waiting.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// cameras is the camera manager of the test: two cameras, one streaming,
// one stalled with a reason.
type cameras struct{}

func (cameras) Apply(context.Context, store.Camera) error { return nil }
func (cameras) Remove(context.Context, string) error      { return nil }
func (cameras) Status(id string) (httpapi.CameraStatus, bool) {
	if id == "gate" {
		return httpapi.CameraStatus{ID: id, State: httpapi.CameraStalled, Reason: "no frame for 12 s"}, true
	}
	return httpapi.CameraStatus{ID: id, State: httpapi.CameraStreaming}, true
}

// Capacity reports a box whose two cameras ask for more than it
// sustains: the dashboard must say so.
func (cameras) Capacity(context.Context) httpapi.CapacityReport {
	return httpapi.CapacityReport{Measured: true, CapacityFPS: 7.5, UsedFPS: 10, HeadroomFPS: -2.5, Headroom: 0.2, Cameras: 2,
		FullMS: 85, RegionMS: 30, Lanes: 2, Mix: httpapi.CapacityMix{Full: 1}, MixFrom: "worst case"}
}

func (cameras) Admit(context.Context, store.Camera) (bool, string) {
	return false, "over capacity: 10.0 analysed fps in use, 5.0 asked, this box sustains 7.5"
}

// clusterView is a cluster of two nodes: the api node coordinates, the
// worker runs "gate", and "plaza" is on no node (its worker died).
type clusterView struct{}

func (clusterView) Status(context.Context) (cluster.Status, error) {
	now := time.Now()
	return cluster.Status{Coordinator: "api-1",
		Nodes: []cluster.NodeStatus{
			{NodeInfo: cluster.NodeInfo{Node: "api-1", Roles: []string{"api", "coordinator"}, Started: now.Add(-time.Hour), Beat: now}},
			{NodeInfo: cluster.NodeInfo{Node: "w1", Roles: []string{"worker"}, CapacityFPS: 35, Cameras: 1, Started: now.Add(-time.Hour), Beat: now}, Assigned: 1, AssignedFPS: 5},
		},
		Cameras:   map[string]string{"gate": "w1", "plaza": ""},
		Consumers: map[string]cluster.ConsumerLag{"VIGIL_EVENTS": {Stream: "VIGIL_EVENTS", Messages: 12, Pending: 3, AckPending: 1}},
	}, nil
}

// frames serves a generated picture as every camera's snapshot and live
// frame.
type frames struct{ jpg []byte }

func newFrames(t *testing.T) *frames {
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for y := range 480 {
		for x := range 640 {
			img.Set(x, y, color.RGBA{uint8(x / 3), uint8(y / 2), 90, 255})
		}
	}
	var b bytes.Buffer
	require.NoError(t, jpeg.Encode(&b, img, nil))
	return &frames{jpg: b.Bytes()}
}

func (f *frames) Snapshot(context.Context, string, int) ([]byte, time.Time, error) {
	return f.jpg, time.Now(), nil
}

func (f *frames) Subscribe(string) (<-chan []byte, func(), error) {
	ch := make(chan []byte, 1)
	ch <- f.jpg
	var once sync.Once
	return ch, func() { once.Do(func() { close(ch) }) }, nil
}

// scenes records applied scenes; previews raise one alert per zone.
type scenes struct{}

func (scenes) ApplyScene(context.Context, string, *scene.Scene, string) error { return nil }
func (scenes) PreviewScene(_ context.Context, camera string, sc *scene.Scene, _, _ time.Time) ([]event.Event, error) {
	var out []event.Event
	for _, z := range sc.Zones {
		out = append(out, event.Event{Rule: "intrusion", Camera: camera, Zone: z.Name, Explanation: "person in " + z.Name})
	}
	return out, nil
}

type console struct {
	url    string
	media  string // alert snapshots and clips
	st     *sqlite.Store
	eng    *incident.Engine
	broker *live.Broker[httpapi.Message]
	clock  *clock
	shots  string
}

// newConsole serves the real console and API over a real SQLite store
// and the real incident engine (default protocols), with users of every
// role, two cameras (one named like an attack), two incidents from
// hostile-named events and one dead letter.
func newConsole(t *testing.T) *console {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "vigil.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	c := &console{st: st, broker: live.NewBroker[httpapi.Message](0), clock: &clock{t: time.Now().UTC()}}
	accounts := auth.New(st, auth.Options{Params: fast, Now: c.clock.now})
	sys := auth.Actor{Name: "setup", Via: auth.ViaSystem, Addr: "local"}
	for name, role := range map[string]auth.Role{"vera": auth.Viewer, "otto": auth.Operator, "sue": auth.Supervisor, "ada": auth.Admin} {
		_, err := accounts.CreateUser(ctx, sys, auth.NewUser{Name: name, Role: role, Password: password, DisplayName: name + " " + hostile})
		require.NoError(t, err)
	}
	require.NoError(t, st.PutCamera(ctx, store.Camera{ID: "plaza", Name: hostile, URL: "/x.avi", Kind: "file", Enabled: true}))
	require.NoError(t, st.PutCamera(ctx, store.Camera{ID: "gate", Name: "North gate", URL: "/y.avi", Kind: "file", Enabled: true}))
	_, err = st.SaveScene(ctx, "gate", "version: 1\ncamera: gate\nimage: {width: 640, height: 480}\n", "setup")
	require.NoError(t, err)
	c.eng = incident.NewEngine(st, nil, "", incident.Options{OnChange: func(in incident.Incident) {
		c.broker.Publish(httpapi.Message{Type: httpapi.MessageIncident, Data: httpapi.ViewIncident(in), Camera: in.Camera})
	}})
	// Two situations (rule and track differ), so two incidents: 1 medium,
	// 2 high.
	for i, r := range []struct {
		rule string
		sev  event.Severity
	}{{"intrusion", event.Medium}, {"loitering", event.High}} {
		c.handle(t, event.Event{Rule: r.rule, Name: hostile, Camera: "plaza", Zone: hostile, Class: "person", Tracks: []int{i + 1},
			Start: float64(i), End: float64(i + 2), Severity: r.sev, Explanation: "person in " + hostile + " for 4.2 s",
			Values: map[string]float64{"dwell_s": 4.2}})
	}
	deadLetter(t, st, c.clock.now())
	f := newFrames(t)
	c.media = t.TempDir()
	api := httpapi.New(httpapi.Deps{Store: st, Cameras: cameras{}, Scenes: scenes{}, Live: f, Broker: c.broker,
		Auth: accounts, Snapshots: f, Previewer: scenes{}, Incidents: c.eng, Outbox: st, Cluster: clusterView{}}, httpapi.Options{Now: c.clock.now, MediaDir: c.media})
	mux := http.NewServeMux()
	mux.Handle("/api/", api)
	mux.Handle("/", web.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() }) // the browser may still hold the event stream
	c.url = srv.URL
	c.shots = filepath.Join("..", "..", "out", "console-screenshots")
	require.NoError(t, os.MkdirAll(c.shots, 0o755))
	return c
}

// handle runs an event through the incident engine, as the service does
// for each rule firing, and returns the incident it opened or joined.
func (c *console) handle(t *testing.T, ev event.Event) int64 {
	t.Helper()
	res, err := c.eng.Handle(context.Background(), ev, c.clock.now())
	require.NoError(t, err)
	require.NotNil(t, res.Incident, "the default protocols queue %s", ev.Rule)
	return res.Incident.ID
}

// evidence writes an event's snapshot (the generated frame) and, when
// ffmpeg is installed, a one-second H.264 clip beside it, as the
// recorder names them; it returns the snapshot's path and whether a clip
// was made.
func (c *console) evidence(t *testing.T, f *frames, name string) (string, bool) {
	t.Helper()
	snap := filepath.Join(c.media, name+".jpg")
	require.NoError(t, os.WriteFile(snap, f.jpg, 0o644))
	ff, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Log("ffmpeg not installed: the incident view is tested without a clip")
		return snap, false
	}
	out, err := exec.Command(ff, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=5", "-t", "1",
		"-pix_fmt", "yuv420p", "-c:v", "libx264", "-movflags", "+faststart", filepath.Join(c.media, name+".mp4")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	return snap, true
}

// deadLetter puts one message in the outbox and gives up on it, as the
// delivery worker does after its last attempt.
func deadLetter(t *testing.T, st *sqlite.Store, now time.Time) {
	ctx := context.Background()
	require.NoError(t, st.Enqueue(ctx, []deliver.Message{{ID: "incident-1-opened", Destination: "city-webhook", Camera: "plaza",
		Kind: "incident", Subject: "intrusion", Payload: []byte(`{}`), Created: now, NextAt: now}}))
	due, err := st.Due(ctx, now, 10)
	require.NoError(t, err)
	require.Len(t, due, 1)
	require.NoError(t, st.MarkFailed(ctx, due[0].Seq, 8, now, "502 Bad Gateway from the receiver", true, now))
}

// browser starts headless Chromium with a fresh profile and collects
// every console message; it skips when Chromium is not installed (make
// test installs it: scripts/setup.sh --test).
func browser(t testing.TB) (context.Context, func() []chromedp.ConsoleMessage) {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed; run scripts/setup.sh --test")
	}
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 1000),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true)}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	ctx, cancelC := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelC(); cancelB(); cancelA() })
	var mu sync.Mutex
	var msgs []chromedp.ConsoleMessage
	done := make(chan struct{})
	messages := chromedp.Console(ctx)
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			mu.Lock()
			msgs = append(msgs, m)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancelC(); <-done })
	return ctx, func() []chromedp.ConsoleMessage {
		mu.Lock()
		defer mu.Unlock()
		return append([]chromedp.ConsoleMessage(nil), msgs...)
	}
}

// shot saves a screenshot of the page and checks, on every page shot,
// that each control has a label and can be reached by keyboard.
func (c *console) shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	bad := eval[[]string](t, ctx, `[...document.querySelectorAll('input, select, textarea, button, a[href], canvas, [tabindex]:not([tabindex="-1"])')]
		.filter(e => e.offsetParent !== null || e.closest('dialog[open]'))
		.filter(e => {
			const named = (e.labels && e.labels.length) || e.getAttribute('aria-label') || (['BUTTON', 'A'].includes(e.tagName) && e.textContent.trim());
			const reachable = e.tabIndex >= 0 && !e.closest('[inert]');
			return !named || !reachable;
		}).map(e => e.outerHTML.slice(0, 120))`)
	require.Empty(t, bad, "controls without a label or out of keyboard reach on %s", name)
	jpg, err := chromedp.Run(ctx, chromedp.FullScreenshot(85))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(c.shots, name+".jpg"), jpg, 0o644))
}

func run(t testing.TB, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, actions...))
}

func eval[T any](t testing.TB, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	require.NoError(t, err)
	return v
}

// js runs a script as a step, ignoring its value.
func js(expr string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[any](expr)(ctx, tg)
		return chromedp.Void{}, err
	}
}

// setValue sets a form control's value as typing would, with the
// change event.
func setValue(sel, v string) chromedp.Action[chromedp.Void] {
	return js(fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = %q; e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true})); })()`, sel, v))
}

// poll waits until a script is true.
func poll(expr string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool](expr)(ctx, tg)
		return chromedp.Void{}, err
	}
}

func login(t testing.TB, ctx context.Context, c *console, name string) {
	t.Helper()
	// A part that failed may have left a session behind.
	_, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{})
	require.NoError(t, err)
	run(t, ctx, chromedp.Navigate(c.url+"/"), chromedp.WaitVisible(`#login-name`),
		chromedp.SendKeys(`#login-name`, name), chromedp.SendKeys(`#login-password`, password+"\r"),
		chromedp.WaitVisible(`#who`), chromedp.WaitVisible(`main h2`))
}

func logout(t *testing.T, ctx context.Context) {
	t.Helper()
	run(t, ctx, chromedp.Click(`#logout`), chromedp.WaitVisible(`#login-name`))
}

// apiStatus makes a request from the page, with the session's cookies
// and CSRF token, and returns the status.
func apiStatus(t *testing.T, ctx context.Context, method, path, body string) int {
	t.Helper()
	script := fmt.Sprintf(`(async () => {
		const csrf = decodeURIComponent((document.cookie.split('; ').find(c => c.startsWith('vigil_csrf=')) || '=').split('=')[1]);
		const r = await fetch(%q, {method: %q, headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf}, body: %s});
		return r.status;
	})()`, path, method, body)
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](script, chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	return status
}

// TestConsole walks the console as each role in a real browser against
// the real API and store, and checks the audit log at the end.
func TestConsole(t *testing.T) {
	if testing.Short() {
		t.Skip("a real Chromium walk through every page: 30-40 s, 40-120 s under -race on 2 busy cores; the long pass runs it")
	}
	c := newConsole(t)
	browserCtx, problems := browser(t)
	bg := context.Background()
	// Each part gets its own deadline, so a failure ends it quickly.
	var ctx context.Context
	part := func(t *testing.T) {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(browserCtx, 90*time.Second)
		t.Cleanup(cancel)
	}

	t.Run("login refused and throttled", func(t *testing.T) {
		part(t)
		run(t, ctx, chromedp.Navigate(c.url+"/"), chromedp.WaitVisible(`#login-name`))
		c.shot(t, ctx, "01-login")
		for i := range 5 {
			run(t, ctx, setValue(`#login-name`, "vera"), setValue(`#login-password`, ""),
				chromedp.SendKeys(`#login-password`, "wrong password!\r"),
				chromedp.WaitVisible(`#login-message:not(:empty)`))
			msg := eval[string](t, ctx, `document.getElementById('login-message').textContent`)
			require.Equal(t, "Wrong user name or password.", msg, "attempt %d", i+1)
			run(t, ctx, js(`document.getElementById('login-message').textContent = ''`))
		}
		run(t, ctx, setValue(`#login-password`, ""), chromedp.SendKeys(`#login-password`, password+"\r"),
			chromedp.WaitVisible(`#login-message:not(:empty)`))
		require.Contains(t, eval[string](t, ctx, `document.getElementById('login-message').textContent`), "Too many failed logins",
			"even the right password waits out the lock")
		c.shot(t, ctx, "02-login-throttled")
		c.clock.add(time.Minute)
	})

	t.Run("viewer changes nothing", func(t *testing.T) {
		part(t)
		login(t, ctx, c, "vera")
		run(t, ctx, chromedp.WaitVisible(`figure[data-camera="plaza"] img[src]`))
		require.Equal(t, hostile, eval[string](t, ctx, `document.querySelector('figure[data-camera="plaza"] .name').textContent`))
		require.Equal(t, "stalled", eval[string](t, ctx, `document.querySelector('figure[data-camera="gate"] .state').textContent`))
		require.Equal(t, "no frame for 12 s", eval[string](t, ctx, `document.querySelector('figure[data-camera="gate"] .state').title`))
		require.True(t, eval[bool](t, ctx, `[...document.querySelectorAll('nav a[data-role]')].every(a => a.hidden)`), "no scene or admin pages")
		noMarkup(t, ctx)
		c.shot(t, ctx, "03-wall")
		run(t, ctx, chromedp.Click(`figure[data-camera="plaza"] button.view`), chromedp.WaitVisible(`dialog img.live`))
		c.shot(t, ctx, "04-wall-enlarged")
		run(t, ctx, chromedp.KeyEvent("\x1b"), chromedp.WaitNotPresent(`dialog`))

		run(t, ctx, chromedp.Navigate(c.url+"/#/queue"), chromedp.WaitVisible(`li[data-incident="1"]`), poll(`document.title.startsWith('(2)')`))
		require.True(t, eval[bool](t, ctx, `[...document.querySelectorAll('.queue button')].every(b => b.disabled)`), "every action disabled")
		require.Equal(t, "2", eval[string](t, ctx, `document.querySelector('.queue li').dataset.id`), "high before medium")
		noMarkup(t, ctx)
		c.shot(t, ctx, "05-queue-viewer")
		require.Equal(t, http.StatusForbidden, apiStatus(t, ctx, "POST", "/api/v1/incidents/1/transition", `JSON.stringify({to: 'acknowledged'})`))
		require.Equal(t, http.StatusForbidden, apiStatus(t, ctx, "POST", "/api/v1/alerts/1/transition", `JSON.stringify({to: 'acknowledged'})`))
		require.Equal(t, http.StatusForbidden, apiStatus(t, ctx, "PUT", "/api/v1/protocols", `'version: 1'`))
		require.Equal(t, http.StatusForbidden, apiStatus(t, ctx, "PUT", "/api/v1/cameras/gate/scene", `'{}'`))
		require.Equal(t, http.StatusForbidden, apiStatus(t, ctx, "GET", "/api/v1/audit", "undefined"))
		in, err := c.eng.Get(bg, 1)
		require.NoError(t, err)
		require.Equal(t, incident.New, in.State)
		logout(t, ctx)
	})

	t.Run("operator handles incidents", func(t *testing.T) {
		part(t)
		// Notifications are allowed for the console's origin; a spy
		// records what the real Notification is asked to show.
		_, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: "notifications"}, Setting: cdpbrowser.PermissionSettingGranted, Origin: c.url})
		require.NoError(t, err)
		login(t, ctx, c, "otto")
		run(t, ctx, chromedp.Navigate(c.url+"/#/queue"), chromedp.WaitVisible(`li[data-incident="2"]`),
			js(`window.__notes = []; window.Notification = new Proxy(window.Notification, { construct(T, a) { window.__notes.push(a[0]); return new T(...a); } })`))
		// A critical incident arrives live while the queue is open, with
		// its snapshot, clip and a calibrated track path.
		snap, hasClip := c.evidence(t, newFrames(t), "gate-7")
		id := c.handle(t, event.Event{Rule: "wrong_way", Camera: "gate", Lane: "out", Class: "car", Severity: event.Critical, Tracks: []int{7},
			Explanation: "car 7 moved 9.1 m against lane 'out' at 41 km/h", Values: map[string]float64{"speed_kmh": 41, "distance_m": 9.1},
			Snapshot: snap, Path: []event.PathPoint{{PTS: 1, Image: [2]float64{100, 400}, Ground: &[2]float64{2, 1}},
				{PTS: 2, Image: [2]float64{320, 240}, Ground: &[2]float64{12.5, 3.5}}}})
		sid := strconv.FormatInt(id, 10)
		item := `li[data-incident="` + sid + `"]`
		run(t, ctx, chromedp.WaitVisible(item), poll(`document.title.startsWith('(3)')`),
			poll(`window.__notes.some(t => t.includes('wrong_way'))`))
		require.Equal(t, sid, eval[string](t, ctx, `document.querySelector('.queue li').dataset.id`), "critical first")
		c.shot(t, ctx, "06-queue-operator")

		// Keyboard: focus the critical one, acknowledge it with "a", then
		// "d" opens its dispatch form.
		c.clock.add(20 * time.Second)
		run(t, ctx, chromedp.Focus(item), chromedp.KeyEvent("a"))
		waitIncident(t, c, id, incident.Acknowledged)
		run(t, ctx, poll(`document.querySelector('`+item+`').dataset.state === 'acknowledged'`), chromedp.Focus(item), chromedp.KeyEvent("d"),
			chromedp.WaitVisible(`form[aria-label="dispatch"]`),
			poll(`document.activeElement === document.querySelector('form[aria-label="dispatch"] select[name="unit_type"]')`),
			setValue(`form[aria-label="dispatch"] select[name="unit_type"]`, "police"),
			chromedp.SendKeys(`form[aria-label="dispatch"] input[name="unit_id"]`, "car 12"),
			chromedp.SendKeys(`form[aria-label="dispatch"] textarea`, "on the way"))
		require.Equal(t, "car 7 moved 9.1 m against lane 'out' at 41 km/h", eval[string](t, ctx, `document.querySelector('.incident-view .explanation').textContent`))
		require.Equal(t, "41.00", eval[string](t, ctx, `[...document.querySelectorAll('table[aria-label="measured values"] tr')].find(r => r.querySelector('th').textContent === 'speed_kmh').querySelector('td').textContent`))
		require.Equal(t, "Ground position: 12.5 m, 3.5 m (calibrated plane)", eval[string](t, ctx, `document.querySelector('.incident-view .ground').textContent`))
		// The snapshot is drawn with the track path: the path ends in a red
		// dot at the last image point.
		run(t, ctx, poll(`document.querySelector('.incident-view canvas').width === 640`))
		require.Equal(t, []int{255, 59, 59}, eval[[]int](t, ctx, `[...document.querySelector('.incident-view canvas').getContext('2d').getImageData(320, 240, 1, 1).data.slice(0, 3)]`))
		if hasClip {
			run(t, ctx, poll(`document.querySelector('.incident-view video').readyState >= 1`))
			require.Equal(t, 1.0, eval[float64](t, ctx, `Math.round(document.querySelector('.incident-view video').duration)`))
		}
		c.shot(t, ctx, "07-incident-view")
		c.clock.add(40 * time.Second)
		run(t, ctx, chromedp.Click(`form[aria-label="dispatch"] button[type="submit"]`))
		waitIncident(t, c, id, incident.Dispatched)
		c.clock.add(5 * time.Minute)
		// On scene by key in the view, resolved by its button.
		run(t, ctx, chromedp.WaitVisible(`.timeline li[data-to="dispatched"]`), js(`document.activeElement.blur()`), chromedp.KeyEvent("s"))
		waitIncident(t, c, id, incident.OnScene)
		c.clock.add(10 * time.Minute)
		run(t, ctx, chromedp.WaitVisible(`.timeline li[data-to="on_scene"]`), chromedp.Click(`//button[text()="Resolve"]`))
		waitIncident(t, c, id, incident.Resolved)
		run(t, ctx, chromedp.WaitVisible(`.timeline li[data-to="resolved"]`))
		times := eval[map[string]string](t, ctx, `Object.fromEntries([...document.querySelectorAll('dl.times dd')].map(d => [d.dataset.stage, d.textContent]))`)
		require.Equal(t, map[string]string{"To acknowledge": "20 s", "To dispatch": "1 min 0 s", "Dispatch to on scene": "5 min 0 s",
			"To resolve": "16 min 0 s"}, times)
		c.shot(t, ctx, "08-incident-resolved")

		// Another is a false alarm, from the queue's button.
		run(t, ctx, chromedp.Navigate(c.url+"/#/queue"), chromedp.WaitVisible(`li[data-incident="1"]`),
			chromedp.Click(`//li[@data-incident="1"]//button[text()="False alarm"]`))
		waitIncident(t, c, 1, incident.FalseAlarm)
		in, err := c.eng.Get(bg, id)
		require.NoError(t, err)
		var by []string
		for _, h := range in.History {
			by = append(by, h.By)
		}
		require.Equal(t, []string{"otto", "otto", "otto", "otto"}, by)
		require.Equal(t, "police", in.UnitType)
		require.Equal(t, "car 12", in.UnitID)
		require.Equal(t, "on the way", in.History[1].Note)
		// The false alarm fed the verdict loop: the grouped alert is judged.
		a, err := c.st.GetAlert(bg, 1)
		require.NoError(t, err)
		require.Equal(t, store.StateFalseAlarm, a.State)

		// The hostile incident renders as text in its view.
		run(t, ctx, chromedp.Navigate(c.url+"/#/incident/2"), chromedp.WaitVisible(`.incident-view .events li`))
		require.Equal(t, "person in "+hostile+" for 4.2 s", eval[string](t, ctx, `document.querySelector('.incident-view .explanation').textContent`))
		require.Contains(t, eval[string](t, ctx, `document.querySelector('main h2').textContent`), hostile)
		noMarkup(t, ctx)
		// Each grouped event opens in the alert view.
		run(t, ctx, chromedp.Click(`.incident-view .events li a`), chromedp.WaitVisible(`.alert-view:not(.incident-view) .explanation`))
		require.Equal(t, "#/alert/2", eval[string](t, ctx, `location.hash`))
		require.Equal(t, "person in "+hostile+" for 4.2 s", eval[string](t, ctx, `document.querySelector('.alert-view .explanation').textContent`))
		noMarkup(t, ctx)
		logout(t, ctx)
	})

	t.Run("supervisor draws a zone", func(t *testing.T) {
		part(t)
		login(t, ctx, c, "sue")
		run(t, ctx, chromedp.Navigate(c.url+"/#/scene/gate"), chromedp.WaitVisible(`.editor canvas`),
			chromedp.Click(`input[name="tool"][value="zone"]`), chromedp.ScrollIntoView(`.editor canvas`))
		box := eval[[]float64](t, ctx, `(() => { const r = document.querySelector('.editor canvas').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`)
		for _, p := range [][2]float64{{0.2, 0.2}, {0.6, 0.2}, {0.6, 0.7}, {0.2, 0.7}} {
			run(t, ctx, chromedp.MouseClickXY(box[0]+p[0]*box[2], box[1]+p[1]*box[3]))
		}
		run(t, ctx, chromedp.Click(`//button[text()="Finish shape"]`), chromedp.WaitVisible(`input[name="zone-name"]`),
			js(`(() => { const i = document.querySelector('input[name="zone-name"]'); i.value = 'platform'; i.dispatchEvent(new Event('change')); })()`),
			chromedp.Click(`//button[text()="Add rule"]`), chromedp.WaitVisible(`select[name="rule-type"]`))
		require.Equal(t, "platform", eval[string](t, ctx, `document.querySelector('select[name="rule-target"]').value`))
		run(t, ctx, chromedp.Click(`//button[text()="Preview (last hour)"]`), chromedp.WaitVisible(`ul.preview li`))
		require.Contains(t, eval[string](t, ctx, `document.querySelector('.editor h3').textContent`), "Preview: 1 alert(s)")
		c.shot(t, ctx, "09-scene-editor")
		run(t, ctx, chromedp.Click(`//button[text()="Save"]`), poll(`[...document.querySelectorAll('[role=status]')].some(e => e.textContent.startsWith('Saved as version 2'))`))
		v, err := c.st.LatestScene(bg, "gate")
		require.NoError(t, err)
		require.Equal(t, "sue", v.Author)
		require.Contains(t, v.YAML, "name: platform")
		sc, err := scene.Parse([]byte(v.YAML), "gate.yaml")
		require.NoError(t, err)
		require.Len(t, sc.Zones[0].Polygon, 4)
		run(t, ctx, chromedp.Reload(), chromedp.WaitVisible(`input[name="zone-name"]`))
		require.Equal(t, "platform", eval[string](t, ctx, `document.querySelector('input[name="zone-name"]').value`), "seen after reload")
		run(t, ctx, chromedp.Navigate(c.url+"/#/dashboard"), chromedp.WaitVisible(`.charts svg`), chromedp.WaitVisible(`table.response`))
		// Incidents 1 and 2 opened at the start (incident 3 on the test's
		// advanced clock may fall after the page's "now"): both charted,
		// and the false alarm's time to verdict is in the response table.
		require.Contains(t, eval[string](t, ctx, `[...document.querySelectorAll('.charts section')].find(p => p.querySelector('h3').textContent === 'Incidents per rule').querySelector('svg').getAttribute('aria-label')`),
			"loitering: 1")
		require.NotEqual(t, "–", eval[string](t, ctx, `[...document.querySelectorAll('table.response tbody tr')].find(r => r.children[1].textContent === 'intrusion').querySelector('[data-stage="resolve"]').textContent`))
		require.Equal(t, "Over capacity by 2.5 analysed fps: cameras drop frames, and a new camera is refused.",
			eval[string](t, ctx, `document.querySelector('section.capacity p.over').textContent`))
		require.Equal(t, "10.0 fps by 2 camera(s)", eval[string](t, ctx, `document.querySelector('[data-capacity="in use"]').textContent`))
		require.Equal(t, "85.0 ms per whole frame, 30.0 ms per crop, 2 lane(s) in parallel",
			eval[string](t, ctx, `document.querySelector('[data-capacity="inference"]').textContent`))
		c.shot(t, ctx, "10-dashboard")

		// Every node's state in one place; the camera on no node stands out.
		run(t, ctx, chromedp.Navigate(c.url+"/#/cluster"), chromedp.WaitVisible(`table.nodes tbody tr`))
		require.Equal(t, "api-1 (coordinator)", eval[string](t, ctx, `document.querySelector('tr[data-node="api-1"] td').textContent`))
		require.Equal(t, "35.0 fps", eval[string](t, ctx, `document.querySelector('tr[data-node="w1"]').children[2].textContent`))
		require.Equal(t, "plaza", eval[string](t, ctx, `document.querySelector('dd[data-node=""]').textContent`))
		require.Contains(t, eval[string](t, ctx, `document.querySelector('.cluster p[role=status]').textContent`), "1 not running anywhere; 4 record(s) waiting for the store")
		c.shot(t, ctx, "10b-cluster")

		// Alert protocols: a bad file is refused with line:column, a good
		// one is put in force.
		run(t, ctx, chromedp.Navigate(c.url+"/#/admin/protocols"), poll(`document.querySelector('textarea[name="protocols"]')?.value.includes('queue-the-rest')`))
		require.Contains(t, eval[string](t, ctx, `document.querySelector('.protocol-names').textContent`), "queue-the-rest")
		run(t, ctx, setValue(`textarea[name="protocols"]`, "version: 1\nprotocols:\n  - name: ramp\n    priority: urgent\n"),
			chromedp.Click(`//button[text()="Save protocols"]`), chromedp.WaitVisible(`ul.error-list li button`))
		require.Contains(t, eval[string](t, ctx, `document.querySelector('ul.error-list li button').textContent`), "protocols.yaml:4:")
		good := "version: 1\nprotocols:\n  - name: ramp-wrong-way\n    match: {rules: [wrong_way]}\n    priority: critical\n    unit: police\n" +
			"  - name: queue-the-rest\n    group_window: 10m\n"
		run(t, ctx, setValue(`textarea[name="protocols"]`, good), chromedp.Click(`//button[text()="Save protocols"]`),
			poll(`[...document.querySelectorAll('[role=status]')].some(e => e.textContent.startsWith('Saved as version 1'))`))
		_, inForce := c.eng.Protocols()
		require.Equal(t, good, inForce)
		c.shot(t, ctx, "11-protocols")

		// Dead letters: one is listed and retried.
		run(t, ctx, chromedp.Navigate(c.url+"/#/admin/deliveries"), chromedp.WaitVisible(`table.dead tr[data-seq]`))
		require.Contains(t, eval[string](t, ctx, `document.querySelector('table.dead td.error').textContent`), "502 Bad Gateway")
		c.shot(t, ctx, "12-dead-letters")
		run(t, ctx, chromedp.Click(`//tr[@data-seq]//button[text()="Retry"]`), chromedp.WaitNotPresent(`table.dead tr[data-seq]`))
		b, err := c.st.Backlog(bg)
		require.NoError(t, err)
		require.Equal(t, deliver.Backlog{Pending: 1}, deliver.Backlog{Pending: b.Pending, Dead: b.Dead})
		logout(t, ctx)
	})

	t.Run("admin reads the audit log", func(t *testing.T) {
		part(t)
		login(t, ctx, c, "ada")
		run(t, ctx, chromedp.Navigate(c.url+"/#/admin/audit"), chromedp.WaitVisible(`table.audit tbody tr`))
		c.shot(t, ctx, "13-audit")
		rows := eval[[][]string](t, ctx, `[...document.querySelectorAll('table.audit tbody tr')].map(r => [r.querySelector('.actor').textContent, r.querySelector('.action').textContent, r.querySelector('.object').textContent])`)
		has := func(actor, action, object string) bool {
			for _, r := range rows {
				if r[0] == actor && r[1] == action && (object == "" || r[2] == object) {
					return true
				}
			}
			return false
		}
		require.True(t, has("(invalid name)", "login_failed", "") || has("vera", "login_failed", "user/vera"), "failed logins: %v", rows)
		require.True(t, has("vera", "login", "user/vera"), "%v", rows)
		for _, obj := range []string{"incident/3", "incident/1"} {
			require.True(t, has("otto", "incident.transition", obj), "%v", rows)
		}
		steps := eval[[]string](t, ctx, `[...document.querySelectorAll('table.audit tbody tr[data-action="incident.transition"]')]
			.filter(r => r.querySelector('.object').textContent === 'incident/3').map(r => r.querySelector('.actor').textContent + ' ' + r.querySelector('code').textContent)`)
		require.Len(t, steps, 4, "acknowledge, dispatch, on scene, resolve")
		for i, want := range []string{`"state":"acknowledged"`, `"state":"dispatched"`, `"state":"on_scene"`, `"state":"resolved"`} {
			// Newest first.
			require.Contains(t, steps[len(steps)-1-i], want)
			require.True(t, strings.HasPrefix(steps[len(steps)-1-i], "otto "), steps[len(steps)-1-i])
		}
		require.Contains(t, steps[2], `"unit_id":"car 12"`)
		require.True(t, has("sue", "protocols.replace", "protocols"), "%v", rows)
		require.True(t, has("sue", "delivery.retry", "delivery/1"), "%v", rows)
		require.True(t, has("sue", "scene.save", "camera/gate"), "%v", rows)
		require.True(t, has("sue", "logout", "user/sue"), "%v", rows)
		for _, tab := range []string{"users", "tokens", "groups"} {
			run(t, ctx, chromedp.Navigate(c.url+"/#/admin/"+tab), chromedp.WaitVisible(`main form`))
			c.shot(t, ctx, "14-admin-"+tab)
		}
		require.Contains(t, eval[string](t, ctx, `document.getElementById('who').textContent`), hostile, "display names are text too")
		noMarkup(t, ctx)
	})

	ctx = browserCtx
	for _, m := range problems() {
		t.Logf("console: %s %s", m, m.URL)
	}
	require.Empty(t, unexpected(problems()), "no script errors or console errors")
}

// noMarkup checks that no hostile name became an element: had one been
// put into the page as HTML there would be an <img src="x"> (whose inline
// onerror the CSP would block anyway).
func noMarkup(t *testing.T, ctx context.Context) {
	t.Helper()
	require.Zero(t, eval[int](t, ctx, `document.querySelectorAll('img[src="x"]').length`))
	require.False(t, eval[bool](t, ctx, `window.__xss === 1`))
	require.Contains(t, eval[string](t, ctx, `document.body.textContent`), hostile, "the name shows, as text")
}

// waitIncident waits for the store to show an incident's state (the
// console acts asynchronously).
func waitIncident(t *testing.T, c *console, id int64, want incident.State) {
	t.Helper()
	require.Eventually(t, func() bool {
		in, err := c.eng.Get(context.Background(), id)
		return err == nil && in.State == want
	}, 20*time.Second, 50*time.Millisecond, "incident %d to %s", id, want)
}

// unexpected keeps the console messages that are problems: exceptions,
// console errors and warnings, and browser log errors, except the
// network log lines for the refusals the test provokes on purpose (the
// wrong passwords, the throttled login, the viewer's refused calls and
// the invalid protocol file).
func unexpected(msgs []chromedp.ConsoleMessage) []string {
	var out []string
	for _, m := range msgs {
		if m.Type != chromedp.ConsoleException && m.Type != "error" && m.Type != "warning" && m.Type != "assert" {
			continue
		}
		if m.Source == "network" && (strings.Contains(m.Text, "401") || strings.Contains(m.Text, "429") || strings.Contains(m.Text, "403") ||
			(strings.Contains(m.Text, "422") && strings.HasSuffix(m.URL, "/api/v1/protocols"))) {
			continue
		}
		out = append(out, m.String()+" "+m.URL)
	}
	return out
}
