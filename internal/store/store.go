// Package store keeps what Vigil must not lose: cameras, scene versions,
// alerts with their lifecycle, track summaries and time-bucketed counters.
// One interface, two implementations (SQLite for a single box, PostgreSQL
// for a city), both held to one conformance suite.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/search"
)

// ErrNotFound is returned when a record does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned for a duplicate key or an illegal state change.
var ErrConflict = errors.New("conflict")

// Camera is a configured source. URL may hold credentials: it is stored,
// but never logged or returned by the API (see Camera.Redacted in httpapi).
type Camera struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	URL     string    `json:"url"`
	Kind    string    `json:"kind"` // rtsp, onvif, file
	Enabled bool      `json:"enabled"`
	FPS     float64   `json:"fps"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// SceneVersion is one saved revision of a camera's scene file.
type SceneVersion struct {
	Camera  string    `json:"camera"`
	Version int       `json:"version"` // 1, 2, … per camera
	YAML    string    `json:"yaml"`
	Created time.Time `json:"created"`
	Author  string    `json:"author,omitempty"`
}

// AlertState is where an alert is in the operator workflow.
type AlertState string

// Alert lifecycle: new → acknowledged → confirmed | false_alarm → closed.
const (
	StateNew          AlertState = "new"
	StateAcknowledged AlertState = "acknowledged"
	StateConfirmed    AlertState = "confirmed"
	StateFalseAlarm   AlertState = "false_alarm"
	StateClosed       AlertState = "closed"
)

// Transition is one recorded state change.
type Transition struct {
	From AlertState `json:"from"`
	To   AlertState `json:"to"`
	By   string     `json:"by"`
	At   time.Time  `json:"at"`
	Note string     `json:"note,omitempty"`
}

// Alert is a stored event with its lifecycle. Created is the wall-clock
// time it was stored; the event itself carries frame times.
type Alert struct {
	ID      int64        `json:"id"`
	Event   event.Event  `json:"event"`
	State   AlertState   `json:"state"`
	Created time.Time    `json:"created"`
	Updated time.Time    `json:"updated"`
	History []Transition `json:"history,omitempty"`
}

// AlertFilter selects alerts; zero fields do not filter. Results are
// newest first (by ID); After is a cursor: only IDs below it.
type AlertFilter struct {
	Camera string
	Rule   string
	Class  string
	State  AlertState
	Since  time.Time // Created >= Since
	Until  time.Time // Created < Until
	After  int64     // cursor: ID < After
	Limit  int       // default 50, max 500
	// Cameras, when not nil, keeps only alerts of these cameras (an empty
	// list matches none): what a user limited to camera groups may see.
	Cameras []string
}

// TrackSummary is one finished track: where and when an object was seen.
type TrackSummary struct {
	// ID is the stored row's id (0 before it is stored).
	ID         int64              `json:"id,omitempty"`
	Camera     string             `json:"camera"`
	TrackID    int                `json:"track_id"`
	Class      string             `json:"class"`
	Start      time.Time          `json:"start"`
	End        time.Time          `json:"end"`
	Path       []event.PathPoint  `json:"path"` // simplified
	Attributes map[string]float64 `json:"attributes,omitempty"`
	// Appearance is what the track looked like (suspect search); nil
	// when it was not described.
	Appearance *search.Appearance `json:"appearance,omitempty"`
}

// SearchStore keeps what the suspect search needs; the SQL stores
// implement it beside Store.
type SearchStore interface {
	// AddTracks stores summaries (and their appearance) in one
	// transaction and returns their ids.
	AddTracks(ctx context.Context, ts []TrackSummary) ([]int64, error)
	// SearchRecords returns up to n described tracks with id > after, by
	// id: the pages the search index is built from.
	SearchRecords(ctx context.Context, after int64, n int) ([]search.Record, error)
	// GetTracks returns the tracks with these ids, with their appearance
	// (no thumbnail), in the order asked; missing ids are skipped.
	GetTracks(ctx context.Context, ids []int64) ([]TrackSummary, error)
	// TrackThumb returns the JPEG of a track's best crop (ErrNotFound).
	TrackThumb(ctx context.Context, id int64) ([]byte, error)
}

// Count is one time-bucketed counter (e.g. line crossings).
type Count struct {
	Camera    string    `json:"camera"`
	Name      string    `json:"name"` // line or zone
	Class     string    `json:"class"`
	Direction string    `json:"direction,omitempty"`
	Bucket    time.Time `json:"bucket"` // bucket start
	N         int64     `json:"n"`
}

// CountFilter selects counters over a time range.
type CountFilter struct {
	Camera string
	Name   string
	Since  time.Time
	Until  time.Time
}

// Suppression is a situation an operator dismissed as a false alarm: the
// same rule and class raising again within Radius pixels of (X, Y) on the
// same camera is not alerted until Expires.
type Suppression struct {
	ID      int64     `json:"id"`
	Camera  string    `json:"camera"`
	Rule    string    `json:"rule"`
	Name    string    `json:"name,omitempty"`
	Class   string    `json:"class,omitempty"`
	Place   string    `json:"place,omitempty"` // zone, line or lane
	X       float64   `json:"x"`
	Y       float64   `json:"y"`
	Radius  float64   `json:"radius"`
	AlertID int64     `json:"alert_id"`
	By      string    `json:"by"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
}

