package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/auth"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/search"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

// newSearchHarness serves the real SQLite store with a search index
// built from it, holding three people and a car.
func newSearchHarness(t *testing.T) (*harness, []int64) {
	return newSearchHarnessWith(t, nil)
}

func newSearchHarnessWith(t *testing.T, rec Recordings) (*harness, []int64) {
	st, err := sqlite.Open(context.Background(), ":memory:")
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	t0 := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
	mk := func(cam string, min int, class string, a search.Appearance) store.TrackSummary {
		return store.TrackSummary{Camera: cam, TrackID: min, Class: class, Start: t0.Add(time.Duration(min) * time.Minute),
			End: t0.Add(time.Duration(min+1) * time.Minute), Path: []event.PathPoint{{PTS: 1, Image: [2]float64{5, 6}}}, Appearance: &a}
	}
	ids, err := st.AddTracks(context.Background(), []store.TrackSummary{
		mk("cam1", 0, "person", search.Appearance{Upper: []string{"red"}, Lower: []string{"black"}, Carried: []string{"backpack"},
			Heading: "north", Embedding: []float32{1, 0.1, 0}, Thumb: []byte{0xff, 0xd8, 0xff}}),
		mk("cam2", 20, "person", search.Appearance{Upper: []string{"red"}, Lower: []string{"black"}, Heading: "west",
			Embedding: []float32{1, 0.2, 0}}),
		mk("cam1", 40, "person", search.Appearance{Upper: []string{"blue"}, Lower: []string{"grey"}, Embedding: []float32{0, 0, 1}}),
		mk("cam2", 50, "car", search.Appearance{Colours: []string{"white"}, Heading: "east"}),
	})
	require.NoError(t, err)
	recs, err := st.SearchRecords(context.Background(), 0, 100)
	require.NoError(t, err)
	ix, err := search.Build(recs)
	require.NoError(t, err)
	hs := newHarnessWith(t, st, func(now func() time.Time) { st.Now = now }, newTestAuth(t, st), Options{})
	hs.h = New(Deps{Store: st, Auth: hs.auth.svc, Search: ix, Logger: newTestLogger(hs.logs), Recordings: rec},
		Options{Now: func() time.Time { return t0 }})
	return hs, ids
}

type searchAnswer struct {
	Hits []struct {
		ID         int64             `json:"id"`
		Camera     string            `json:"camera"`
		Matched    []string          `json:"matched"`
		Similarity float64           `json:"similarity"`
		Appearance search.Appearance `json:"appearance"`
		Thumb      string            `json:"thumb"`
	} `json:"hits"`
	Unknown []string     `json:"unknown"`
	Query   search.Query `json:"query"`
}

func decodeSearch(t *testing.T, body string) searchAnswer {
	var a searchAnswer
	require.NoError(t, json.Unmarshal([]byte(body), &a), body)
	return a
}

