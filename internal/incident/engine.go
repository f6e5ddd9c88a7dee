package incident

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/vigil-cctv/vigil/internal/deliver"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/protocol"
)

// ErrInvalid wraps a request the engine refuses (an unknown unit type, a
// note too long); the API answers 400 with its message.
var ErrInvalid = errors.New("invalid")

// maxTracks bounds the track ids an incident remembers for grouping.
const maxTracks = 64

// Options tune the engine.
type Options struct {
	// OnChange is called after every committed incident change (opened,
	// joined, escalated, transitioned, closed), e.g. to publish it on the
	// event stream. It must not block.
	OnChange func(Incident)
	// Committed is called after every commit that enqueued messages, e.g.
	// the delivery worker's Notify. It must not block.
	Committed func()
	// Destination reports whether a destination name is configured; it
	// validates protocol files replaced through the API (nil: any name).
	Destination func(name string) bool
	Logger      *slog.Logger
}

// Engine decides, per event, whether it opens or joins an incident, and
// drives escalation and auto-close from Tick. It keeps no incident in
// memory: each decision reads the camera's incidents from the store,
// under the store's lock on the camera, so any number of engines (one per
// api node) may share one store; see the package documentation.
type Engine struct {
	store  Store
	o      Options
	protos atomic.Pointer[protocols]
	m      *metrics
}

type protocols struct {
	set     *protocol.Set
	yaml    string
	version int // the saved version in force (0: the config file's)
}

