package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/auth"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/store"
)

var t0 = time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)

// seedAlerts adds n alerts, one a minute from t0, over three cameras, two
// rules and two classes.
func seedAlerts(t *testing.T, hs *harness, n int) {
	t.Helper()
	var i atomic.Int64
	hs.setNow(func() time.Time { return t0.Add(time.Duration(i.Load()) * time.Minute) })
	defer hs.setNow(time.Now)
	for ; i.Load() < int64(n); i.Add(1) {
		_, err := hs.store.AddAlert(context.Background(), sampleEvent(int(i.Load())))
		require.NoError(t, err)
	}
}

// sampleEvent is the i-th of a series spread over three cameras, two
// rules and two classes.
func sampleEvent(i int) event.Event {
	return event.Event{Rule: []string{"intrusion", "wrong_way"}[i%2], Camera: fmt.Sprintf("cam-%d", i%3),
		Class: []string{"person", "car"}[i%2], Start: float64(i), End: float64(i + 1), Severity: event.High}
}

type alertPage struct {
	Alerts     []alertView `json:"alerts"`
	NextCursor string      `json:"next_cursor"`
}

// allPages follows next_cursor from query and returns every alert ID.
func allPages(t *testing.T, hs *harness, query string) (ids []int64, pages int) {
	t.Helper()
	cursor := ""
	for {
		q := query
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		p := readJSON[alertPage](t, hs.do("GET", "/api/v1/alerts?"+q, ""), http.StatusOK)
		pages++
		for _, a := range p.Alerts {
			ids = append(ids, a.ID)
		}
		if cursor = p.NextCursor; cursor == "" {
			return ids, pages
		}
		require.Less(t, pages, 100, "pagination does not end")
	}
}

func TestAlertPagination(t *testing.T) {
	hs := newHarness(t, Options{})
	seedAlerts(t, hs, 120)
	ids, pages := allPages(t, hs, "limit=50")
	require.Equal(t, 3, pages)
	require.Len(t, ids, 120)
	for i, id := range ids {
		require.Equal(t, int64(120-i), id, "newest first, no gaps or repeats")
	}
	ids, pages = allPages(t, hs, "limit=40")
	require.Len(t, ids, 120)
	require.Equal(t, 3, pages, "an exact multiple has no empty last page")
	ids, _ = allPages(t, hs, "limit=500")
	require.Len(t, ids, 120)
	p := readJSON[alertPage](t, hs.do("GET", "/api/v1/alerts", ""), http.StatusOK)
	require.Len(t, p.Alerts, defaultLimit)
	require.Equal(t, "/api/v1/alerts/120", p.Alerts[0].Links.Self)
}

func TestAlertFilters(t *testing.T) {
	hs := newHarness(t, Options{})
	seedAlerts(t, hs, 120)
	count := func(q string) int {
		ids, _ := allPages(t, hs, q+"&limit=7")
		return len(ids)
	}
	require.Equal(t, 40, count("camera=cam-1"))
	require.Equal(t, 60, count("rule=wrong_way"))
	require.Equal(t, 60, count("class=person"))
	require.Equal(t, 20, count("camera=cam-0&rule=intrusion"))
	require.Equal(t, 0, count("camera=cam-0&rule=wrong_way&class=person"))
	since, until := t0.Add(10*time.Minute).Format(time.RFC3339), t0.Add(30*time.Minute).Format(time.RFC3339)
	require.Equal(t, 20, count("since="+since+"&until="+until))
	require.Equal(t, 110, count("since="+since))
	for _, id := range []int{3, 5, 8} {
		readJSON[alertView](t, hs.do("POST", fmt.Sprintf("/api/v1/alerts/%d/transition", id), `{"to":"acknowledged"}`), http.StatusOK)
	}
	require.Equal(t, 3, count("state=acknowledged"))
	require.Equal(t, 117, count("state=new"))
}

func TestAlertQueryValidation(t *testing.T) {
	hs := newHarness(t, Options{})
	for q, want := range map[string]string{
		"since=yesterday":            `"since"`,
		"until=2024-13-01T00:00:00Z": `"until"`,
		"state=open":                 `"state"`,
		"limit=0":                    `"limit"`,
		"limit=501":                  `"limit"`,
		"limit=ten":                  `"limit"`,
		"cursor=abc":                 `"cursor"`,
		"cursor=" + encodeCursor(0):  `"cursor"`,
		"camera=a&camera=b":          `"camera"`,
		"cam=a":                      `unknown parameter "cam"`,
		"a=%zz":                      `malformed`,
		"since=2024-05-02T00:00:00Z&until=2024-05-01T00:00:00Z": `before`,
	} {
		e := requireError(t, hs.do("GET", "/api/v1/alerts?"+q, ""), http.StatusBadRequest, codeBadRequest)
		require.Contains(t, e.Error.Message, want, q)
	}
}

