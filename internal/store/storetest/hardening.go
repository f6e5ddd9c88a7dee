package storetest

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/store"
)

// onceStore is the keyed alert write of issue 16's spool (package spool's
// AlertStore).
type onceStore interface {
	AddAlertOnce(ctx context.Context, key string, e event.Event) (int64, error)
}

// testAddAlertOnce: the same key stores one alert however often, and
// however concurrently, it is written; a new key is a new alert.
func testAddAlertOnce(t *testing.T, s store.Store) {
	os, ok := s.(onceStore)
	require.True(t, ok, "the store implements AddAlertOnce")
	ctx := context.Background()
	e := sampleEvent("cam-1", "intrusion", "person", 12.5)
	id1, err := os.AddAlertOnce(ctx, "k1", e)
	require.NoError(t, err)
	id2, err := os.AddAlertOnce(ctx, "k1", e)
	require.NoError(t, err)
	require.Equal(t, id1, id2)
	plain, err := s.AddAlert(ctx, e) // keyless alerts are unaffected
	require.NoError(t, err)
	var wg sync.WaitGroup
	ids := make([]int64, 8)
	for i := range ids {
		wg.Go(func() {
			id, err := os.AddAlertOnce(ctx, "k2", e)
			require.NoError(t, err)
			ids[i] = id
		})
	}
	wg.Wait()
	for _, id := range ids {
		require.Equal(t, ids[0], id)
	}
	all, err := s.ListAlerts(ctx, store.AlertFilter{Limit: 500})
	require.NoError(t, err)
	require.Len(t, all, 3)
	got, err := s.GetAlert(ctx, id1)
	require.NoError(t, err)
	require.Equal(t, e.Rule, got.Event.Rule)
	require.Equal(t, store.StateNew, got.State)
	require.NotEqual(t, id1, plain)
	_, err = os.AddAlertOnce(ctx, "", e)
	require.Error(t, err)
}
