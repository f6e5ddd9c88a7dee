// Package suppress turns operators' verdicts on scene-rule alerts into
// behaviour: a situation dismissed as a false alarm (the same parked car,
// the same shadow at the same spot) is suppressed for a while, so the
// next track there does not raise the same alert again; confirming an
// alert lifts any suppression that would have hidden it. Anomaly alerts
// are handled by the baseline model itself (internal/baseline), which also
// moves its thresholds with verdicts.
//
// Suppressions live in the store, so they survive restarts and an
// operator can list and lift them through the API. Expiry is wall-clock
// time: verdicts are human, wall-clock events, unlike everything the
// pipeline decides on frame time.
package suppress

import (
	"math"
	"slices"
	"sync"
	"time"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/store"
)

// Defaults for suppressions.
const (
	DefaultTTL = 24 * time.Hour
	// DefaultRadiusFrac is the match radius as a share of the frame
	// diagonal: a parked car jitters by a few pixels between tracks; a
	// car one bay over is several percent of the view away.
	DefaultRadiusFrac = 0.04
)

// Position is where an alert happened in the image: its last path point.
// Alerts without a path (frame-level rules such as crowd) have none and
// are matched by place alone.
func Position(ev event.Event) (x, y float64, ok bool) {
	if n := len(ev.Path); n > 0 {
		p := ev.Path[n-1].Image
		return p[0], p[1], true
	}
	return 0, 0, false
}

// FromAlert is the suppression recorded when alert a is dismissed: radius
// in pixels (0 for alerts without a path), expiring ttl after now.
func FromAlert(a store.Alert, by string, radius float64, ttl time.Duration, now time.Time) store.Suppression {
	ev := a.Event
	s := store.Suppression{Camera: ev.Camera, Rule: ev.Rule, Name: ev.Name, Class: ev.Class, Place: ev.Place(),
		AlertID: a.ID, By: by, Created: now, Expires: now.Add(ttl)}
	if x, y, ok := Position(ev); ok {
		s.X, s.Y, s.Radius = x, y, radius
	}
	return s
}

// Covers reports whether suppression s applies to ev: same camera, rule,
// rule name, class and place, and (when s has a radius) within it.
func Covers(s store.Suppression, ev event.Event) bool {
	if s.Camera != ev.Camera || s.Rule != ev.Rule || s.Name != ev.Name || s.Class != ev.Class || s.Place != ev.Place() {
		return false
	}
	if s.Radius <= 0 {
		return true
	}
	x, y, ok := Position(ev)
	return ok && math.Hypot(x-s.X, y-s.Y) <= s.Radius
}

// Set is the suppressions in force, safe for concurrent use: cameras
// match alerts against it while the API adds and removes entries.
type Set struct {
	mu   sync.Mutex
	list []store.Suppression
}

// NewSet returns an empty set.
func NewSet() *Set { return &Set{} }

// Replace sets the whole list, e.g. as loaded from the store.
func (s *Set) Replace(list []store.Suppression) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = slices.Clone(list)
}

// Add puts one suppression in force, replacing one with the same ID (a
// cluster node sees its own suppressions again from the config bucket).
func (s *Set) Add(sup store.Suppression) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = slices.DeleteFunc(s.list, func(x store.Suppression) bool { return x.ID == sup.ID })
	s.list = append(s.list, sup)
}

// Remove lifts suppression id.
func (s *Set) Remove(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = slices.DeleteFunc(s.list, func(x store.Suppression) bool { return x.ID == id })
}

// Match returns the id of a suppression covering ev that has not expired
// at at (the camera clock's time of the event). A nil Set matches nothing.
func (s *Set) Match(ev event.Event, at time.Time) (int64, bool) {
	if s == nil {
		return 0, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.list {
		if x.Expires.After(at) && Covers(x, ev) {
			return x.ID, true
		}
	}
	return 0, false
}

// Prune drops the suppressions expired at now. Match ignores them anyway;
// pruning only keeps the set small.
func (s *Set) Prune(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = slices.DeleteFunc(s.list, func(x store.Suppression) bool { return !x.Expires.After(now) })
}

// Covering returns the IDs of the suppressions that cover ev: those a
// confirmation of ev must lift so that the situation keeps alerting.
func (s *Set) Covering(ev event.Event) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []int64
	for _, x := range s.list {
		if Covers(x, ev) {
			ids = append(ids, x.ID)
		}
	}
	return ids
}

// Len is the number of suppressions held (expired ones included until the
// next Prune).
func (s *Set) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.list)
}
