package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/httpapi"
	"github.com/vigil-cctv/vigil/internal/service"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
	"github.com/vigil-cctv/vigil/internal/web"
)

// verdicts records what the console's buttons did.
type verdicts struct {
	mu   sync.Mutex
	seen []store.AlertState
}

func (v *verdicts) Verdict(_ context.Context, a store.Alert, _ string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.seen = append(v.seen, a.State)
	return nil
}

func (v *verdicts) Lift(context.Context, int64) error { return nil }

func (v *verdicts) got() []store.AlertState {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]store.AlertState(nil), v.seen...)
}

// browser starts headless Chromium, or skips when it is not installed
// (make test installs it: scripts/setup.sh --test).
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed; run scripts/setup.sh --test")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	// A hang guard, not a speed target: Chromium starts slowly on a busy machine.
	ctx, cancelC := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelC(); cancelB(); cancelA() })
	return ctx
}

// TestConsoleVerdictFlow drives the real console in a real browser against
// the real API and store: the camera and the anomaly alert show with its
// explanation, the "confirmed" button stores the verdict and hands it to
// feedback, and the alert leaves the "new" queue when its state arrives
// over the event stream.
func TestConsoleVerdictFlow(t *testing.T) {
	st, err := sqlite.Open(context.Background(), ":memory:")
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	bg := context.Background()
	require.NoError(t, st.PutCamera(bg, store.Camera{ID: "plaza", Name: "Plaza", URL: "/x.avi", Kind: "file", Enabled: true}))
	id, err := st.AddAlert(bg, event.Event{Rule: "anomaly", Name: "direction", Camera: "plaza", Class: "car", Start: 1, End: 2,
		Severity: event.Medium, Explanation: "car heading north where 100% of cars here head south"})
	require.NoError(t, err)

	fb := &verdicts{}
	broker := service.NewBroker()
	api := httpapi.New(httpapi.Deps{Store: st, Broker: broker, Feedback: fb}, httpapi.Options{})
	mux := http.NewServeMux()
	mux.Handle("/api/", api)
	mux.Handle("/", web.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	// After the server, so that its cleanup (run first) closes the
	// browser and with it the event stream the server would wait for.
	ctx := browser(t)

	item := `li[data-alert="` + strconv.FormatInt(id, 10) + `"]`
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(item)))
	title, err := chromedp.Run(ctx, chromedp.Text(item))
	require.NoError(t, err)
	camera, err := chromedp.Run(ctx, chromedp.Text(`div[data-camera="plaza"] h3`))
	require.NoError(t, err)
	learned, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('div[data-camera="plaza"] select.learned option').length`))
	require.NoError(t, err)
	require.Contains(t, title, "anomaly: direction — plaza")
	require.Contains(t, title, "100% of cars here head south")
	require.Contains(t, camera, "Plaza")
	require.Equal(t, 5, learned, "live view plus four learned heatmaps")

	// The second button is "confirmed" (acknowledged, confirmed, …).
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(item+` button:nth-of-type(2)`), chromedp.WaitNotPresent(item)))
	a, err := st.GetAlert(bg, id)
	require.NoError(t, err)
	require.Equal(t, store.StateConfirmed, a.State)
	require.Equal(t, "console", a.History[0].By)
	require.Equal(t, []store.AlertState{store.StateConfirmed}, fb.got())
}
