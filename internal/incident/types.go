package incident

import (
	"context"
	"time"

	"github.com/vigil-cctv/vigil/internal/deliver"
	"github.com/vigil-cctv/vigil/internal/event"
)

// State is where an incident is in the response.
type State string

// Incident lifecycle: new → acknowledged → dispatched → on_scene →
// resolved | false_alarm → closed (see Allowed for the shortcuts).
const (
	New          State = "new"
	Acknowledged State = "acknowledged"
	Dispatched   State = "dispatched"
	OnScene      State = "on_scene"
	Resolved     State = "resolved"
	FalseAlarm   State = "false_alarm"
	Closed       State = "closed"
)

// States lists the states in lifecycle order.
func States() []State {
	return []State{New, Acknowledged, Dispatched, OnScene, Resolved, FalseAlarm, Closed}
}

// Allowed encodes the lifecycle. An urgent incident may be dispatched
// without a separate acknowledgement (dispatching acknowledges it); a
// unit out may still find a false alarm; only a verdict or no unit ever
// sent lets an incident close.
func Allowed(from, to State) bool {
	switch from {
	case New:
		return to == Acknowledged || to == Dispatched || to == FalseAlarm || to == Closed
	case Acknowledged:
		return to == Dispatched || to == Resolved || to == FalseAlarm || to == Closed
	case Dispatched:
		return to == OnScene || to == Resolved || to == FalseAlarm
	case OnScene:
		return to == Resolved || to == FalseAlarm
	case Resolved, FalseAlarm:
		return to == Closed
	}
	return false
}

// Open reports whether new events may still join an incident in state s:
// until a verdict, an incident is the one thing the operator handles.
func (s State) Open() bool {
	return s == New || s == Acknowledged || s == Dispatched || s == OnScene
}

// System is the "by" of changes no person made: escalation, auto-close.
const System = "system"

// Incident is one queue item: related events grouped, with the response.
type Incident struct {
	ID       int64          `json:"id"`
	Camera   string         `json:"camera"`
	Rule     string         `json:"rule"`
	Name     string         `json:"name,omitempty"`
	Place    string         `json:"place,omitempty"`
	Class    string         `json:"class,omitempty"`
	Protocol string         `json:"protocol"`
	State    State          `json:"state"`
	Priority string         `json:"priority"`
	Severity event.Severity `json:"severity"` // the highest of its events
	Summary  string         `json:"summary"`  // the latest event's explanation
	// Unit is the unit type the protocol suggests; UnitType and UnitID are
	// the unit actually dispatched.
	Unit     string   `json:"unit,omitempty"`
	UnitType string   `json:"unit_type,omitempty"`
	UnitID   string   `json:"unit_id,omitempty"`
	Count    int      `json:"count"` // events grouped
	Tracks   []int    `json:"tracks,omitempty"`
	Notify   []string `json:"notify,omitempty"`
	// Best is the alert whose snapshot and clip show the incident (the
	// highest severity, the latest among equals); Latest the newest.
	Best   int64 `json:"best_event"`
	Latest int64 `json:"latest_event"`
	// Opened is the first event's wall time (camera clock), LastEvent the
	// latest's; Updated is when the row last changed.
	Opened    time.Time `json:"opened"`
	LastEvent time.Time `json:"last_event"`
	Updated   time.Time `json:"updated"`
	// Escalation: due at EscalateDue unless acknowledged; Escalated once.
	EscalateDue      time.Time     `json:"escalate_due,omitzero"`
	EscalatePriority string        `json:"escalate_priority,omitempty"`
	EscalateNotify   []string      `json:"escalate_notify,omitempty"`
	Escalated        time.Time     `json:"escalated,omitzero"`
	AutoClose        time.Duration `json:"auto_close,omitempty"`
	// When each step of the response happened.
	Acked      time.Time `json:"acknowledged_at,omitzero"`
	Dispatched time.Time `json:"dispatched_at,omitzero"`
	OnScene    time.Time `json:"on_scene_at,omitzero"`
	Resolved   time.Time `json:"resolved_at,omitzero"` // resolved or false alarm
	Closed     time.Time `json:"closed_at,omitzero"`

	// Filled by GetIncident and TransitionIncident only.
	Events  []EventRef   `json:"events,omitempty"`
	History []Transition `json:"history,omitempty"`
	// Judged lists, after a verdict, the grouped alerts it confirmed or
	// dismissed (those no one had judged yet); set by TransitionIncident.
	Judged []int64 `json:"-"`
}

// EventRef is one grouped event on the incident's timeline.
type EventRef struct {
	Alert       int64          `json:"alert"`
	At          time.Time      `json:"at"`
	Rule        string         `json:"rule"`
	Name        string         `json:"name,omitempty"`
	Severity    event.Severity `json:"severity"`
	Explanation string         `json:"explanation"`
	Tracks      []int          `json:"tracks,omitempty"`
	Snapshot    bool           `json:"snapshot"`
}

