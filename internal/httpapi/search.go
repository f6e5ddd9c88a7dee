package httpapi

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-cctv/vigil/internal/search"
	"github.com/vigil-cctv/vigil/internal/store"
)

// SearchIndex answers suspect searches (search.Index); the store, which
// must then implement store.SearchStore, gives the hits' details.
type SearchIndex interface {
	Search(q search.Query) (search.Result, error)
}

// maxSearchBody bounds a search request: a query is a few hundred bytes.
const maxSearchBody = 16 << 10

// similarSightings is how many other sightings a track's view lists.
const similarSightings = 12

// searchRequest is the body of POST /search: a text, a structured query
// (its fields at the top level), or both (merged).
type searchRequest struct {
	Text string `json:"text,omitempty"`
	search.Query
}

// searchHit is a hit with what the console shows of it.
type searchHit struct {
	search.Hit
	TrackID    int                `json:"track_id"`
	Appearance *search.Appearance `json:"appearance,omitempty"`
	Thumb      string             `json:"thumb"`
}

func (a *api) searchGet(w http.ResponseWriter, r *http.Request) error {
	req, err := searchFromQuery(r.URL.Query())
	if err != nil {
		return err
	}
	return a.runSearch(w, r, req)
}

func (a *api) searchPost(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxSearchBody)
	var req searchRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	return a.runSearch(w, r, req)
}

// searchDeps returns the index and the store's search side.
func (a *api) searchDeps() (SearchIndex, store.SearchStore, error) {
	ss, ok := a.deps.Store.(store.SearchStore)
	if a.deps.Search == nil || !ok {
		return nil, nil, unavailable("suspect search is not running")
	}
	return a.deps.Search, ss, nil
}

func (a *api) runSearch(w http.ResponseWriter, r *http.Request, req searchRequest) error {
	ix, ss, err := a.searchDeps()
	if err != nil {
		return err
	}
	q := req.Query
	var unknown []string
	if req.Text != "" {
		p, err := search.Parse(req.Text, a.opts.Now())
		if err != nil {
			return badRequest("%v", err)
		}
		q, unknown = q.Merge(p.Query), p.Unknown
	}
	if err := q.Validate(); err != nil {
		return badRequest("%v", err)
	}
	if q.LikeID != 0 {
		if _, err := a.visibleTrack(r.Context(), ss, q.LikeID); err != nil {
			return err
		}
	}
	hits, res, err := a.search(r.Context(), ix, ss, q)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"hits": hits, "filtered": res.Filtered, "ranked": res.Ranked,
		"query": q, "unknown": nonNil(unknown)})
	return nil
}

// search runs q on the cameras the principal may see and adds the hits'
// details from the store.
func (a *api) search(ctx context.Context, ix SearchIndex, ss store.SearchStore, q search.Query) ([]searchHit, search.Result, error) {
	if vis := visibleCameras(ctx); vis != nil {
		if len(q.Cameras) > 0 {
			vis = slices.DeleteFunc(slices.Clone(q.Cameras), func(c string) bool { return !slices.Contains(vis, c) })
		}
		if len(vis) == 0 {
			return []searchHit{}, search.Result{}, nil
		}
		q.Cameras = vis
	}
	res, err := ix.Search(q)
	if err != nil {
		return nil, res, badRequest("%v", err)
	}
	ids := make([]int64, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.ID
	}
	tracks, err := ss.GetTracks(ctx, ids)
	if err != nil {
		return nil, res, err
	}
	byID := map[int64]store.TrackSummary{}
	for _, t := range tracks {
		byID[t.ID] = t
	}
	out := make([]searchHit, 0, len(res.Hits))
	for _, h := range res.Hits {
		t := byID[h.ID]
		out = append(out, searchHit{Hit: h, TrackID: t.TrackID, Appearance: t.Appearance,
			Thumb: "/api/v1/tracks/" + strconv.FormatInt(h.ID, 10) + "/thumb.jpg"})
	}
	return out, res, nil
}

