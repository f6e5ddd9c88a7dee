package service

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-cctv/vigil/internal/attrs"
	"github.com/vigil-cctv/vigil/internal/cluster"
	"github.com/vigil-cctv/vigil/internal/search"
	"github.com/vigil-cctv/vigil/internal/store"
)

// indexPage is how many stored records one read of the index build takes.
const indexPage = 5000

// LoadIndex builds the suspect-search index from every described track
// in st (an empty index when st keeps none).
func LoadIndex(ctx context.Context, st store.Store) (*search.Index, error) {
	ss, ok := st.(store.SearchStore)
	if !ok {
		return search.NewIndex(), nil
	}
	var recs []search.Record
	for after := int64(0); ; {
		page, err := ss.SearchRecords(ctx, after, indexPage)
		if err != nil {
			return nil, fmt.Errorf("search index: %w", err)
		}
		if len(page) == 0 {
			break
		}
		recs, after = append(recs, page...), page[len(page)-1].ID
	}
	return search.Build(recs)
}

// loadIndex replaces the service's empty index with the stored tracks'.
func (s *Service) loadIndex(ctx context.Context) error {
	start := time.Now()
	ix, err := LoadIndex(ctx, s.store)
	if err != nil {
		return err
	}
	s.index = ix
	s.log.Info("search index built", "tracks", ix.Len(), "bytes", ix.Bytes(), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// attributes is what the chains describe tracks with; the embedder
// (internal/reid) plugs in here.
func (s *Service) attributes() *attrs.Config { return &attrs.Config{Embedder: s.embed} }

// storeTrack stores one summary; a described one goes through the search
// store and into the index.
func (p *processor) storeTrack(ctx context.Context, t store.TrackSummary) error {
	ss, ok := p.sinks.Store.(store.SearchStore)
	if t.Appearance == nil || !ok {
		return p.sinks.Store.AddTrack(ctx, t)
	}
	ids, err := ss.AddTracks(ctx, []store.TrackSummary{t})
	if err != nil {
		return err
	}
	if ix := p.sinks.Search; ix != nil {
		return ix.Add(search.RecordOf(ids[0], t.Camera, t.Class, t.Start, t.End, *t.Appearance))
	}
	return nil
}

// trackKeys finds the store IDs of tracks written by key (the cluster's
// store writer).
type trackKeys interface {
	TrackIDByKey(ctx context.Context, key string) (int64, error)
}

// indexTracks adds the described tracks among records just written to
// the search index, by the IDs the store gave them; an index that has an
// ID already ignores it, so a redelivered batch adds nothing. Only a
// failed lookup is an error (the batch is delivered again).
func (s *Service) indexTracks(ctx context.Context, rs []cluster.Record) error {
	keys, ok := s.store.(trackKeys)
	if !ok {
		return nil
	}
	for _, r := range rs {
		t := r.Track
		if r.Kind != cluster.KindTrack || t == nil || t.Appearance == nil {
			continue
		}
		id, err := keys.TrackIDByKey(ctx, r.Key)
		if err != nil {
			return err
		}
		if err := s.index.Add(search.RecordOf(id, t.Camera, t.Class, t.Start, t.End, *t.Appearance)); err != nil {
			// Stored all the same; the index is rebuilt from the store on start.
			s.log.Warn("search index: track not added", "camera", t.Camera, "track", id, "err", err)
		}
	}
	return nil
}