func TestSearchRoutes(t *testing.T) {
	hs, ids := newSearchHarness(t)
	viewer := hs.as(auth.Viewer)

	w := viewer.do(http.MethodGet, "/api/v1/search?text=red+top+black+trousers+backpack+heading+north+between+13:50+and+14:30", "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	a := decodeSearch(t, w.Body.String())
	require.Len(t, a.Hits, 1)
	require.Equal(t, ids[0], a.Hits[0].ID)
	require.Equal(t, []string{"upper:red", "lower:black", "carried:backpack", "heading:north"}, a.Hits[0].Matched)
	require.Equal(t, []string{"red"}, a.Hits[0].Appearance.Upper)
	require.Empty(t, a.Unknown)

	// The form's JSON; partial matches allowed; a word not understood.
	w = viewer.do(http.MethodPost, "/api/v1/search", `{"text":"man in tartan","upper":["red"],"lower":["black"],"carried":["backpack"],"min_match":0.6}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	a = decodeSearch(t, w.Body.String())
	require.Len(t, a.Hits, 2)
	require.Equal(t, []string{"tartan"}, a.Unknown)

	// More like this: the same person on the other camera comes first.
	w = viewer.do(http.MethodGet, "/api/v1/search?like="+itoa(ids[0])+"&classes=person", "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	a = decodeSearch(t, w.Body.String())
	require.Equal(t, []int64{ids[0], ids[1], ids[2]}, []int64{a.Hits[0].ID, a.Hits[1].ID, a.Hits[2].ID})
	require.Greater(t, a.Hits[1].Similarity, 0.9)

	// A track's view: its path, appearance and other sightings.
	w = viewer.do(http.MethodGet, "/api/v1/tracks/"+itoa(ids[0]), "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var tv struct {
		Track   store.TrackSummary   `json:"track"`
		Similar []struct{ ID int64 } `json:"similar"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &tv))
	require.Len(t, tv.Track.Path, 1)
	require.Equal(t, ids[1], tv.Similar[0].ID)
	w = viewer.do(http.MethodGet, "/api/v1/tracks/"+itoa(ids[0])+"/thumb.jpg", "")
	require.Equal(t, http.StatusOK, w.Code)
	require.Equal(t, "image/jpeg", w.Header().Get("Content-Type"))
	require.Equal(t, http.StatusNotFound, viewer.do(http.MethodGet, "/api/v1/tracks/"+itoa(ids[2])+"/thumb.jpg", "").Code)
	// Without a vector, the other sightings are those with the same colours.
	w = viewer.do(http.MethodGet, "/api/v1/tracks/"+itoa(ids[3]), "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &tv))
	require.Empty(t, tv.Similar, "the only white car")
	require.Equal(t, http.StatusNotFound, viewer.do(http.MethodGet, "/api/v1/tracks/999/thumb.jpg", "").Code)

	// Bad input.
	for _, path := range []string{"/api/v1/search?upper=tartan", "/api/v1/search?limit=0", "/api/v1/search?since=yesterday",
		"/api/v1/search?text=" + strings.Repeat("a", search.MaxTextLen+1)} {
		require.Equal(t, http.StatusBadRequest, viewer.do(http.MethodGet, path, "").Code, path)
	}
	require.Equal(t, http.StatusNotFound, viewer.do(http.MethodGet, "/api/v1/search?like=999", "").Code)
	big := `{"text":"` + strings.Repeat(" ", maxSearchBody) + `"}`
	require.Equal(t, http.StatusRequestEntityTooLarge, viewer.do(http.MethodPost, "/api/v1/search", big).Code)
	require.Equal(t, http.StatusUnauthorized, hs.as(auth.Public).do(http.MethodGet, "/api/v1/search", "").Code)
}

// fakeRecordings holds video of cam1 only, from 14:00 to 14:30.
type fakeRecordings struct {
	asked [][2]time.Time
}

var recorded = [2]time.Time{time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC), time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC)}

func (f *fakeRecordings) HasVideo(camera string, from, to time.Time) bool {
	return camera == "cam1" && !from.After(recorded[1]) && !to.Before(recorded[0])
}

func (f *fakeRecordings) Video(_ context.Context, camera string, from, to time.Time) ([]byte, error) {
	f.asked = append(f.asked, [2]time.Time{from, to})
	if !f.HasVideo(camera, from, to) {
		return nil, fmt.Errorf("camera %s has no recording: %w", camera, store.ErrNotFound)
	}
	return []byte("....ftyp-video-bytes"), nil
}

