package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/geom"
	"github.com/vigil-cctv/vigil/internal/track"
)

func TestReadVehicleLabelsRefusesWhatItCannotScore(t *testing.T) {
	good := "# c\nsource,id,frame,x,y,type,colours,note\nhw,v1,10,5,6,car|truck,white|grey,van\n"
	ls, err := readVehicleLabels(strings.NewReader(good), "l.csv")
	require.NoError(t, err)
	require.Equal(t, []vehicleLabel{{Source: "hw", ID: "v1", Frame: 10, X: 5, Y: 6, Types: []string{"car", "truck"}, Colours: []string{"white", "grey"}}}, ls)
	for _, bad := range []struct{ row, want string }{
		{"hw,v1,0,5,6,car,white", "1-based"},
		{"hw,v1,x,5,6,car,white", "frame"},
		{"hw,v1,3,5,y,car,white", "x,y"},
		{"hw,v1,3,5,6,person,white", `type "person"`},
		{"hw,v1,3,5,6,car,beige", `colour "beige"`},
		{"hw,v1,3,5,6,car", "got 6 fields"},
	} {
		_, err := readVehicleLabels(strings.NewReader(bad.row+"\n"), "l.csv")
		require.ErrorContains(t, err, bad.want, bad.row)
		require.ErrorContains(t, err, "l.csv: record 1", bad.row)
	}
}

func TestScoreVehicles(t *testing.T) {
	labels := []vehicleLabel{
		{Source: "a", ID: "1", Types: []string{"car", "truck"}, Colours: []string{"white", "grey"}},
		{Source: "a", ID: "2", Types: []string{"car"}, Colours: []string{"red"}},
		{Source: "b", ID: "1", Types: []string{"truck"}, Colours: []string{"white"}},
	}
	got := map[string]vehicleSighting{
		"a/1": {Found: true, Class: "truck", Colours: []string{"grey", "white"}},
		"a/2": {Found: true, Class: "bus", Colours: []string{"brown", "red"}},
	}
	rep := scoreVehicles(labels, got)
	require.Equal(t, 3, rep.Vehicles)
	require.Equal(t, 2, rep.Found)
	require.Equal(t, 1, rep.TypeCorrect)
	require.Equal(t, 1, rep.ColourCorrect, "only the first colour counts")
	require.InDelta(t, 1.0/3, rep.Colour, 1e-9, "a vehicle no track found counts as wrong")
	require.Len(t, rep.Wrong, 3)
}

func TestTrackAtPicksTheBoxHoldingThePoint(t *testing.T) {
	ts := []track.Track{
		{ID: 1, Box: geom.Box{X: 0, Y: 0, W: 120, H: 120}},
		{ID: 2, Box: geom.Box{X: 40, Y: 40, W: 20, H: 20}},
		{ID: 3, Box: geom.Box{X: 200, Y: 0, W: 10, H: 10}},
	}
	id, ok := trackAt(ts, 50, 50)
	require.True(t, ok)
	require.Equal(t, 2, id, "the box whose centre is nearest")
	_, ok = trackAt(ts, 150, 150)
	require.False(t, ok)
}

// TestEvalAttributesVehicles runs the detector and tracker over the
// highway and parking footage and holds the vehicle figures the README
// reports (deterministic on one machine: same frames, same model).
func TestEvalAttributesVehicles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs yolov8n over 2,077 frames")
	}
	needSetup(t)
	data := filepath.Join("..", "..", "..", "shared", "data")
	for _, p := range []string{"cdnet-highway/input", "videos/car-detection.mp4"} {
		if _, err := os.Stat(filepath.Join(data, p)); err != nil {
			t.Skipf("%s missing", p)
		}
	}
	var out, errs bytes.Buffer
	code := Main([]string{"eval", "attributes", "--vehicles", "../../testdata/attributes/vehicles.csv", "--data", data, "--json"}, &out, &errs)
	require.Equal(t, 0, code, errs.String())
	var rep vehicleReport
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep))
	require.Equal(t, 33, rep.Vehicles)
	require.GreaterOrEqual(t, rep.Found, 29, rep.Wrong)
	require.GreaterOrEqual(t, rep.TypeCorrect, 29, rep.Wrong)
	require.GreaterOrEqual(t, rep.ColourCorrect, 25, rep.Wrong)
}
