package output

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/track"
)

// ReadRecords parses a JSON-lines file written by JSONL; errors name the
// file and line. Frames must come in increasing PTS.
func ReadRecords(r io.Reader, name string) ([]Record, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	var out []Record
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, line, err)
		}
		if n := len(out); n > 0 && rec.PTS <= out[n-1].PTS {
			return nil, fmt.Errorf("%s:%d: pts %.3f does not follow %.3f", name, line, rec.PTS, out[n-1].PTS)
		}
		for _, t := range rec.Tracks {
			if _, ok := detect.ClassByName(t.Class); !ok {
				return nil, fmt.Errorf("%s:%d: track %d: unknown class %q", name, line, t.ID, t.Class)
			}
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return out, nil
}

// ReadRecordsFile reads a JSON-lines tracking file.
func ReadRecordsFile(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadRecords(f, path)
}

// TrackList converts a record's tracks back to tracker output.
func (rec Record) TrackList() []track.Track {
	out := make([]track.Track, len(rec.Tracks))
	for i, t := range rec.Tracks {
		c, _ := detect.ClassByName(t.Class)
		out[i] = track.Track{ID: t.ID, Class: c, Box: geom.Box{X: t.BBox[0], Y: t.BBox[1], W: t.BBox[2], H: t.BBox[3]},
			Score: float32(t.Score), DetIndex: -1}
	}
	return out
}