// Transition is one recorded state change.
type Transition struct {
	From     State     `json:"from"`
	To       State     `json:"to"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
	UnitType string    `json:"unit_type,omitempty"`
	UnitID   string    `json:"unit_id,omitempty"`
	Note     string    `json:"note,omitempty"`
}

// EventRecord is one event and what it does to the queue, written in one
// transaction: the event as an alert row, then (when Incident is set, or
// Decide returns one) a new incident (Incident.ID 0) or the event joined
// to Incident.ID, then the messages Messages builds once the ids are
// known.
type EventRecord struct {
	Event event.Event
	At    time.Time // the event's wall time (camera clock)
	// Key makes recording idempotent: a second record with the same
	// non-empty key stores nothing and returns the first one's ids.
	Key      string
	Incident *Incident
	// NewIsBest makes the new alert the incident's best evidence.
	NewIsBest bool
	// Decide, when set, replaces Incident and NewIsBest: the store calls
	// it inside the transaction, holding the lock on the event's camera,
	// with the camera's grouping read under that lock, so that processes
	// sharing the store decide one camera's events one at a time on what
	// the others committed.
	Decide   func(Grouping) (inc *Incident, newIsBest bool)
	Messages func(alertID int64, inc *Incident) []deliver.Message
}

// Recorded is what RecordEvents did with one record.
type Recorded struct {
	Alert    int64
	Incident *Incident
	// Existed says the record's key was stored before (a redelivery):
	// nothing new was written for it.
	Existed bool
}

// Grouping is what deciding an event's incident reads: the camera's
// incidents that events may still join, and the latest incident of the
// event's situation (its rule, name and place) for the cooldown.
type Grouping struct {
	Open   []Incident // states New … OnScene, newest (highest id) first
	Latest *Incident  // in any state; nil when the situation had none
}

// TransitionRecord is one state change and the messages announcing it.
type TransitionRecord struct {
	ID       int64
	From, To State
	By       string
	At       time.Time
	UnitType string
	UnitID   string
	Note     string
	// Quiet, when set, makes the move conditional on the incident's last
	// event still being at Quiet (an auto-close read the incident quiet;
	// an event that joined since keeps it open): otherwise ErrConflict.
	Quiet    time.Time
	Messages func(inc Incident) []deliver.Message
}

// Filter selects incidents, newest (highest id) first; After is a cursor.
type Filter struct {
	Camera   string
	Rule     string
	States   []State // any of these; empty: all
	Priority string
	Since    time.Time // Opened >= Since
	Until    time.Time // Opened < Until
	After    int64
	Limit    int // default 50, max 500
}

// Store keeps incidents. *sqlstore.DB implements it for SQLite and
// PostgreSQL; it also implements deliver.Store over the same outbox.
type Store interface {
	// RecordEvents writes rs in one transaction, in order (a record sees
	// the incidents the ones before it opened), and returns what each
	// stored: its alert id and, when r.Incident is set (or r.Decide
	// returns one), the incident as stored. Recording, transitions and
	// escalations of one camera's incidents are serialised across every
	// process sharing the store. On error nothing was stored.
	RecordEvents(ctx context.Context, rs []EventRecord) ([]Recorded, error)
	// TransitionIncident moves an incident from r.From to r.To (an error
	// wrapping store.ErrConflict when it is no longer in r.From), records
	// who and when, sets the step's time, and, on a verdict (resolved,
	// false alarm), moves its undecided alerts to confirmed or
	// false_alarm. Returns the incident with its history.
	TransitionIncident(ctx context.Context, r TransitionRecord) (Incident, error)
	// EscalateIncident marks an incident escalated at at with priority,
	// only if it is still new and not yet escalated; ok is false when it
	// was not (someone acknowledged it, or another process escalated it).
	EscalateIncident(ctx context.Context, id int64, at time.Time, priority string, msgs func(Incident) []deliver.Message) (inc Incident, ok bool, err error)
	// GetIncident returns an incident with its events and history.
	GetIncident(ctx context.Context, id int64) (Incident, error)
	ListIncidents(ctx context.Context, f Filter) ([]Incident, error)
	// ActiveIncidents returns every incident not closed, oldest first.
	ActiveIncidents(ctx context.Context) ([]Incident, error)
	// SaveProtocols stores a protocol file as the next version.
	SaveProtocols(ctx context.Context, yaml, author string) (int, error)
	// LatestProtocols returns the newest saved version (an error wrapping
	// store.ErrNotFound when none was saved).
	LatestProtocols(ctx context.Context) (ProtocolVersion, error)
}

// ProtocolVersion is one saved protocol file.
type ProtocolVersion struct {
	Version int       `json:"version"`
	YAML    string    `json:"yaml"`
	Author  string    `json:"author"`
	Created time.Time `json:"created"`
}
