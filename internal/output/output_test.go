package output

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/analysis"
	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/pipeline"
	"github.com/vigil-cctv/vigil/internal/track"
)

func result(i int) *pipeline.Result {
	return &pipeline.Result{Output: analysis.Output{
		Frame:      &decode.Frame{Index: i, PTS: time.Duration(i) * 40 * time.Millisecond},
		Detections: []detect.Detection{{Box: geom.Box{X: 1.234, Y: 2, W: 30, H: 80}, Class: detect.Person, Score: 0.87654}},
		Tracks:     []track.Track{{ID: 7, Class: detect.Truck, Box: geom.Box{X: 10.005, Y: 20, W: 100, H: 50}, Score: 0.5}},
	}}
}

func TestMOTWritesOneBasedFrames(t *testing.T) {
	p := filepath.Join(t.TempDir(), "t.txt")
	m, err := NewMOT(p)
	require.NoError(t, err)
	require.NoError(t, m.Write(result(0)))
	require.NoError(t, m.Write(result(4)))
	require.NoError(t, m.Close())
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	require.Len(t, lines, 2)
	require.True(t, strings.HasPrefix(lines[0], "1,7,10."), lines[0])
	require.True(t, strings.HasPrefix(lines[1], "5,7,"), lines[1])
	require.True(t, strings.HasSuffix(lines[0], ",-1,-1,-1"))
}

func TestJSONLRecord(t *testing.T) {
	rec := NewRecord(result(25))
	require.Equal(t, 26, rec.Frame)
	require.InDelta(t, 1.0, rec.PTS, 1e-12)
	require.Equal(t, Detection{Class: "person", BBox: [4]float64{1.23, 2, 30, 80}, Score: 0.877}, rec.Detections[0])
	require.Equal(t, Track{ID: 7, Class: "truck", BBox: [4]float64{10.01, 20, 100, 50}, Score: 0.5}, rec.Tracks[0])

	p := filepath.Join(t.TempDir(), "f.jsonl")
	j, err := NewJSONL(p)
	require.NoError(t, err)
	require.NoError(t, j.Write(result(0)))
	require.NoError(t, j.Close())
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	require.Equal(t, `{"frame":1,"pts":0,"detections":[{"class":"person","bbox":[1.23,2,30,80],"score":0.877}],"tracks":[{"id":7,"class":"truck","bbox":[10.01,20,100,50],"score":0.5}]}`+"\n", string(data))
}

func TestOutputsToMissingDirectoryFail(t *testing.T) {
	_, err := NewMOT("/nonexistent/dir/t.txt")
	require.ErrorContains(t, err, "mot output")
	_, err = NewJSONL("/nonexistent/dir/f.jsonl")
	require.ErrorContains(t, err, "jsonl output")
}