// searchFromQuery reads GET /search's parameters.
func searchFromQuery(v url.Values) (searchRequest, error) {
	var req searchRequest
	if len(v.Get("text")) > search.MaxTextLen {
		return req, badRequest("text is longer than %d bytes", search.MaxTextLen)
	}
	req.Text = v.Get("text")
	list := func(k string) []string {
		var out []string
		for _, s := range strings.Split(v.Get(k), ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	q := &req.Query
	q.Classes, q.Cameras, q.Zones = list("classes"), list("cameras"), list("zones")
	q.Upper, q.Lower, q.Colours, q.Carried = list("upper"), list("lower"), list("colours"), list("carried")
	q.Heading = v.Get("heading")
	var err error
	for _, f := range []struct {
		key string
		dst *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if s := v.Get(f.key); s != "" {
			if *f.dst, err = time.Parse(time.RFC3339, s); err != nil {
				return req, badRequest("%s must be an RFC 3339 time", f.key)
			}
		}
	}
	for _, f := range []struct {
		key string
		dst *float64
	}{{"min_match", &q.MinMatch}, {"min_height_m", &q.MinHeightM}, {"max_height_m", &q.MaxHeightM}} {
		if s := v.Get(f.key); s != "" {
			if *f.dst, err = strconv.ParseFloat(s, 64); err != nil {
				return req, badRequest("%s must be a number", f.key)
			}
		}
	}
	for _, f := range []struct {
		key string
		set func(int64)
	}{{"like", func(n int64) { q.LikeID = n }}, {"limit", func(n int64) { q.Limit = int(n) }}} {
		if s := v.Get(f.key); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 1 || n > 1<<53 {
				return req, badRequest("%s must be a positive integer", f.key)
			}
			f.set(n)
		}
	}
	return req, nil
}

// trackRowID reads the track's stored id from the path.
func trackRowID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, badRequest("track id must be a positive integer")
	}
	return id, nil
}

// pathTrack is the stored track the route's {id} names, when the user
// may see it.
func (a *api) pathTrack(r *http.Request, ss store.SearchStore) (store.TrackSummary, error) {
	id, err := trackRowID(r)
	if err != nil {
		return store.TrackSummary{}, err
	}
	return a.visibleTrack(r.Context(), ss, id)
}

// visibleTrack loads a stored track the principal may see.
func (a *api) visibleTrack(ctx context.Context, ss store.SearchStore, id int64) (store.TrackSummary, error) {
	ts, err := ss.GetTracks(ctx, []int64{id})
	if err != nil {
		return store.TrackSummary{}, err
	}
	if len(ts) == 0 || !canSee(ctx, ts[0].Camera) {
		return store.TrackSummary{}, notFound("track %d not found", id)
	}
	return ts[0], nil
}

