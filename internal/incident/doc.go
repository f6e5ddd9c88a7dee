// Package incident turns events into the operator's queue. Every rule
// firing is stored as an event (an alert row); the alert protocols decide
// which events become an incident, the one thing an operator handles, and
// which join an open one: the same camera, rule and place within the
// protocol's window, or the same track. An incident carries a count, a
// timeline, its best snapshot and clip, and its evidence, and follows
// new → acknowledged → dispatched → on_scene → resolved | false_alarm →
// closed, each step recording who and when.
//
// The Engine is deterministic: time is passed in (Handle takes the event's
// wall time on the camera clock, Tick the current time), it starts no
// goroutine, and escalation and auto-close happen only in Tick. Each
// change commits together with its event and its outbox messages in one
// store transaction, so a crash loses none of them.
package incident
