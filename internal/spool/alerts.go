package spool

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vigil-cctv/vigil/internal/event"
)

// AlertStore is the store write an AlertSpool makes: store e under key
// unless that key is stored already, returning the alert's ID either way
// (and whether this call added it). *sqlite.Store and *postgres.Store
// implement it (the cluster's keyed write, alerts.msg_id).
type AlertStore interface {
	AddAlertOnce(ctx context.Context, key string, e event.Event) (int64, bool, error)
}

// AlertSpool writes alerts to the store and, when the store refuses one,
// spools it and keeps retrying: an alert is never lost to a store outage.
// While anything is spooled, new alerts queue behind it, so alerts reach
// the store in the order they were raised.
type AlertSpool struct {
	sp       *Spool
	st       AlertStore
	onStored func(id int64, key string, e event.Event)
	timeout  time.Duration
}

// OpenAlerts opens the alert spool file at path (data_dir/alerts.spool).
// onStored, when set, is called from Run for each spooled alert once the
// store has it, with the key Add returned (to publish it, link media named
// by the key); alerts stored directly by Add are the caller's to handle.
func OpenAlerts(path string, st AlertStore, onStored func(id int64, key string, e event.Event), opt Options) (*AlertSpool, error) {
	if opt.Name == "" {
		opt.Name = "alerts"
	}
	sp, err := Open(path, opt)
	if err != nil {
		return nil, err
	}
	return &AlertSpool{sp: sp, st: st, onStored: onStored, timeout: 10 * time.Second}, nil
}

// Add stores e. It returns the alert's ID when the store took it now, or
// 0 when it was spooled for Run to store later (reported through onStored
// with the same key). key is unique to this alert either way: name its
// evidence by it when the ID is not known yet. An error means the alert is
// neither stored nor spooled (the store and the spool's own disk both
// failed): log it loudly.
func (a *AlertSpool) Add(ctx context.Context, e event.Event) (id int64, key string, err error) {
	key = "alert-" + rand.Text()
	if a.sp.Pending() == 0 {
		// Not cancelled with ctx: an alert raised as the service stops
		// is still written now (the store closes after the cameras), not
		// left in the spool until the next start.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.timeout)
		id, _, err := a.st.AddAlertOnce(sctx, key, e)
		cancel()
		if err == nil {
			return id, key, nil
		}
		// The store failed, perhaps after committing: the spool retries
		// under the same key, so the alert cannot be stored twice.
	}
	data, err := json.Marshal(e)
	if err != nil {
		return 0, key, fmt.Errorf("spool alert: %w", err)
	}
	if err := a.sp.Add(key, data); err != nil {
		return 0, key, fmt.Errorf("alert (camera %s, rule %s) lost: the store and the spool both failed: %w", e.Camera, e.Rule, err)
	}
	return 0, key, nil
}

// Run stores spooled alerts until ctx ends, retrying with backoff.
func (a *AlertSpool) Run(ctx context.Context) error {
	return a.sp.Run(ctx, func(ctx context.Context, key string, data []byte) error {
		var e event.Event
		if err := json.Unmarshal(data, &e); err != nil {
			return nil // cannot happen for what Add wrote; never block the queue on it
		}
		sctx, cancel := context.WithTimeout(ctx, a.timeout)
		defer cancel()
		id, _, err := a.st.AddAlertOnce(sctx, key, e)
		if err != nil {
			return err
		}
		if a.onStored != nil {
			a.onStored(id, key, e)
		}
		return nil
	})
}

// Ready is nil when no alert waits for the store; for /readyz.
func (a *AlertSpool) Ready() error { return a.sp.Ready() }

// Pending is the number of alerts waiting for the store.
func (a *AlertSpool) Pending() int { return a.sp.Pending() }

// Close closes the spool file; pending alerts are delivered after the
// next start.
func (a *AlertSpool) Close() error { return a.sp.Close() }
