package output

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/detect"
)

func TestReadRecords(t *testing.T) {
	in := `{"frame":1,"pts":0,"detections":[],"tracks":[{"id":3,"class":"car","bbox":[10,20,30,40],"score":0.9}]}

{"frame":2,"pts":0.04,"detections":[],"tracks":[]}
`
	recs, err := ReadRecords(strings.NewReader(in), "t.jsonl")
	require.NoError(t, err)
	require.Len(t, recs, 2)
	tr := recs[0].TrackList()
	require.Len(t, tr, 1)
	require.Equal(t, detect.Car, tr[0].Class)
	require.Equal(t, 40.0, tr[0].Box.H)
	require.Equal(t, 3, tr[0].ID)

	for _, tc := range []struct{ in, want string }{
		{"{\"pts\":1}\n{\"pts\":1}\n", "t.jsonl:2: pts 1.000 does not follow 1.000"},
		{"{\"pts\":1,\"tracks\":[{\"id\":1,\"class\":\"dragon\"}]}\n", `t.jsonl:1: track 1: unknown class "dragon"`},
		{"{\"pts\":\"x\"}\n", "t.jsonl:1:"},
	} {
		_, err := ReadRecords(strings.NewReader(tc.in), "t.jsonl")
		require.ErrorContains(t, err, tc.want)
	}
}

func FuzzReadRecords(f *testing.F) {
	f.Add(`{"frame":1,"pts":0,"tracks":[{"id":3,"class":"car","bbox":[10,20,30,40]}]}`)
	f.Add("{}\n{}")
	f.Fuzz(func(t *testing.T, s string) {
		recs, err := ReadRecords(strings.NewReader(s), "f")
		if err != nil {
			return
		}
		for i := 1; i < len(recs); i++ {
			if recs[i].PTS <= recs[i-1].PTS {
				t.Fatalf("records out of order: %v then %v", recs[i-1].PTS, recs[i].PTS)
			}
		}
		for _, r := range recs {
			for _, tr := range r.TrackList() {
				if !tr.Class.Kept() {
					t.Fatalf("unknown class accepted: %v", tr.Class)
				}
			}
		}
	})
}