func TestAlertLifecycle(t *testing.T) {
	hs := newHarness(t, Options{})
	seedAlerts(t, hs, 2)
	a := readJSON[alertView](t, hs.as(auth.Operator).do("POST", "/api/v1/alerts/1/transition", `{"to":"acknowledged","note":"looking"}`), http.StatusOK)
	require.Equal(t, store.StateAcknowledged, a.State)
	require.Equal(t, "operator", a.History[0].By, "who comes from the session")
	require.Len(t, hs.broker.published, 1)
	require.Equal(t, MessageAlertState, hs.broker.published[0].Type)

	e := requireError(t, hs.do("POST", "/api/v1/alerts/1/transition", `{"to":"new"}`), http.StatusConflict, codeConflict)
	require.Contains(t, e.Error.Message, "confirmed, false_alarm, closed")
	readJSON[alertView](t, hs.do("POST", "/api/v1/alerts/1/transition", `{"to":"false_alarm"}`), http.StatusOK)
	readJSON[alertView](t, hs.do("POST", "/api/v1/alerts/1/transition", `{"to":"closed"}`), http.StatusOK)
	e = requireError(t, hs.do("POST", "/api/v1/alerts/1/transition", `{"to":"closed"}`), http.StatusConflict, codeConflict)
	require.Contains(t, e.Error.Message, "none")
	got := readJSON[alertView](t, hs.do("GET", "/api/v1/alerts/1", ""), http.StatusOK)
	require.Len(t, got.History, 3)

	requireError(t, hs.do("POST", "/api/v1/alerts/2/transition", `{"to":"done"}`), http.StatusBadRequest, codeBadRequest)
	e = requireError(t, hs.do("POST", "/api/v1/alerts/2/transition", `{"to":"closed","by":"mallory"}`), http.StatusBadRequest, codeBadRequest)
	require.Contains(t, e.Error.Message, "logged-in user", "who cannot come from the body")
	requireError(t, hs.do("POST", "/api/v1/alerts/2/transition", `{"to":"closed","extra":1}`), http.StatusBadRequest, codeBadRequest)
	requireError(t, hs.do("POST", "/api/v1/alerts/99/transition", `{"to":"closed"}`), http.StatusNotFound, codeNotFound)
	requireError(t, hs.do("POST", "/api/v1/alerts/x/transition", `{"to":"closed"}`), http.StatusBadRequest, codeBadRequest)
	requireError(t, hs.do("GET", "/api/v1/alerts/0", ""), http.StatusBadRequest, codeBadRequest)
}

// mediaSetup makes MediaDir with one alert's files, a secret outside it
// and a symlink inside pointing at the secret.
func mediaSetup(t *testing.T) (hs *harness, dir string) {
	root := t.TempDir()
	dir = filepath.Join(root, "media")
	write := func(path, data string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(data), 0o644))
	}
	write(filepath.Join(dir, "gate", "intrusion-1-500.jpg"), "JPEGFULL")
	write(filepath.Join(dir, "gate", "intrusion-1-500-crop.jpg"), "JPEGCROP")
	write(filepath.Join(dir, "gate", "intrusion-1-500.mp4"), "MP4DATA0123456789")
	write(filepath.Join(dir, "gate", "notes.yaml"), "password: x")
	write(filepath.Join(root, "secret.jpg"), "SECRET")
	require.NoError(t, os.Symlink(filepath.Join(root, "secret.jpg"), filepath.Join(dir, "gate", "link.jpg")))
	return newHarness(t, Options{MediaDir: dir}), dir
}

func addMediaAlert(t *testing.T, hs *harness, snapshot, crop string) int64 {
	id, err := hs.store.AddAlert(context.Background(), event.Event{Rule: "intrusion", Camera: "gate", Snapshot: snapshot, Crop: crop})
	require.NoError(t, err)
	return id
}

