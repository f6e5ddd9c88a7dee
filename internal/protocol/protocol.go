// Package protocol holds alert protocols: which events become incidents in
// the operator's queue, at what priority, who is notified, which kind of
// unit is suggested, and when an unanswered incident escalates or a quiet
// one closes. Protocols are a YAML file (configs/protocols.yaml documents
// every field) that supervisors may also replace through the API; both go
// through Parse, whose errors name file:line:column and the field.
//
// Protocols are tried in file order and the first that matches an event
// decides for it: like a firewall, specific protocols go first. An event
// no protocol matches is stored and counted as an event, never queued.
package protocol

import (
	"slices"
	"time"

	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/scene"
)

// Version is the only protocol file version this build reads.
const Version = 1

// Priority orders queue items; an escalation raises it.
type Priority string

// Priorities, lowest first.
const (
	Low      Priority = "low"
	Medium   Priority = "medium"
	High     Priority = "high"
	Critical Priority = "critical"
)

var priorities = []Priority{Low, Medium, High, Critical}

// Rank is 1 (low) to 4 (critical), 0 for an unknown priority.
func (p Priority) Rank() int { return slices.Index(priorities, p) + 1 }

// Raise is the next priority up (critical stays critical).
func (p Priority) Raise() Priority {
	if r := p.Rank(); r > 0 && r < len(priorities) {
		return priorities[r]
	}
	return Critical
}

// FromSeverity is the priority of an event whose protocol names none.
func FromSeverity(s event.Severity) Priority {
	switch s {
	case event.Critical:
		return Critical
	case event.High:
		return High
	case event.Medium:
		return Medium
	}
	return Low
}

// Unit is a kind of responding unit an incident suggests.
type Unit string

// Unit types.
const (
	Police   Unit = "police"
	Fire     Unit = "fire"
	Medical  Unit = "medical"
	RoadCrew Unit = "road_crew"
)

// Units lists the unit types.
func Units() []Unit { return []Unit{Police, Fire, Medical, RoadCrew} }

// AnomalyRule is the rule type of learned-anomaly events; their Name is
// the anomaly kind.
const AnomalyRule = "anomaly"

// AnomalyKinds are the kinds a protocol may match: the track baseline's
// and the motion cue's.
var AnomalyKinds = []string{"class", "direction", "speed", "size", "dwell", "occupancy", "motion"}

// Set is a parsed protocol file.
type Set struct {
	// Groups names sets of cameras that protocols match as one.
	Groups map[string][]string
	// Schedules are weekly windows protocols may require.
	Schedules map[string]*scene.Schedule
	// EventNotify lists destinations every stored event is published to,
	// queued or not (e.g. an MQTT broker feeding a city dashboard).
	EventNotify []string
	Protocols   []*Protocol
}

// Protocol is one rule of the control room: a match and what to do.
type Protocol struct {
	Name  string
	Match Match
	// Queue is false for protocols that keep matching events out of the
	// queue (they are still stored, counted and searchable).
	Queue bool
	// Priority of the queue item; "" takes it from the event's severity.
	Priority Priority
	// Unit is the suggested responding unit type, "" for none.
	Unit Unit
	// Notify lists destinations told when an incident opens and changes.
	Notify []string
	// GroupWindow: an event joins an open incident of the same camera,
	// rule and place whose last event is at most this old.
	GroupWindow time.Duration
	// Cooldown: at most one new incident per situation (camera, rule,
	// place) this often; events in between join the last incident while
	// it is open and are otherwise stored as events only.
	Cooldown time.Duration
	// Escalate, when set, raises an incident still new after After.
	Escalate *Escalation
	// AutoClose closes an incident with no new event for this long while
	// no unit is out (new, acknowledged, resolved, false alarm); 0: never.
	AutoClose time.Duration
}

// Escalation is what happens, once, to an unacknowledged incident.
type Escalation struct {
	After    time.Duration
	Priority Priority // "" raises the incident's priority by one step
	Notify   []string // a second set of destinations
}

// Match selects events; an empty list matches anything.
type Match struct {
	Cameras    []string         // camera ids
	Groups     []string         // camera group names (any camera of any group)
	Zones      []string         // the event's place: zone, line or lane name
	Rules      []string         // rule types (wrong_way, …, anomaly)
	Names      []string         // rule names from the scene (or anomaly kinds)
	Classes    []string         // object classes; "vehicle" and "carried" expand
	Anomalies  []string         // learned-anomaly kinds (rule anomaly, Name = kind)
	Severities []event.Severity // the event's severity is one of these
	// Schedule, when set, must be active at the event's wall time.
	Schedule *scene.Schedule

	classes detect.ClassSet
	cameras map[string]bool // Cameras plus every camera of Groups
}

// Matches reports whether ev, at the camera's wall time at, falls under m.
func (m *Match) Matches(ev event.Event, at time.Time) bool {
	switch {
	case len(m.cameras) > 0 && !m.cameras[ev.Camera],
		!in(m.Zones, ev.Place()),
		!in(m.Rules, ev.Rule),
		!in(m.Names, ev.Name),
		len(m.Anomalies) > 0 && (ev.Rule != AnomalyRule || !slices.Contains(m.Anomalies, ev.Name)),
		len(m.Severities) > 0 && !slices.Contains(m.Severities, ev.Severity),
		m.Schedule != nil && !m.Schedule.Active(at):
		return false
	}
	if len(m.classes) > 0 {
		c, ok := detect.ClassByName(ev.Class)
		return ok && m.classes[c]
	}
	return true
}

func in(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }

var severities = []event.Severity{event.Info, event.Low, event.Medium, event.High, event.Critical}

// Find returns the first protocol that matches ev at its wall time at,
// or nil: then the event is stored but not queued.
func (s *Set) Find(ev event.Event, at time.Time) *Protocol {
	for _, p := range s.Protocols {
		if p.Match.Matches(ev, at) {
			return p
		}
	}
	return nil
}

// PriorityFor is the queue priority of ev under p.
func (p *Protocol) PriorityFor(ev event.Event) Priority {
	if p.Priority != "" {
		return p.Priority
	}
	return FromSeverity(ev.Severity)
}

// Destinations lists every destination the set names, once each.
func (s *Set) Destinations() []string {
	var out []string
	add := func(names []string) {
		for _, n := range names {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	add(s.EventNotify)
	for _, p := range s.Protocols {
		add(p.Notify)
		if p.Escalate != nil {
			add(p.Escalate.Notify)
		}
	}
	return out
}

// DefaultYAML is the protocol set used when none is configured: line
// crossings (counts) and info events are events only; everything else is
// queued at its severity, grouped per camera, rule and place over 10
// minutes, and closed after 30 quiet minutes.
const DefaultYAML = `version: 1
protocols:
  - name: counts-are-events
    match: {rules: [line_crossing]}
    queue: false
  - name: info-is-events
    match: {severities: [info]}
    queue: false
  - name: queue-the-rest
    group_window: 10m
    auto_close: 30m
`

// Default parses DefaultYAML.
func Default() *Set {
	s, err := Parse([]byte(DefaultYAML), "default protocols", Options{})
	if err != nil {
		panic(err) // fixed text, covered by a test
	}
	return s
}
