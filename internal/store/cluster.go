package store

import "github.com/vigil-cctv/vigil/internal/event"

// RecordBatch is records that arrived from the cluster's streams (issue
// 15), each under its deterministic key, written in one transaction so a
// busy store commits many at once. A key already stored adds nothing.
type RecordBatch struct {
	Alerts    []KeyedAlert
	Tracks    []KeyedTrack
	Counts    []KeyedCounts
	Baselines []BaselineSnapshot
}

// KeyedAlert is an alert and its key.
type KeyedAlert struct {
	Key   string
	Event event.Event
}

// KeyedTrack is a track summary and its key.
type KeyedTrack struct {
	Key   string
	Track TrackSummary
}

// KeyedCounts is one batch of counter increments and its key.
type KeyedCounts struct {
	Key    string
	Counts []Count
}

// BaselineSnapshot replaces a camera's baseline when (Fence, Seq) is newer
// than the stored one's.
type BaselineSnapshot struct {
	Camera     string
	Data       []byte
	Fence, Seq uint64
}

// NewAlert is an alert a batch added (not one it found stored).
type NewAlert struct {
	ID  int64
	Key string
}
