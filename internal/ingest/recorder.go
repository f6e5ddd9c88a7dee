package ingest

import (
	"time"

	"github.com/vigil-cctv/vigil/internal/decode"
)

// Recorder keeps a camera's compressed video for alert clips without
// re-encoding; *segring.Ring satisfies it. Only RTSP cameras deliver
// compressed pictures (files and image sequences keep the encode path).
type Recorder interface {
	// WriteAU receives every compressed picture of a session, on the
	// stream reader's goroutine, before it is decoded.
	WriteAU(session int, au decode.AccessUnit)
	// Map tells, for every frame handed on, that source time src of the
	// session is continuous time pts (Frame.SourcePTS → Frame.PTS).
	Map(session int, src, pts time.Duration)
}

// recordTo returns the decode hook that sends a session's pictures to the
// recorder, or nil without one.
func (s *Supervisor) recordTo(session int) func(decode.AccessUnit) {
	rec := s.opt.Recorder
	if rec == nil {
		return nil
	}
	return func(au decode.AccessUnit) { rec.WriteAU(session, au) }
}
