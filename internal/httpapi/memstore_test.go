package httpapi

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/store"
)

// memStore is a small in-memory store.Store for the fuzz targets, with
// the interface's documented semantics (newest first, After cursor,
// default and maximum limit, lifecycle checks).
type memStore struct {
	mu     sync.Mutex
	now    func() time.Time
	cams   map[string]store.Camera
	scenes map[string][]store.SceneVersion
	alerts []store.Alert // by ID ascending; ID = index+1
	counts []store.Count
	blobs  map[string][]byte
	supps  []store.Suppression
}

func newMemStore() *memStore {
	return &memStore{now: time.Now, cams: map[string]store.Camera{}, scenes: map[string][]store.SceneVersion{}}
}

var _ store.Store = (*memStore)(nil)

func (m *memStore) setNow(now func() time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = now
}

func (m *memStore) PutCamera(_ context.Context, c store.Camera) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cams[c.ID] = c
	return nil
}

func (m *memStore) GetCamera(_ context.Context, id string) (store.Camera, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.cams[id]
	if !ok {
		return c, store.ErrNotFound
	}
	return c, nil
}

func (m *memStore) ListCameras(context.Context) ([]store.Camera, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.Camera
	for _, c := range m.cams {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b store.Camera) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func (m *memStore) DeleteCamera(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.cams[id]; !ok {
		return store.ErrNotFound
	}
	delete(m.cams, id)
	return nil
}

func (m *memStore) SaveScene(_ context.Context, camera, yaml, author string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := store.SceneVersion{Camera: camera, Version: len(m.scenes[camera]) + 1, YAML: yaml, Created: m.now(), Author: author}
	m.scenes[camera] = append(m.scenes[camera], v)
	return v.Version, nil
}

func (m *memStore) LatestScene(_ context.Context, camera string) (store.SceneVersion, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	vs := m.scenes[camera]
	if len(vs) == 0 {
		return store.SceneVersion{}, store.ErrNotFound
	}
	return vs[len(vs)-1], nil
}

func (m *memStore) SceneVersions(_ context.Context, camera string) ([]store.SceneVersion, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.scenes[camera]), nil
}

func (m *memStore) AddAlert(_ context.Context, e event.Event) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := int64(len(m.alerts) + 1)
	now := m.now()
	m.alerts = append(m.alerts, store.Alert{ID: id, Event: e, State: store.StateNew, Created: now, Updated: now})
	return id, nil
}

func (m *memStore) GetAlert(_ context.Context, id int64) (store.Alert, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id < 1 || id > int64(len(m.alerts)) {
		return store.Alert{}, store.ErrNotFound
	}
	return m.alerts[id-1], nil
}

func (m *memStore) ListAlerts(_ context.Context, f store.AlertFilter) ([]store.Alert, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	var out []store.Alert
	for i := len(m.alerts) - 1; i >= 0 && len(out) < limit; i-- {
		if al := m.alerts[i]; matches(al, f) {
			out = append(out, al)
		}
	}
	return out, nil
}

func matches(al store.Alert, f store.AlertFilter) bool {
	switch {
	case f.Camera != "" && al.Event.Camera != f.Camera,
		f.Rule != "" && al.Event.Rule != f.Rule,
		f.Class != "" && al.Event.Class != f.Class,
		f.State != "" && al.State != f.State,
		!f.Since.IsZero() && al.Created.Before(f.Since),
		!f.Until.IsZero() && !al.Created.Before(f.Until),
		f.After != 0 && al.ID >= f.After,
		f.Cameras != nil && !slices.Contains(f.Cameras, al.Event.Camera):
		return false
	}
	return true
}

func (m *memStore) Transition(_ context.Context, id int64, to store.AlertState, by, note string) (store.Alert, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id < 1 || id > int64(len(m.alerts)) {
		return store.Alert{}, store.ErrNotFound
	}
	al := &m.alerts[id-1]
	if !store.AllowedTransition(al.State, to) {
		return store.Alert{}, store.ErrConflict
	}
	now := m.now()
	al.History = append(al.History, store.Transition{From: al.State, To: to, By: by, At: now, Note: note})
	al.State, al.Updated = to, now
	return *al, nil
}

func (m *memStore) AddTrack(context.Context, store.TrackSummary) error { return nil }

func (m *memStore) ListTracks(context.Context, string, time.Time, time.Time, int) ([]store.TrackSummary, error) {
	return nil, nil
}

func (m *memStore) AddCounts(_ context.Context, cs []store.Count) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counts = append(m.counts, cs...)
	return nil
}

func (m *memStore) ListCounts(_ context.Context, f store.CountFilter) ([]store.Count, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.Count
	for _, c := range m.counts {
		if (f.Camera == "" || c.Camera == f.Camera) && (f.Name == "" || c.Name == f.Name) &&
			!c.Bucket.Before(f.Since) && c.Bucket.Before(f.Until) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (m *memStore) PutBaseline(_ context.Context, camera string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.blobs == nil {
		m.blobs = map[string][]byte{}
	}
	m.blobs[camera] = slices.Clone(data)
	return nil
}

func (m *memStore) GetBaseline(_ context.Context, camera string) ([]byte, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.blobs[camera]
	if !ok {
		return nil, time.Time{}, store.ErrNotFound
	}
	return b, m.now(), nil
}

func (m *memStore) AddSuppression(_ context.Context, s store.Suppression) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s.ID, s.Created = int64(len(m.supps)+1), m.now()
	m.supps = append(m.supps, s)
	return s.ID, nil
}

func (m *memStore) ListSuppressions(_ context.Context, camera string, now time.Time) ([]store.Suppression, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.Suppression
	for _, s := range m.supps {
		if s.ID > 0 && (camera == "" || s.Camera == camera) && s.Expires.After(now) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (m *memStore) DeleteSuppression(_ context.Context, id int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id < 1 || id > int64(len(m.supps)) || m.supps[id-1].ID == 0 {
		return store.ErrNotFound
	}
	m.supps[id-1].ID = 0
	return nil
}

func (m *memStore) Verdicts(_ context.Context, f store.VerdictFilter) ([]store.VerdictCount, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.VerdictCount
	for _, a := range m.alerts {
		for _, h := range a.History {
			if (f.Camera != "" && a.Event.Camera != f.Camera) || (h.To != store.StateConfirmed && h.To != store.StateFalseAlarm) {
				continue
			}
			v := store.VerdictCount{Camera: a.Event.Camera, Rule: a.Event.Rule, Name: a.Event.Name, Day: h.At.UTC().Truncate(24 * time.Hour)}
			if h.To == store.StateConfirmed {
				v.Confirmed = 1
			} else {
				v.FalseAlarm = 1
			}
			out = append(out, v)
		}
	}
	return out, nil
}

func (m *memStore) Close() error { return nil }