func TestAlertMedia(t *testing.T) {
	hs, dir := mediaSetup(t)
	abs := addMediaAlert(t, hs, filepath.Join(dir, "gate", "intrusion-1-500.jpg"), filepath.Join(dir, "gate", "intrusion-1-500-crop.jpg"))
	rel := addMediaAlert(t, hs, "gate/intrusion-1-500.jpg", "")
	for path, want := range map[string]string{
		fmt.Sprintf("/api/v1/alerts/%d/snapshot", abs): "JPEGFULL",
		fmt.Sprintf("/api/v1/alerts/%d/crop", abs):     "JPEGCROP",
		fmt.Sprintf("/api/v1/alerts/%d/clip", abs):     "MP4DATA0123456789",
		fmt.Sprintf("/api/v1/alerts/%d/snapshot", rel): "JPEGFULL",
	} {
		w := hs.do("GET", path, "")
		require.Equal(t, http.StatusOK, w.Code, path)
		require.Equal(t, want, w.Body.String(), path)
	}
	require.Equal(t, "video/mp4", hs.do("GET", fmt.Sprintf("/api/v1/alerts/%d/clip", abs), "").Header().Get("Content-Type"))
	requireError(t, hs.do("GET", fmt.Sprintf("/api/v1/alerts/%d/crop", rel), ""), http.StatusNotFound, codeNotFound)
}

func TestAlertMediaTraversal(t *testing.T) {
	hs, dir := mediaSetup(t)
	for _, snap := range []string{
		"../secret.jpg",
		filepath.Join(dir, "..", "secret.jpg"),
		filepath.Join(filepath.Dir(dir), "secret.jpg"),
		"gate/../../secret.jpg",
		"gate/link.jpg", // a symlink out of MediaDir
		"gate/notes.yaml",
		"/etc/passwd",
	} {
		id := addMediaAlert(t, hs, snap, snap)
		for _, kind := range []string{"snapshot", "crop", "clip"} {
			w := hs.do("GET", fmt.Sprintf("/api/v1/alerts/%d/%s", id, kind), "")
			requireError(t, w, http.StatusNotFound, codeNotFound)
			require.NotContains(t, w.Body.String(), "SECRET")
		}
	}
	off := newHarness(t, Options{})
	id := addMediaAlert(t, off, "gate/intrusion-1-500.jpg", "")
	requireError(t, off.do("GET", fmt.Sprintf("/api/v1/alerts/%d/snapshot", id), ""), http.StatusNotFound, codeNotFound)
}

func TestCountsAndStats(t *testing.T) {
	hs := newHarness(t, Options{Now: func() time.Time { return t0.Add(3 * time.Hour) }})
	seedAlerts(t, hs, 120)
	readJSON[alertView](t, hs.do("POST", "/api/v1/alerts/120/transition", `{"to":"closed"}`), http.StatusOK)
	require.NoError(t, hs.store.AddCounts(context.Background(), []store.Count{
		{Camera: "cam-0", Name: "gate", Class: "person", Bucket: t0, N: 4},
		{Camera: "cam-0", Name: "door", Class: "person", Bucket: t0, N: 2},
		{Camera: "cam-1", Name: "gate", Class: "car", Bucket: t0.Add(-48 * time.Hour), N: 9},
	}))
	cs := readJSON[struct{ Counts []store.Count }](t, hs.do("GET", "/api/v1/counts?camera=cam-0&name=gate", ""), http.StatusOK)
	require.Len(t, cs.Counts, 1)
	require.EqualValues(t, 4, cs.Counts[0].N)
	cs = readJSON[struct{ Counts []store.Count }](t, hs.do("GET", "/api/v1/counts", ""), http.StatusOK)
	require.Len(t, cs.Counts, 2, "the default window is the last 24 h")
	requireError(t, hs.do("GET", "/api/v1/counts?since=2020-01-01T00:00:00Z", ""), http.StatusBadRequest, codeBadRequest)

	s := readJSON[statsView](t, hs.do("GET", "/api/v1/stats", ""), http.StatusOK)
	require.Equal(t, 120, s.Total)
	require.Equal(t, 119, s.ByState[store.StateNew])
	require.Equal(t, 1, s.ByState[store.StateClosed])
	require.Equal(t, 60, s.ByRule["intrusion"][store.StateNew])
	require.Equal(t, 40, s.ByCamera["cam-2"])
	require.False(t, s.Truncated)
	s = readJSON[statsView](t, hs.do("GET", "/api/v1/stats?camera=cam-0", ""), http.StatusOK)
	require.Equal(t, 40, s.Total)
}