// getTrack is one stored track (its path and appearance) with its other
// sightings: the tracks most like it, on every camera the user sees (by
// appearance vector; without one, those with its main colours).
func (a *api) getTrack(w http.ResponseWriter, r *http.Request) error {
	ix, ss, err := a.searchDeps()
	if err != nil {
		return err
	}
	t, err := a.pathTrack(r, ss)
	if err != nil {
		return err
	}
	id := t.ID
	similar := []searchHit{}
	if t.Appearance != nil {
		hits, _, err := a.search(r.Context(), ix, ss, search.Query{LikeID: id, Limit: similarSightings + 1})
		if err != nil { // no appearance vector: the same description
			hits, _, err = a.search(r.Context(), ix, ss, sameLook(t))
		}
		if err == nil {
			similar = slices.DeleteFunc(hits, func(h searchHit) bool { return h.ID == id })
		}
	}
	raised, err := a.trackAlerts(r.Context(), t)
	if err != nil {
		return err
	}
	base := "/api/v1/tracks/" + strconv.FormatInt(id, 10)
	body := map[string]any{"track": t, "thumb": base + "/thumb.jpg", "similar": similar, "alerts": raised}
	if rec := a.deps.Recordings; rec != nil && rec.HasVideo(t.Camera, t.Start.Add(-videoPad), t.End.Add(videoPad)) {
		body["video"] = base + "/video.mp4"
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// videoPad is the video kept before and after a track's span in its clip.
const videoPad = 2 * time.Second

// trackVideo is a track's video cut from its camera's recording (the
// recording limits how long a clip may be).
func (a *api) trackVideo(w http.ResponseWriter, r *http.Request) error {
	_, ss, err := a.searchDeps()
	if err != nil {
		return err
	}
	if a.deps.Recordings == nil {
		return unavailable("recordings are off (media.recording.off)")
	}
	t, err := a.pathTrack(r, ss)
	if err != nil {
		return err
	}
	mp4, err := a.deps.Recordings.Video(r.Context(), t.Camera, t.Start.Add(-videoPad), t.End.Add(videoPad))
	if errors.Is(err, store.ErrNotFound) {
		return notFound("track %d has no recorded video: %s", t.ID, err)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "video/mp4")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	// ServeContent answers the range requests browsers make to seek.
	http.ServeContent(w, r, "", t.End, bytes.NewReader(mp4))
	return nil
}

// trackAlert is an alert a track took part in, with its media links: a
// track's video is the clip of an alert it raised (Vigil records clips
// around alerts, not every track).
type trackAlert struct {
	ID       int64     `json:"id"`
	Rule     string    `json:"rule"`
	At       time.Time `json:"at"`
	Snapshot string    `json:"snapshot,omitempty"`
	Clip     string    `json:"clip,omitempty"`
}

// maxTrackAlerts bounds the work of one track view: at most this many of
// the camera's alerts stored around the track are read.
const maxTrackAlerts = 2000

// trackAlerts finds the alerts of t's camera that name t's track id and
// were raised while it was seen. Alerts are stored shortly after they are
// raised (a worker's spool may hold one back while the store is down), so
// the store is asked for those stored from a minute before t's start to an
// hour after its end, then each is checked on the camera clock.
func (a *api) trackAlerts(ctx context.Context, t store.TrackSummary) ([]trackAlert, error) {
	f := store.AlertFilter{Camera: t.Camera, Since: t.Start.Add(-time.Minute), Until: t.End.Add(time.Hour), Limit: 500}
	media := a.openMedia()
	if media != nil {
		defer media.Close()
	}
	out := []trackAlert{}
	_, err := pageAlerts(ctx, a.deps.Store, f, maxTrackAlerts, func(page []store.Alert) {
		for _, al := range page {
			ev := al.Event
			if !slices.Contains(ev.Tracks, t.TrackID) || ev.At.IsZero() ||
				ev.At.Before(t.Start.Add(-time.Second)) || ev.At.After(t.End.Add(time.Second)) {
				continue
			}
			ta := trackAlert{ID: al.ID, Rule: ev.Rule, At: ev.At}
			base := "/api/v1/alerts/" + strconv.FormatInt(al.ID, 10)
			if a.mediaExists(media, ev, "snapshot") {
				ta.Snapshot = base + "/snapshot"
			}
			if a.mediaExists(media, ev, "clip") {
				ta.Clip = base + "/clip"
			}
			out = append(out, ta)
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (a *api) trackThumb(w http.ResponseWriter, r *http.Request) error {
	_, ss, err := a.searchDeps()
	if err != nil {
		return err
	}
	t, err := a.pathTrack(r, ss)
	if err != nil {
		return err
	}
	jpg, err := ss.TrackThumb(r.Context(), t.ID)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "private, max-age=86400")
	_, _ = w.Write(jpg)
	return nil
}

// sameLook asks for tracks of t's class with its main colours: the other
// sightings of a track that has no appearance vector.
func sameLook(t store.TrackSummary) search.Query {
	a := t.Appearance
	q := search.Query{Classes: []string{t.Class}, Limit: similarSightings + 1}
	if len(a.Upper) > 0 {
		q.Upper = a.Upper[:1]
	}
	if len(a.Lower) > 0 {
		q.Lower = a.Lower[:1]
	}
	if len(a.Colours) > 0 {
		q.Colours = a.Colours[:1]
	}
	return q
}
