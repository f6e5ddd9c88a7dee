package service

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/vigil-cctv/vigil/internal/cluster"
	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/store"
)

// In a cluster an operator's dismissal is stored by the api node that
// took it, but the alerts it must hold back are raised on the worker that
// runs the camera. The api nodes therefore mirror the store's suppressions
// in force into the config bucket, and every node's config watch holds
// them in force: workers (where the chain suppresses) and the other api
// nodes (whose confirmations lift them).

// shareSuppressions makes the config bucket hold exactly the store's
// suppressions in force: new ones are put; lifted and expired ones are
// deleted, whoever put them (every api node reads the same store, and a
// node that put an entry may have restarted before deleting it). It runs
// after each verdict and on every save tick, so a failed put or delete is
// retried.
func (s *Service) shareSuppressions(ctx context.Context) {
	if !s.clu.has(config.RoleAPI) || s.clusterNode() == nil {
		return
	}
	s.clu.sharing.Lock()
	defer s.clu.sharing.Unlock()
	// The bucket is read before the store: an entry is put only after its
	// suppression committed, so one the store no longer holds in force
	// is stale, not new.
	inBucket := s.bucketSuppressions()
	list, err := s.store.ListSuppressions(ctx, "", time.Now())
	if err != nil {
		s.log.Warn("cluster: suppressions not read for sharing", "err", err)
		return
	}
	live := map[int64]bool{}
	for _, sup := range list {
		live[sup.ID] = true
		if !s.clu.shared[sup.ID] && !inBucket[sup.ID] {
			s.putSharedSuppression(ctx, sup)
		}
	}
	for id := range s.clu.shared {
		inBucket[id] = true
	}
	for id := range inBucket {
		if !live[id] {
			s.deleteSharedSuppression(ctx, id)
		}
	}
}

// bucketSuppressions is a copy of the suppression ids the config watch
// has seen in the bucket.
func (s *Service) bucketSuppressions() map[int64]bool {
	s.clu.bucketMu.Lock()
	defer s.clu.bucketMu.Unlock()
	out := make(map[int64]bool, len(s.clu.inBucket))
	for id := range s.clu.inBucket {
		out[id] = true
	}
	return out
}

// sawSuppression records what the config watch saw of one entry.
func (s *Service) sawSuppression(id int64, present bool) {
	if s.clu == nil {
		return
	}
	s.clu.bucketMu.Lock()
	defer s.clu.bucketMu.Unlock()
	if present {
		s.clu.inBucket[id] = true
	} else {
		delete(s.clu.inBucket, id)
	}
}

func (s *Service) putSharedSuppression(ctx context.Context, sup store.Suppression) {
	b, err := json.Marshal(sup)
	if err == nil {
		_, err = s.clusterNode().Config().Put(ctx, cluster.ConfigSuppression, strconv.FormatInt(sup.ID, 10), b)
	}
	if err != nil {
		s.log.Warn("cluster: suppression not shared yet; retried at the next save", "suppression", sup.ID, "err", err)
		return
	}
	s.clu.shared[sup.ID] = true
}

func (s *Service) deleteSharedSuppression(ctx context.Context, id int64) {
	if err := s.clusterNode().Config().Delete(ctx, cluster.ConfigSuppression, strconv.FormatInt(id, 10)); err != nil {
		s.log.Warn("cluster: lifted suppression not unshared yet; retried at the next save", "suppression", id, "err", err)
		return
	}
	delete(s.clu.shared, id)
}

// applySharedSuppression holds a suppression from the config bucket in
// force on this node, or lifts it when its entry is deleted.
func (s *Service) applySharedSuppression(ch cluster.ConfigChange) {
	id, err := strconv.ParseInt(ch.ID, 10, 64)
	if err != nil {
		s.log.Warn("cluster: suppression entry with a bad id ignored", "id", ch.ID)
		return
	}
	s.sawSuppression(id, !ch.Deleted)
	if ch.Deleted {
		s.supp.Remove(id)
		return
	}
	var sup store.Suppression
	if err := json.Unmarshal(ch.Value, &sup); err != nil || sup.ID != id {
		s.log.Warn("cluster: suppression entry not understood; ignored", "id", ch.ID, "err", err)
		return
	}
	s.supp.Add(sup)
}