// VerdictFilter selects verdicts by when they were given.
type VerdictFilter struct {
	Camera string
	Since  time.Time
	Until  time.Time
}

// VerdictCount is one day's verdicts on one rule of one camera.
type VerdictCount struct {
	Camera     string    `json:"camera"`
	Rule       string    `json:"rule"`
	Name       string    `json:"name,omitempty"`
	Day        time.Time `json:"day"`
	Confirmed  int       `json:"confirmed"`
	FalseAlarm int       `json:"false_alarm"`
}

// Store is implemented by sqlite.Store and postgres.Store.
type Store interface {
	PutCamera(ctx context.Context, c Camera) error // insert or update by ID
	GetCamera(ctx context.Context, id string) (Camera, error)
	ListCameras(ctx context.Context) ([]Camera, error)
	DeleteCamera(ctx context.Context, id string) error

	// SaveScene appends a new version and returns its number.
	SaveScene(ctx context.Context, camera, yaml, author string) (int, error)
	// LatestScene returns the newest version (ErrNotFound when none).
	LatestScene(ctx context.Context, camera string) (SceneVersion, error)
	SceneVersions(ctx context.Context, camera string) ([]SceneVersion, error)

	// AddAlert stores a new alert (state new) and returns its ID; it is
	// durable when AddAlert returns.
	AddAlert(ctx context.Context, e event.Event) (int64, error)
	GetAlert(ctx context.Context, id int64) (Alert, error)
	ListAlerts(ctx context.Context, f AlertFilter) ([]Alert, error)
	// Transition moves an alert to a new state; illegal moves give
	// ErrConflict (see AllowedTransition).
	Transition(ctx context.Context, id int64, to AlertState, by, note string) (Alert, error)

	AddTrack(ctx context.Context, t TrackSummary) error
	ListTracks(ctx context.Context, camera string, since, until time.Time, limit int) ([]TrackSummary, error)

	// AddCounts adds N to each counter (upsert).
	AddCounts(ctx context.Context, cs []Count) error
	ListCounts(ctx context.Context, f CountFilter) ([]Count, error)

	// PutBaseline replaces a camera's learned baseline; GetBaseline
	// returns it with when it was saved (ErrNotFound when none).
	PutBaseline(ctx context.Context, camera string, data []byte) error
	GetBaseline(ctx context.Context, camera string) ([]byte, time.Time, error)

	// AddSuppression records a dismissed situation and returns its ID.
	AddSuppression(ctx context.Context, s Suppression) (int64, error)
	// ListSuppressions returns a camera's suppressions (all cameras when
	// camera is empty) that have not expired at now, oldest first.
	ListSuppressions(ctx context.Context, camera string, now time.Time) ([]Suppression, error)
	// DeleteSuppression removes one (ErrNotFound when absent).
	DeleteSuppression(ctx context.Context, id int64) error

	// Verdicts returns, per camera, rule, rule name and UTC day, how many
	// alerts operators confirmed or dismissed in [Since, Until).
	Verdicts(ctx context.Context, f VerdictFilter) ([]VerdictCount, error)

	Close() error
}

// AllowedTransition encodes the alert lifecycle.
func AllowedTransition(from, to AlertState) bool {
	switch from {
	case StateNew:
		return to == StateAcknowledged || to == StateConfirmed || to == StateFalseAlarm || to == StateClosed
	case StateAcknowledged:
		return to == StateConfirmed || to == StateFalseAlarm || to == StateClosed
	case StateConfirmed, StateFalseAlarm:
		return to == StateClosed
	}
	return false
}