// A track whose camera's recording spans it links its video, served with
// 2 s either side and byte ranges; one without says why it has none.
func TestTrackVideo(t *testing.T) {
	rec := &fakeRecordings{}
	hs, ids := newSearchHarnessWith(t, rec)
	viewer := hs.as(auth.Viewer)
	type view struct {
		Video string `json:"video"`
	}
	v := readJSON[view](t, viewer.do(http.MethodGet, "/api/v1/tracks/"+itoa(ids[0]), ""), http.StatusOK)
	require.Equal(t, "/api/v1/tracks/"+itoa(ids[0])+"/video.mp4", v.Video)
	w := viewer.do(http.MethodGet, v.Video, "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Equal(t, "video/mp4", w.Header().Get("Content-Type"))
	require.Equal(t, "....ftyp-video-bytes", w.Body.String())
	require.Equal(t, [2]time.Time{recorded[0].Add(-2 * time.Second), recorded[0].Add(time.Minute + 2*time.Second)}, rec.asked[0])

	req := httptest.NewRequest(http.MethodGet, v.Video, nil)
	req.Header.Set("Range", "bytes=4-7")
	w = hs.as(auth.Viewer).serve(req)
	require.Equal(t, http.StatusPartialContent, w.Code)
	require.Equal(t, "ftyp", w.Body.String())

	// cam2 is not recorded; the 14:40 track on cam1 is past the recording.
	for _, id := range []int64{ids[1], ids[2]} {
		v = readJSON[view](t, viewer.do(http.MethodGet, "/api/v1/tracks/"+itoa(id), ""), http.StatusOK)
		require.Empty(t, v.Video)
		w = viewer.do(http.MethodGet, "/api/v1/tracks/"+itoa(id)+"/video.mp4", "")
		require.Equal(t, http.StatusNotFound, w.Code)
		require.Contains(t, w.Body.String(), "has no recorded video")
	}
	require.Equal(t, http.StatusUnauthorized, hs.as(auth.Public).do(http.MethodGet, "/api/v1/tracks/"+itoa(ids[0])+"/video.mp4", "").Code)
	require.Equal(t, http.StatusBadRequest, viewer.do(http.MethodGet, "/api/v1/tracks/x/video.mp4", "").Code)

	// Without recordings the route says so.
	off, ids := newSearchHarness(t)
	require.Equal(t, http.StatusServiceUnavailable, off.as(auth.Viewer).do(http.MethodGet, "/api/v1/tracks/"+itoa(ids[0])+"/video.mp4", "").Code)
}

func TestSearchUnavailable(t *testing.T) {
	hs := newHarness(t, Options{})
	require.Equal(t, http.StatusServiceUnavailable, hs.do(http.MethodGet, "/api/v1/search?text=red", "").Code)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestTrackViewListsTheAlertsItRaised: a track's view lists the alerts of
// its camera that name its track id and were raised while it was seen,
// with links only to the media on disk (its video is an alert's clip).
func TestTrackViewListsTheAlertsItRaised(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, ":memory:")
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	t0 := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
	st.Now = func() time.Time { return t0.Add(2 * time.Minute) }
	ids, err := st.AddTracks(ctx, []store.TrackSummary{{Camera: "cam1", TrackID: 7, Class: "person", Start: t0, End: t0.Add(time.Minute),
		Appearance: &search.Appearance{Upper: []string{"red"}}}})
	require.NoError(t, err)

	media := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(media, "a.jpg"), []byte{0xff, 0xd8, 0xff}, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(media, "a.mp4"), []byte("mp4"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(media, "b.jpg"), []byte{0xff, 0xd8, 0xff}, 0o600))
	ev := func(cam string, track int, at time.Duration, snap string) event.Event {
		return event.Event{Rule: "intrusion", Camera: cam, Tracks: []int{track}, At: t0.Add(at), Snapshot: snap, Severity: event.High}
	}
	var want []int64
	for i, e := range []event.Event{
		ev("cam1", 7, 30*time.Second, "a.jpg"), // snapshot and clip
		ev("cam1", 7, 2*time.Hour, "a.jpg"),    // raised long after the track
		ev("cam2", 7, 30*time.Second, "a.jpg"), // another camera's track 7
		ev("cam1", 8, 30*time.Second, "a.jpg"), // another track
		ev("cam1", 7, 40*time.Second, "b.jpg"), // snapshot, no clip yet
	} {
		id, err := st.AddAlert(ctx, e)
		require.NoError(t, err)
		if i == 0 || i == 4 {
			want = append(want, id)
		}
	}
	recs, err := st.SearchRecords(ctx, 0, 100)
	require.NoError(t, err)
	ix, err := search.Build(recs)
	require.NoError(t, err)
	hs := newHarnessWith(t, st, func(now func() time.Time) {}, newTestAuth(t, st), Options{})
	hs.h = New(Deps{Store: st, Auth: hs.auth.svc, Search: ix, Logger: newTestLogger(hs.logs)}, Options{MediaDir: media})
	w := hs.as(auth.Viewer).do(http.MethodGet, "/api/v1/tracks/"+itoa(ids[0]), "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var tv struct {
		Alerts []trackAlert `json:"alerts"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &tv))
	require.Len(t, tv.Alerts, 2, w.Body.String())
	got := map[int64]trackAlert{tv.Alerts[0].ID: tv.Alerts[0], tv.Alerts[1].ID: tv.Alerts[1]}
	require.Equal(t, "/api/v1/alerts/"+itoa(want[0])+"/clip", got[want[0]].Clip)
	require.Equal(t, "/api/v1/alerts/"+itoa(want[0])+"/snapshot", got[want[0]].Snapshot)
	require.Empty(t, got[want[1]].Clip, "no clip on disk: no link")
	require.NotEmpty(t, got[want[1]].Snapshot)
}

// TestPageAlertsStopsAtItsBound: pages are handed over newest first until
// the end, or until the bound is read, which is then said.
func TestPageAlertsStopsAtItsBound(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, ":memory:")
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	for range 5 {
		_, err := st.AddAlert(ctx, event.Event{Rule: "intrusion", Camera: "cam1", Severity: event.High})
		require.NoError(t, err)
	}
	for _, c := range []struct {
		max, read int
		truncated bool
	}{{4, 4, true}, {5, 5, false}, {10, 5, false}} {
		var ids []int64
		truncated, err := pageAlerts(ctx, st, store.AlertFilter{Limit: 2}, c.max, func(page []store.Alert) {
			for _, al := range page {
				ids = append(ids, al.ID)
			}
		})
		require.NoError(t, err)
		require.Equal(t, c.truncated, truncated, "max %d", c.max)
		require.Len(t, ids, c.read, "max %d", c.max)
		require.True(t, slices.IsSortedFunc(ids, func(a, b int64) int { return int(b - a) }), "newest first")
	}
}
