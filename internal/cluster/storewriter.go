package cluster

import (
	"context"
	"errors"
	"fmt"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/store"
)

// RecordStore is the store's side of exactly-once writing, implemented
// by *sqlstore.DB (so by sqlite.Store and postgres.Store): a batch is one
// transaction and a key already stored adds nothing.
type RecordStore interface {
	WriteBatch(ctx context.Context, b store.RecordBatch) ([]store.NewAlert, error)
}

// StoreWriter is the api node's Writer: records into the store.
type StoreWriter struct {
	Store RecordStore
	// OnAlert, when set, is called once per alert the store did not have
	// yet (a redelivery does not call it again), after the commit: the
	// api node's hook to the live event stream (SSE) and the incident
	// outbox.
	OnAlert func(id int64, e event.Event)
}

// WriteBatch stores rs by their keys in one transaction.
func (w StoreWriter) WriteBatch(ctx context.Context, rs []Record) error {
	var b store.RecordBatch
	events := map[string]event.Event{}
	for _, r := range rs {
		switch r.Kind {
		case KindEvent:
			b.Alerts = append(b.Alerts, store.KeyedAlert{Key: r.Key, Event: *r.Event})
			events[r.Key] = *r.Event
		case KindTrack:
			b.Tracks = append(b.Tracks, store.KeyedTrack{Key: r.Key, Track: *r.Track})
		case KindCounts:
			b.Counts = append(b.Counts, store.KeyedCounts{Key: r.Key, Counts: r.Counts})
		case KindBaseline:
			b.Baselines = append(b.Baselines, store.BaselineSnapshot{Camera: r.Camera, Data: r.Baseline, Fence: r.Fence, Seq: r.Seq})
		default:
			return Permanent(fmt.Errorf("unknown record kind %q", r.Kind))
		}
	}
	added, err := w.Store.WriteBatch(ctx, b)
	if errors.Is(err, store.ErrConflict) {
		return Permanent(err)
	}
	if err != nil {
		return err
	}
	if w.OnAlert != nil {
		for _, a := range added {
			w.OnAlert(a.ID, events[a.Key])
		}
	}
	return nil
}