// NewEngine makes an engine over s with protocol set set (protocol.Default()
// when nil) whose source text is yaml.
func NewEngine(s Store, set *protocol.Set, yaml string, o Options) *Engine {
	if set == nil {
		set, yaml = protocol.Default(), protocol.DefaultYAML
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{store: s, o: o, m: newMetrics()}
	e.protos.Store(&protocols{set: set, yaml: yaml})
	return e
}

// SetProtocols replaces the protocol set; incidents already open keep
// what their protocol said when they opened. A file saved through the API
// (ReplaceProtocols on any engine of the store) wins again at the next
// Tick; SetProtocols is for sets no one saved (tests, evaluation).
func (e *Engine) SetProtocols(set *protocol.Set, yaml string) {
	e.protos.Store(&protocols{set: set, yaml: yaml})
}

// Protocols returns the protocol set in force and its source text.
func (e *Engine) Protocols() (*protocol.Set, string) {
	p := e.protos.Load()
	return p.set, p.yaml
}

// situation keys "the same thing happening at the same place" on a camera.
func situation(rule, name, place string) string { return rule + "\x00" + name + "\x00" + place }

// Result is what Handle did with an event.
type Result struct {
	Alert    int64     // the event's id (GET /api/v1/alerts/{id})
	Incident *Incident // nil when the event was not queued
	Opened   bool      // the event opened Incident (else it joined it)
	Protocol string    // the protocol that matched ("" none)
	// Existed says the event's ID was recorded before (a redelivery):
	// nothing changed, and Alert and Incident are what it got then.
	Existed bool
}

// Input is one event for HandleBatch: the event (its Camera set) and its
// wall time on the camera clock.
type Input struct {
	Event event.Event
	At    time.Time
}

// Handle stores ev (its Camera set) and, as the protocols say, opens an
// incident or joins it to one, with the messages to send, in one
// transaction. at is the event's wall time on the camera clock. On error
// nothing was stored and the caller should retry (with ev.ID set, a retry
// that races a commit it did not see is stored once).
func (e *Engine) Handle(ctx context.Context, ev event.Event, at time.Time) (Result, error) {
	res, err := e.HandleBatch(ctx, []Input{{Event: ev, At: at}})
	if err != nil {
		return Result{}, err
	}
	return res[0], nil
}

// HandleBatch is Handle for several events in one transaction, decided
// in order (an event may join the incident one before it opened): an api
// node writing a cluster's events commits a batch at once.
func (e *Engine) HandleBatch(ctx context.Context, in []Input) ([]Result, error) {
	set, _ := e.Protocols()
	decisions := make([]*decision, len(in))
	recs := make([]EventRecord, len(in))
	for i, x := range in {
		decisions[i] = &decision{ev: x.Event, at: x.At, set: set, p: set.Find(x.Event, x.At)}
		recs[i] = decisions[i].record()
	}
	stored, err := e.store.RecordEvents(ctx, recs)
	if err != nil {
		e.m.storeErrors.Inc()
		return nil, err
	}
	out := make([]Result, len(in))
	notify := false
	for i, d := range decisions {
		out[i] = d.result(stored[i])
		if !out[i].Existed {
			e.report(out[i], d.ev)
			notify = notify || len(set.EventNotify) > 0 || out[i].Opened
		}
	}
	if notify {
		e.committed()
	}
	return out, nil
}

// decision is one event's way through HandleBatch: the store calls its
// record's Decide and Messages inside the transaction.
type decision struct {
	ev     event.Event
	at     time.Time
	set    *protocol.Set
	p      *protocol.Protocol
	opened bool
}

func (d *decision) record() EventRecord {
	rec := EventRecord{Event: d.ev, At: d.at, Key: d.ev.ID}
	rec.Decide = func(g Grouping) (*Incident, bool) {
		d.opened = false
		if d.p == nil || !d.p.Queue {
			return nil, false
		}
		if target := join(g, d.ev, d.at, d.p); target != nil {
			next := *target
			return &next, grow(&next, d.ev, d.at)
		}
		if coolingDown(g, d.at, d.p) {
			return nil, false
		}
		d.opened = true
		return open(d.ev, d.at, d.p), false
	}
	rec.Messages = func(alertID int64, in *Incident) []deliver.Message {
		msgs := eventMessages(d.set.EventNotify, d.ev, alertID, d.at)
		if d.opened && in != nil {
			msgs = append(msgs, incidentMessages(in.Notify, *in, deliver.NoticeOpened, deliver.OpenedID(in.ID), d.at, &d.ev, alertID)...)
		}
		return msgs
	}
	return rec
}

func (d *decision) result(r Recorded) Result {
	res := Result{Alert: r.Alert, Incident: r.Incident, Existed: r.Existed}
	res.Opened = !r.Existed && d.opened && r.Incident != nil
	if d.p != nil {
		res.Protocol = d.p.Name
	}
	return res
}

// report counts a newly stored event and announces its incident change.
func (e *Engine) report(res Result, ev event.Event) {
	e.m.events.WithLabelValues(ev.Camera, ev.Rule, fmt.Sprint(res.Incident != nil)).Inc()
	if res.Incident == nil {
		return
	}
	if res.Opened {
		e.m.opened.WithLabelValues(ev.Camera, ev.Rule, res.Incident.Priority).Inc()
	}
	e.changed(*res.Incident)
}

// join finds the open incident ev belongs to: one following the same
// track, else one of the same situation whose last event is within the
// protocol's window (g.Open is newest first, so a choice between several
// is deterministic).
func join(g Grouping, ev event.Event, at time.Time, p *protocol.Protocol) *Incident {
	var bySituation *Incident
	k := situation(ev.Rule, ev.Name, ev.Place())
	for i := range g.Open {
		in := &g.Open[i]
		if !in.State.Open() || at.Sub(in.LastEvent) > p.GroupWindow {
			continue
		}
		if shareTrack(in.Tracks, ev.Tracks) {
			return in
		}
		if bySituation == nil && situation(in.Rule, in.Name, in.Place) == k {
			bySituation = in
		}
	}
	if bySituation != nil {
		return bySituation
	}
	// Within the cooldown the situation's latest incident, while open,
	// takes the event whatever the window.
	if l := g.Latest; l != nil && p.Cooldown > 0 && at.Sub(l.Opened) < p.Cooldown && l.State.Open() {
		return l
	}
	return nil
}

// coolingDown reports whether the situation had an incident too recently
// for another: the event is then stored as an event only.
func coolingDown(g Grouping, at time.Time, p *protocol.Protocol) bool {
	return g.Latest != nil && p.Cooldown > 0 && at.Sub(g.Latest.Opened) < p.Cooldown
}

func shareTrack(a, b []int) bool {
	for _, t := range b {
		if slices.Contains(a, t) {
			return true
		}
	}
	return false
}

// open is the new incident ev starts under p.
func open(ev event.Event, at time.Time, p *protocol.Protocol) *Incident {
	in := &Incident{Camera: ev.Camera, Rule: ev.Rule, Name: ev.Name, Place: ev.Place(), Class: ev.Class,
		Protocol: p.Name, State: New, Priority: string(p.PriorityFor(ev)), Severity: ev.Severity,
		Summary: ev.Explanation, Unit: string(p.Unit), Tracks: clip(ev.Tracks), Notify: p.Notify,
		Count: 1, Opened: at, LastEvent: at, AutoClose: p.AutoClose}
	if esc := p.Escalate; esc != nil {
		in.EscalateDue = at.Add(esc.After)
		in.EscalatePriority = string(esc.Priority)
		if esc.Priority == "" || esc.Priority.Rank() < protocol.Priority(in.Priority).Rank() {
			in.EscalatePriority = string(protocol.Priority(in.Priority).Raise())
		}
		in.EscalateNotify = esc.Notify
	}
	return in
}

// grow adds ev to in and reports whether ev is its best evidence now:
// the highest severity, the latest among equals.
func grow(in *Incident, ev event.Event, at time.Time) bool {
	in.Count++
	if at.After(in.LastEvent) {
		in.LastEvent = at
	}
	in.Summary = ev.Explanation
	best := rank(ev.Severity) >= rank(in.Severity)
	if best {
		in.Severity = ev.Severity
	}
	in.Tracks = clip(append(slices.Clone(in.Tracks), missing(in.Tracks, ev.Tracks)...))
	return best
}

func missing(have, add []int) []int {
	var out []int
	for _, t := range add {
		if !slices.Contains(have, t) && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// clip keeps the latest maxTracks track ids.
func clip(t []int) []int {
	if len(t) > maxTracks {
		t = t[len(t)-maxTracks:]
	}
	return slices.Clone(t)
}

var severityOrder = []event.Severity{event.Info, event.Low, event.Medium, event.High, event.Critical}

func rank(s event.Severity) int { return slices.Index(severityOrder, s) }

func (e *Engine) changed(in Incident) {
	if e.o.OnChange != nil {
		e.o.OnChange(in)
	}
}

func (e *Engine) committed() {
	if e.o.Committed != nil {
		e.o.Committed()
	}
}

// eventMessages announce a stored event to the destinations every event
// goes to.
func eventMessages(dests []string, ev event.Event, alertID int64, at time.Time) []deliver.Message {
	if len(dests) == 0 {
		return nil
	}
	id := fmt.Sprintf("event-%d", alertID)
	n := deliver.Notice{ID: id, Type: deliver.NoticeEvent, Sent: at, Camera: ev.Camera, Event: &ev, EventID: alertID}
	return messages(dests, n, deliver.KindEvent, ev.Rule)
}

// incidentMessages announce an incident change to dests.
func incidentMessages(dests []string, in Incident, typ, id string, at time.Time, ev *event.Event, alertID int64) []deliver.Message {
	if len(dests) == 0 {
		return nil
	}
	info := &deliver.IncidentInfo{ID: in.ID, State: string(in.State), Priority: in.Priority, Protocol: in.Protocol,
		Rule: in.Rule, Name: in.Name, Place: in.Place, Class: in.Class, Severity: string(in.Severity),
		Summary: in.Summary, Unit: in.Unit, UnitID: in.UnitID, Count: in.Count, Opened: in.Opened,
		Escalated: !in.Escalated.IsZero()}
	if in.UnitType != "" {
		info.Unit = in.UnitType
	}
	if n := len(in.History); n > 0 {
		info.By = in.History[n-1].By
	}
	n := deliver.Notice{ID: id, Type: typ, Sent: at, Camera: in.Camera, Incident: info, Event: ev, EventID: alertID}
	return messages(dests, n, deliver.KindIncident, in.Rule)
}

func messages(dests []string, n deliver.Notice, kind, subject string) []deliver.Message {
	payload, err := json.Marshal(n)
	if err != nil {
		// Only the event's values could fail to encode, and the store
		// encoded the same event before it builds the messages.
		return nil
	}
	out := make([]deliver.Message, 0, len(dests))
	for _, d := range dests {
		out = append(out, deliver.Message{ID: n.ID, Destination: d, Camera: n.Camera, Kind: kind, Subject: subject, Payload: payload})
	}
	return out
}
