// Package deliver drains the transactional outbox: messages that were
// committed together with the event and incident change they announce are
// sent to their destinations (MQTT brokers, signed webhooks, CAP 1.2
// webhooks) by a Worker that retries with exponential backoff and jitter,
// keeps each camera's messages in order per destination, and moves a
// message that cannot be delivered to the dead letters, from which an
// operator may retry it.
//
// Delivery is at least once: a message sent just before a crash is sent
// again after the restart. Workers sharing one store (a cluster's api
// nodes) claim the lanes they send for a lease (Options.Lease), so while
// they live each message is sent once; a dead worker's claims lapse and
// another worker sends those lanes again, from their heads. Every message carries a stable id (the
// Vigil-Message-Id header, the MQTT user property message-id, the "id"
// field of the JSON body, the CAP identifier) so receivers drop repeats.
//
// Destination credentials (webhook secrets, MQTT passwords, passwords or
// tokens in URLs) live only in the Destination values the service builds
// from its config: they are never stored in the outbox, and never appear
// in errors, logs or metric labels, which name destinations by name.
package deliver

import (
	"time"

	"github.com/vigil-cctv/vigil/internal/event"
)

// Message kinds; the MQTT transport derives its topic from the kind.
const (
	KindIncident     = "incident"
	KindEvent        = "event"
	KindAvailability = "availability"
	KindCount        = "count"
)

// Message states in the outbox.
const (
	Pending   = "pending"
	Delivered = "delivered"
	Dead      = "dead"
)

// Message is one outbox row: one payload for one destination.
type Message struct {
	// Seq orders the outbox; within a lane (destination, camera) messages
	// are delivered in Seq order.
	Seq int64 `json:"seq"`
	// ID is stable across redeliveries; with Destination it is unique, so
	// enqueuing the same message twice stores it once.
	ID          string `json:"id"`
	Destination string `json:"destination"`
	Camera      string `json:"camera"`
	Kind        string `json:"kind"`
	// Subject is the rule of an incident or event, the line of a count:
	// the last element of the MQTT topic.
	Subject string `json:"subject,omitempty"`
	// Payload is the JSON body: a Notice for incidents and events.
	Payload   []byte    `json:"payload,omitempty"`
	State     string    `json:"state"`
	Attempts  int       `json:"attempts"`
	Created   time.Time `json:"created"`
	NextAt    time.Time `json:"next_at"`
	LastError string    `json:"last_error,omitempty"`
	Done      time.Time `json:"done,omitzero"` // delivered or dead at
}

// Notice types.
const (
	NoticeOpened    = "incident.opened"
	NoticeEscalated = "incident.escalated"
	NoticeState     = "incident.state"
	NoticeEvent     = "event"
)

// Notice is the JSON payload of incident and event messages, and what
// the CAP format is rendered from.
type Notice struct {
	ID       string        `json:"id"` // the message id
	Type     string        `json:"type"`
	Sent     time.Time     `json:"sent"` // when the change happened
	Camera   string        `json:"camera"`
	Incident *IncidentInfo `json:"incident,omitempty"`
	// Event is the event itself (type event) or the incident's latest.
	Event   *event.Event `json:"event,omitempty"`
	EventID int64        `json:"event_id,omitempty"` // its id in GET /api/v1/alerts/{id}
}

// IncidentInfo is what a receiver needs to know about an incident.
type IncidentInfo struct {
	ID        int64     `json:"id"`
	State     string    `json:"state"`
	Priority  string    `json:"priority"`
	Protocol  string    `json:"protocol"`
	Rule      string    `json:"rule"`
	Name      string    `json:"name,omitempty"`
	Place     string    `json:"place,omitempty"`
	Class     string    `json:"class,omitempty"`
	Severity  string    `json:"severity"`
	Summary   string    `json:"summary"`
	Unit      string    `json:"unit,omitempty"` // suggested unit type, or the dispatched one
	UnitID    string    `json:"unit_id,omitempty"`
	Count     int       `json:"count"`
	Opened    time.Time `json:"opened"`
	Escalated bool      `json:"escalated,omitempty"`
	// By is who made the change this notice announces ("system" for
	// escalations and auto-close).
	By string `json:"by,omitempty"`
}
