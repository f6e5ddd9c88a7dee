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
//
// Several engines may share one store (a cluster's api nodes over
// PostgreSQL, each writing part of the alerts): the engine keeps no
// incident in memory, and the store makes every decision once. An
// event's incident is decided inside its transaction, under a lock on
// its camera held until commit (a PostgreSQL advisory lock), on the
// camera's incidents as committed, so two nodes never open two incidents
// for one situation; operator transitions take the same lock, so an
// event never joins an incident a verdict has just taken out of the
// queue, and whatever node the next event reaches sees the verdict.
// Tick's changes are conditional in the store (escalate only if still
// new and never escalated; auto-close only if still in the state read,
// with no event since), so every node may tick and each change happens
// once. This was chosen over one leader node running the engine: nothing
// is forwarded between nodes, there is no election to lose, and a node
// that dies mid-transaction has committed nothing.
package incident
