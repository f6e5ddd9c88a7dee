package cluster

import (
	"context"
	"errors"
	"fmt"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/store"
)

// RecordStore is the store's side of exactly-once writing, implemented
// by *sqlstore.DB (so by sqlite.Store and postgres.Store): every write is
// keyed and a repeated key adds nothing.
type RecordStore interface {
	AddAlertOnce(ctx context.Context, key string, e event.Event) (id int64, added bool, err error)
	AddTrackOnce(ctx context.Context, key string, t store.TrackSummary) (added bool, err error)
	AddCountsOnce(ctx context.Context, key string, cs []store.Count) (added bool, err error)
	PutBaselineIfNewer(ctx context.Context, camera string, data []byte, fence, seq uint64) (applied bool, err error)
}

// StoreWriter is the api node's Writer: records into the store.
type StoreWriter struct {
	Store RecordStore
	// OnAlert, when set, is called once per alert the store did not have
	// yet (a redelivery does not call it again): the api node's hook to
	// the live event stream (SSE) and the incident outbox.
	OnAlert func(id int64, e event.Event)
}

// Write stores r by its key.
func (w StoreWriter) Write(ctx context.Context, r Record) error {
	var err error
	switch r.Kind {
	case KindEvent:
		var id int64
		var added bool
		if id, added, err = w.Store.AddAlertOnce(ctx, r.Key, *r.Event); err == nil && added && w.OnAlert != nil {
			w.OnAlert(id, *r.Event)
		}
	case KindTrack:
		_, err = w.Store.AddTrackOnce(ctx, r.Key, *r.Track)
	case KindCounts:
		_, err = w.Store.AddCountsOnce(ctx, r.Key, r.Counts)
	case KindBaseline:
		_, err = w.Store.PutBaselineIfNewer(ctx, r.Camera, r.Baseline, r.Fence, r.Seq)
	default:
		return Permanent(fmt.Errorf("unknown record kind %q", r.Kind))
	}
	if errors.Is(err, store.ErrConflict) {
		return Permanent(err)
	}
	return err
}
