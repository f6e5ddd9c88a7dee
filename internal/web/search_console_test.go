package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/attrs"
	"github.com/vigil-cctv/vigil/internal/auth"
	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/httpapi"
	"github.com/vigil-cctv/vigil/internal/incident"
	"github.com/vigil-cctv/vigil/internal/live"
	"github.com/vigil-cctv/vigil/internal/media/record"
	"github.com/vigil-cctv/vigil/internal/media/segring/segringtest"
	"github.com/vigil-cctv/vigil/internal/motfile"
	"github.com/vigil-cctv/vigil/internal/search"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
	"github.com/vigil-cctv/vigil/internal/track"
	"github.com/vigil-cctv/vigil/internal/web"
)

const (
	vtestAVI = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"
	petsGT   = "../../../shared/data/mot/PETS09-S2L1/gt.txt"
)

// describePETS describes each PETS09 identity as two sightings (the
// first and second half of its frames, track ids 10·id+1 and 10·id+2)
// with the attribute extractor over the real footage.
func describePETS(t *testing.T) []store.TrackSummary {
	rows, err := motfile.ReadFile(petsGT)
	require.NoError(t, err)
	frames := map[int][]motfile.Row{}
	span := map[int][2]int{}
	for _, r := range rows {
		frames[r.Frame] = append(frames[r.Frame], r)
		s, ok := span[r.ID]
		if !ok {
			s = [2]int{r.Frame, r.Frame}
		}
		span[r.ID] = [2]int{min(s[0], r.Frame), max(s[1], r.Frame)}
	}
	half := func(r motfile.Row) int {
		if s := span[r.ID]; r.Frame <= (s[0]+s[1])/2 {
			return 10*r.ID + 1
		}
		return 10*r.ID + 2
	}
	src, err := decode.Open(context.Background(), vtestAVI, decode.Options{})
	require.NoError(t, err)
	ch, err := src.Start(context.Background())
	require.NoError(t, err)
	col := attrs.New(attrs.Config{})
	t0 := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
	sums := map[int]*store.TrackSummary{}
	for f := range ch {
		var tracks []track.Track
		var dets []detect.Detection
		for _, r := range frames[f.Index+1] {
			id := half(r)
			tracks = append(tracks, track.Track{ID: id, Class: detect.Person, Box: r.Box, DetIndex: len(dets)})
			dets = append(dets, detect.Detection{Box: r.Box, Class: detect.Person, Score: 1})
			s := sums[id]
			if s == nil {
				s = &store.TrackSummary{Camera: "pets", TrackID: id, Class: "person", Start: t0.Add(f.PTS)}
				sums[id] = s
			}
			s.End = t0.Add(f.PTS)
			if f.Index%10 == 0 {
				foot := r.Box.Foot()
				s.Path = append(s.Path, event.PathPoint{PTS: f.PTS.Seconds(), Image: [2]float64{foot.X, foot.Y}})
			}
		}
		col.Observe(f, tracks, dets)
	}
	require.NoError(t, src.Wait())
	var out []store.TrackSummary
	for _, id := range slices.Sorted(func(yield func(int) bool) {
		for id := range sums {
			if !yield(id) {
				return
			}
		}
	}) {
		a, ok := col.End(id)
		require.True(t, ok)
		s := sums[id]
		s.Appearance = &a
		out = append(out, *s)
	}
	return out
}

