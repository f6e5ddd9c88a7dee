// Package cluster runs Vigil as many nodes over NATS JetStream: camera
// placement, heartbeats, coordinator election, configuration propagation,
// the event flow from workers to the store writers, handover of learned
// state, and the live-view relay. PostgreSQL stays the system of record;
// JetStream holds what is in flight.
//
// # Buckets and streams
//
//   - KV vigil_nodes: node → heartbeat (roles, capacity, cameras). The
//     bucket's max age is the node TTL and it writes a delete marker when a
//     key ages out, so watchers see a node die.
//   - KV vigil_leader: "coordinator" → node, created put-if-absent, renewed
//     by compare-and-set; the bucket's max age is the leader lease.
//   - KV vigil_assign: camera → node (and, while a planned move is in
//     progress, move_to: the node it goes to), written only by
//     compare-and-set at the revision the writer read.
//   - KV vigil_config: camera.<id>, scene.<id>, protocol.<id>,
//     suppression.<id> → the configuration the api node stores and every
//     node watches (suppressions: the operators' dismissals in force, held
//     by every node, so they follow a camera wherever it runs).
//   - Streams VIGIL_EVENTS, VIGIL_TRACKS, VIGIL_COUNTS, VIGIL_BASELINES on
//     vigil.<kind>.<camera>, consumed by the durable pull consumer
//     "vigil-api" that every api node shares; VIGIL_DEAD on vigil.dead.>.
//   - Object store vigil_handover: camera → its baseline and motion model,
//     so a camera that moves keeps what it learned.
//
// # Fencing: why two nodes do not run a camera at once
//
// A camera is handed to a worker as a Lease whose Fence is the KV revision
// of the assignment entry. Revisions only grow, so a later owner always
// holds a larger fence. The coordinator moves a camera only (a) when its
// node's heartbeat key has expired in the server, (b) when the camera is
// removed, or (c) between two live nodes, through the handshake below. A
// worker renews its heartbeat every TTL/3 and, if it has not stored one
// successfully for TTL minus a margin, measured on its own clock from the
// moment it sent the last good one, it revokes all its cameras itself
// (OnRevoke) before the server can expire its key. So by the time the
// coordinator sees the key expire, the old owner has already stopped: the
// overlap is bounded by the margin, the spread between the two clocks'
// rates over one TTL, and how long OnRevoke takes to stop the camera. What
// slips through that bound is harmless: every message carries its fence,
// handover state is written only with a fence at least the stored one, and
// every record is keyed so a duplicate is dropped by the store.
//
// A move between live nodes (rebalancing: a worker that joins late gets
// its fair share) has no overlap at all, OnRevoke keeping its contract,
// because the old owner stops first: the coordinator marks the entry {node: A, move_to: B}; A stops
// the camera (OnRevoke returns once it has stopped publishing and saved
// its handover state) and only then writes {node: B} at the marked
// revision; B starts the camera only on an entry naming B. If A dies
// meanwhile, (a) applies. If A lives but has not handed over within twice
// the node TTL, or B is gone, the coordinator writes {node: A} back at the
// marked revision. Both are compare-and-sets at that revision, so only
// one lands, and B has run nothing before A's does (see handoff.go).
//
// # Exactly-once records
//
// Publishes carry a Nats-Msg-Id derived from what the record is (camera,
// rule, track and start for an event), so a retried publish is dropped by
// the stream; the api consumer acks only after the store committed, so a
// crash redelivers; and the store's writes are keyed on the same id, so a
// redelivery adds nothing. A message that cannot be decoded is retried
// MaxDeliver times and then copied to vigil.dead.<kind>.<camera> and
// terminated; a store that is down is not the message's fault: the message
// waits (negative ack with a delay) however long it takes.
package cluster
