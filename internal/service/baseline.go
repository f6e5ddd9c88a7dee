package service

import (
	"context"

	"github.com/vigil-cctv/vigil/internal/store"
)

// baselineVerdict is replaced when the baseline is wired in.
func (s *Service) baselineVerdict(context.Context, store.Alert, bool) error { return nil }