// TestConsoleSearchFindsPETSIdentity: in a real browser, a viewer types
// the colours of a known PETS09 identity (id 6: red jacket, jeans), finds
// one of its sightings among the thumbnails, opens it and sees its other
// sighting listed.
func TestConsoleSearchFindsPETSIdentity(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes vtest.avi and drives a browser")
	}
	for _, p := range []string{vtestAVI, petsGT} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("%s missing; run make setup", p)
		}
	}
	browserCtx, problems := browser(t)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "vigil.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	accounts := auth.New(st, auth.Options{Params: fast})
	_, err = accounts.CreateUser(ctx, auth.Actor{Name: "setup", Via: auth.ViaSystem, Addr: "local"},
		auth.NewUser{Name: "vera", Role: auth.Viewer, Password: password})
	require.NoError(t, err)
	require.NoError(t, st.PutCamera(ctx, store.Camera{ID: "pets", Name: "PETS09 view 1", URL: "/x.avi", Kind: "file", Enabled: true}))
	sums := describePETS(t)
	ids, err := st.AddTracks(ctx, sums)
	require.NoError(t, err)
	byTrack := map[int]int64{}
	for i, s := range sums {
		byTrack[s.TrackID] = ids[i]
	}
	recs, err := st.SearchRecords(ctx, 0, 1000)
	require.NoError(t, err)
	ix, err := search.Build(recs)
	require.NoError(t, err)
	// Identity 6's sightings each raised an alert (stored before the
	// server runs: the store's clock is set for it).
	alerts := map[int64]int64{}
	for _, tr := range []int{61, 62} {
		alerts[byTrack[tr]] = raiseFor(t, st, sums, ids, byTrack[tr])
	}
	f := newFrames(t)
	api := httpapi.New(httpapi.Deps{Store: st, Cameras: cameras{}, Broker: live.NewBroker[httpapi.Message](0), Auth: accounts,
		Snapshots: f, Live: f, Search: ix, Incidents: incident.NewEngine(st, nil, "", incident.Options{}), Outbox: st,
		Recordings: recordSightings(t, sums, 61, 62)}, httpapi.Options{})
	mux := http.NewServeMux()
	mux.Handle("/api/", api)
	mux.Handle("/", web.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() }) // the browser may still hold the event stream
	c := &console{st: st, url: srv.URL, clock: &clock{t: time.Now()}, shots: filepath.Join("..", "..", "out", "console-screenshots")}
	require.NoError(t, os.MkdirAll(c.shots, 0o755))
	bctx, cancel := context.WithTimeout(browserCtx, 3*time.Minute)
	defer cancel()

	login(t, bctx, c, "vera")
	run(t, bctx, chromedp.Navigate(c.url+"/#/search"), chromedp.WaitVisible(`input[name="text"]`),
		setValue(`input[name="text"]`, "red top blue trousers"), chromedp.Click(`form.search-form button[type="submit"]`),
		chromedp.WaitVisible(`.search-hits li[data-track]`))
	found := eval[[]int64](t, bctx, `[...document.querySelectorAll('.search-hits li[data-track]')].map(li => Number(li.dataset.track))`)
	a, b := byTrack[61], byTrack[62]
	require.True(t, slices.Contains(found, a) || slices.Contains(found, b), "identity 6 found among %v", found)
	first, other := a, b
	if !slices.Contains(found, a) {
		first, other = b, a
	}
	require.True(t, eval[bool](t, bctx, fmt.Sprintf(`!!document.querySelector('li[data-track="%d"] .chip.matched')`, first)),
		"the matched colours are marked")
	c.shot(t, bctx, "20-search-results")
	run(t, bctx, chromedp.Click(fmt.Sprintf(`li[data-track="%d"] a`, first)), chromedp.WaitVisible(`.search-track img`),
		poll(fmt.Sprintf(`!!document.querySelector('.search-hits li[data-track="%d"]')`, other)),
		poll(fmt.Sprintf(`!!document.querySelector('a[href="#/alert/%d"]')`, alerts[first])),
		poll(`document.querySelector('video[aria-label="video of the track"]').readyState >= 1`))
	c.shot(t, bctx, "21-search-track")
	require.Empty(t, unexpected(problems()))
}

// recordSightings records 8 s of H.264 video (vtest.avi, as a camera would
// send it) from the start of each of the given tracks into a real
// recording: the track view plays its cut.
func recordSightings(t *testing.T, sums []store.TrackSummary, tracks ...int) httpapi.Recordings {
	aus := segringtest.Pictures(t)
	rec, err := record.Open(t.TempDir(), record.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { rec.Close() })
	for _, s := range sums {
		if !slices.Contains(tracks, s.TrackID) {
			continue
		}
		for i := 0; i < len(aus); i += 25 { // a key picture every 25
			g := record.GOP{Start: s.Start.Add(aus[i].DTS)}
			for _, au := range aus[i:min(i+25, len(aus))] {
				au.PTS -= aus[i].DTS
				au.DTS -= aus[i].DTS
				g.AUs = append(g.AUs, au)
			}
			require.NoError(t, rec.Write(g))
		}
	}
	return recording{rec}
}

// recording serves one camera's recording to the API.
type recording struct{ rec *record.Recorder }

func (r recording) HasVideo(camera string, from, to time.Time) bool {
	return camera == "pets" && r.rec.Covers(from, to)
}

func (r recording) Video(_ context.Context, _ string, from, to time.Time) ([]byte, error) {
	c, err := r.rec.Clip(from, to)
	return c.MP4, err
}

// raiseFor stores an alert that names the track stored as row id, raised
// in the middle of its span and stored a second later, as a camera's rule
// would: the track view lists it. It sets the store's clock, so it runs
// before anything else uses the store.
func raiseFor(t *testing.T, st *sqlite.Store, sums []store.TrackSummary, ids []int64, id int64) int64 {
	t.Helper()
	i := slices.Index(ids, id)
	require.GreaterOrEqual(t, i, 0)
	s := sums[i]
	at := s.Start.Add(s.End.Sub(s.Start) / 2)
	now := st.Now
	st.Now = func() time.Time { return at.Add(time.Second) }
	defer func() { st.Now = now }()
	alert, err := st.AddAlert(context.Background(), event.Event{Rule: "intrusion", Camera: s.Camera, Tracks: []int{s.TrackID},
		Class: "person", At: at, Severity: event.High, Explanation: "entered the lawn"})
	require.NoError(t, err)
	return alert
}
