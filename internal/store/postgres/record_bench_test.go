package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/incident"
	"github.com/vigil-cctv/vigil/internal/store/postgres"
	"github.com/vigil-cctv/vigil/internal/store/storetest"
)

// BenchmarkRecordEvents measures the api node's store path: events
// through the incident engine (grouping, incident, outbox) into
// PostgreSQL, one transaction per event against one per batch, over 300
// cameras as in the city benchmark. Reported: events/s.
//
//	go test -run '^$' -bench RecordEvents -benchtime 2000x ./internal/store/postgres/
func BenchmarkRecordEvents(b *testing.B) {
	for _, size := range []int{1, 16, 64, 256} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			st, err := postgres.Open(context.Background(), storetest.FreshPostgres(b))
			require.NoError(b, err)
			b.Cleanup(func() { _ = st.Close() })
			eng := incident.NewEngine(st, nil, "", incident.Options{})
			t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			in := make([]incident.Input, 0, size)
			b.ResetTimer()
			for i := range b.N {
				e := event.Event{ID: fmt.Sprintf("k%d", i), Camera: fmt.Sprintf("cam-%03d", i%300), Rule: "intrusion",
					Name: "fence", Zone: "fence", Class: "person", Tracks: []int{i}, Severity: event.High}
				in = append(in, incident.Input{Event: e, At: t0.Add(time.Duration(i) * time.Second)})
				if len(in) == size || i == b.N-1 {
					_, err := eng.HandleBatch(context.Background(), in)
					require.NoError(b, err)
					in = in[:0]
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
