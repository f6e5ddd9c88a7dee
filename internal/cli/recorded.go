package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/motfile"
	"github.com/vigil-cctv/vigil/internal/output"
	"github.com/vigil-cctv/vigil/internal/track"
)

// recorded is a track file loaded for replay: tracks by source frame
// index (from 0) and the frames' time line.
type recorded struct {
	byFrame map[int][]track.Track
	frames  []*decode.Frame
}

// readRecorded reads tracks to replay: JSON lines written by analyze
// --jsonl (with their own PTS), or a MOTChallenge file (ground truth:
// rows flagged 0 are ignored regions and dropped) at fps frames per
// second, every frame up to the last included.
func readRecorded(path string, class detect.Class, fps float64) (recorded, error) {
	if strings.HasSuffix(path, ".jsonl") || strings.HasSuffix(path, ".json") {
		return readRecordedJSONL(path)
	}
	rows, err := motfile.ReadFile(path)
	if err != nil {
		return recorded{}, err
	}
	rec := recorded{byFrame: map[int][]track.Track{}}
	last := 0
	for _, r := range rows {
		if r.Conf == 0 {
			continue
		}
		rec.byFrame[r.Frame-1] = append(rec.byFrame[r.Frame-1], track.Track{ID: r.ID, Class: class, Box: r.Box, Score: 1, DetIndex: -1})
		last = max(last, r.Frame)
	}
	for i := range last {
		rec.frames = append(rec.frames, &decode.Frame{Index: i, PTS: decode.PTSAt(i, fps)})
	}
	return rec, nil
}

func readRecordedJSONL(path string) (recorded, error) {
	recs, err := output.ReadRecordsFile(path)
	if err != nil {
		return recorded{}, err
	}
	rec := recorded{byFrame: map[int][]track.Track{}}
	for i, r := range recs {
		if r.Frame < 1 || (i > 0 && r.Frame <= recs[i-1].Frame) {
			return recorded{}, fmt.Errorf("%s: record %d: frame %d does not follow %d", path, i+1, r.Frame, max(recs[max(i-1, 0)].Frame, 0))
		}
		idx := r.Frame - 1
		rec.byFrame[idx] = r.TrackList()
		rec.frames = append(rec.frames, &decode.Frame{Index: idx, PTS: time.Duration(r.PTS * float64(time.Second))})
	}
	return rec, nil
}
