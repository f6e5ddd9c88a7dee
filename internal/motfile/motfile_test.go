package motfile

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/vigil-cctv/vigil/internal/geom"
)

func TestParseValid(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []Row
	}{
		{
			name: "ten columns",
			in:   "1,3,113.84,274.5,57.307,130.05,-1,-1,-1,-1\n",
			want: []Row{{1, 3, geom.Box{X: 113.84, Y: 274.5, W: 57.307, H: 130.05}, -1, -1, -1, -1}},
		},
		{
			name: "six columns default the rest to -1",
			in:   "2,1,10,20,30,40",
			want: []Row{{2, 1, geom.Box{X: 10, Y: 20, W: 30, H: 40}, -1, -1, -1, -1}},
		},
		{
			name: "seven columns keep conf",
			in:   "2,1,10,20,30,40,0.5",
			want: []Row{{2, 1, geom.Box{X: 10, Y: 20, W: 30, H: 40}, 0.5, -1, -1, -1}},
		},
		{
			name: "float ids and frames",
			in:   "3.000,7.0,1,2,3,4,1,-7.2877,-2.0376,0\n",
			want: []Row{{3, 7, geom.Box{X: 1, Y: 2, W: 3, H: 4}, 1, -7.2877, -2.0376, 0}},
		},
		{
			name: "whitespace, blank lines and CRLF",
			in:   "\n  1 , 2 ,\t3, 4 ,5 ,6 , 1 \r\n\r\n   \n2,2,3,4,5,6\n",
			want: []Row{
				{1, 2, geom.Box{X: 3, Y: 4, W: 5, H: 6}, 1, -1, -1, -1},
				{2, 2, geom.Box{X: 3, Y: 4, W: 5, H: 6}, -1, -1, -1, -1},
			},
		},
		{
			name: "frame zero and negative frames are parsed",
			in:   "0,1,1,1,1,1\n-4,1,1,1,1,1\n",
			want: []Row{
				{0, 1, geom.Box{X: 1, Y: 1, W: 1, H: 1}, -1, -1, -1, -1},
				{-4, 1, geom.Box{X: 1, Y: 1, W: 1, H: 1}, -1, -1, -1, -1},
			},
		},
		{
			name: "negative left/top, zero size, exponent",
			in:   "1,-1,-30.5,-2,0,0,4.4977e1",
			want: []Row{{1, -1, geom.Box{X: -30.5, Y: -2, W: 0, H: 0}, 44.977, -1, -1, -1}},
		},
		{name: "empty input", in: "", want: nil},
		{name: "only blank lines", in: "\n \n\t\n", want: nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tc.in), "x.txt")
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want string
	}{
		{"not a number", "1,1,1,1,1,1\n\n1,1,abc,1,1,1", `gt.txt:3: column 3 (bb_left): "abc" is not a number`},
		{"empty field", "1,1,1,,1,1", `gt.txt:1: column 4 (bb_top): "" is not a number`},
		{"NaN", "1,1,1,1,NaN,1", `gt.txt:1: column 5 (bb_width): "NaN" is not a number`},
		{"Inf", "1,1,1,1,1,1,+Inf", `gt.txt:1: column 7 (conf): "+Inf" is not a number`},
		{"hex float", "1,1,0x1p3,1,1,1", `gt.txt:1: column 3 (bb_left): "0x1p3" is not a number`},
		{"fractional frame", "3.5,1,1,1,1,1", `gt.txt:1: column 1 (frame): "3.5" is not an integer`},
		{"fractional id", "3,2.25,1,1,1,1", `gt.txt:1: column 2 (id): "2.25" is not an integer`},
		{"huge float id", "3,1e300,1,1,1,1", `gt.txt:1: column 2 (id): "1e300" is out of range`},
		{"negative width", "1,1,1,1,-2,1", `gt.txt:1: column 5 (bb_width): "-2" is negative`},
		{"negative height", "1,1,1,1,2,-0.5", `gt.txt:1: column 6 (bb_height): "-0.5" is negative`},
		{"too few columns", "1,1,1,1,1", `gt.txt:1: 5 columns, want 6 to 10`},
		{"too many columns", "1,1,1,1,1,1,1,1,1,1,1", `gt.txt:1: 11 columns, want 6 to 10`},
		{"space separated", "1 1 1 1 1 1", `gt.txt:1: 1 columns, want 6 to 10`},
		{"trailing comma", "1,1,1,1,1,1,", `gt.txt:1: column 7 (conf): "" is not a number`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := Parse(strings.NewReader(tc.in), "gt.txt")
			require.Nil(t, rows)
			require.EqualError(t, err, tc.want)
			var pe *ParseError
			require.True(t, errors.As(err, &pe))
		})
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gt.txt")
	require.NoError(t, os.WriteFile(path, []byte("1,1,1,2,3,4,1,-1,-1,-1\n1,2,x,2,3,4\n"), 0o644))
	_, err := ReadFile(path)
	require.EqualError(t, err, path+`:2: column 3 (bb_left): "x" is not a number`)

	require.NoError(t, os.WriteFile(path, []byte("1,1,1,2,3,4,1,-1,-1,-1\n"), 0o644))
	rows, err := ReadFile(path)
	require.NoError(t, err)
	require.Len(t, rows, 1)

	_, err = ReadFile(filepath.Join(dir, "missing.txt"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestWriteFormat(t *testing.T) {
	rows := []Row{
		{Frame: 1, ID: 3, Box: geom.Box{X: 113.844, Y: 274.5, W: 57.307, H: 130.05}, Conf: 0.98765, X: 5, Y: 6, Z: 7},
		{Frame: 12, ID: -1, Box: geom.Box{X: -30, Y: 0, W: 0, H: 1e4}, Conf: -1},
	}
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, rows))
	require.Equal(t,
		"1,3,113.84,274.50,57.31,130.05,0.988,-1,-1,-1\n"+
			"12,-1,-30.00,0.00,0.00,10000.00,-1.000,-1,-1,-1\n",
		buf.String())
}

func TestWriteRejectsUnreadableRows(t *testing.T) {
	for _, r := range []Row{
		{Box: geom.Box{W: math.NaN()}},
		{Box: geom.Box{X: math.Inf(-1)}},
		{Conf: math.Inf(1)},
		{Box: geom.Box{W: -1}},
		{Box: geom.Box{H: -0.001}},
	} {
		require.Error(t, Write(&bytes.Buffer{}, []Row{r}), "%+v", r)
	}
}

// TestWriterStreams checks that rows only reach the destination on Flush,
// which is what lets the tracker write frame by frame cheaply.
func TestWriterStreams(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	require.NoError(t, w.Write(Row{Frame: 1, ID: 1, Box: geom.Box{W: 1, H: 1}, Conf: 1}))
	require.Zero(t, buf.Len())
	require.NoError(t, w.Flush())
	require.Equal(t, "1,1,0.00,0.00,1.00,1.00,1.000,-1,-1,-1\n", buf.String())
}

// quantize is what a Write/Parse round trip does to a row: boxes to 2
// decimals, conf to 3, world coordinates dropped.
func quantize(r Row) Row {
	q := func(v float64, prec int) float64 {
		x, err := strconv.ParseFloat(strconv.FormatFloat(v, 'f', prec, 64), 64)
		if err != nil {
			panic(err)
		}
		return x
	}
	return Row{
		Frame: r.Frame, ID: r.ID,
		Box:  geom.Box{X: q(r.Box.X, 2), Y: q(r.Box.Y, 2), W: q(r.Box.W, 2), H: q(r.Box.H, 2)},
		Conf: q(r.Conf, 3),
		X:    -1, Y: -1, Z: -1,
	}
}

func TestRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		// Values already on the written grid must survive exactly.
		cent := func(lo, hi int) *rapid.Generator[float64] {
			return rapid.Map(rapid.IntRange(lo, hi), func(n int) float64 { return float64(n) / 100 })
		}
		milli := rapid.Map(rapid.IntRange(-2000, 2000), func(n int) float64 { return float64(n) / 1000 })
		row := rapid.Custom(func(t *rapid.T) Row {
			return Row{
				Frame: rapid.IntRange(-5, 100000).Draw(t, "frame"),
				ID:    rapid.IntRange(-1, 1<<40).Draw(t, "id"),
				Box: geom.Box{
					X: cent(-100000, 400000).Draw(t, "x"), Y: cent(-100000, 400000).Draw(t, "y"),
					W: cent(0, 100000).Draw(t, "w"), H: cent(0, 100000).Draw(t, "h"),
				},
				Conf: milli.Draw(t, "conf"),
				X:    -1, Y: -1, Z: -1,
			}
		})
		rows := rapid.SliceOf(row).Draw(t, "rows")
		var buf bytes.Buffer
		require.NoError(t, Write(&buf, rows))
		got, err := Parse(&buf, "rt.txt")
		require.NoError(t, err)
		if len(rows) == 0 {
			require.Empty(t, got)
			return
		}
		require.Equal(t, rows, got)
	})
}

func TestRoundTripQuantizesArbitraryRows(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f := rapid.Float64Range(-1e6, 1e6)
		r := Row{
			Frame: rapid.Int().Draw(t, "frame"), ID: rapid.Int().Draw(t, "id"),
			Box: geom.Box{
				X: f.Draw(t, "x"), Y: f.Draw(t, "y"),
				W: rapid.Float64Range(0, 1e6).Draw(t, "w"), H: rapid.Float64Range(0, 1e6).Draw(t, "h"),
			},
			Conf: f.Draw(t, "conf"), X: f.Draw(t, "wx"), Y: f.Draw(t, "wy"), Z: f.Draw(t, "wz"),
		}
		var buf bytes.Buffer
		require.NoError(t, Write(&buf, []Row{r}))
		got, err := Parse(&buf, "rt.txt")
		require.NoError(t, err)
		require.Equal(t, []Row{quantize(r)}, got)
	})
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"1,3,113.84,274.5,57.307,130.05,-1,-1,-1,-1\n",
		"780,8,244,170,27.63,71.997,1,-7.2877,-2.0376,0\n",
		"748,-1,153,193,40.258,91.355,44.977,-10.9629,-2.60237,0",
		"3.000,7.0,1,2,3,4\n",
		" 1 , 2 ,\t3, 4 ,5 ,6 , 1 \r\n\n",
		"0,1,1,1,1,1\n-4,1,1,1,1,1\n",
		"1,1,1e308,1e308,1e308,1e308,1e308",
		"1,1,-0,-0,-0,-0,-0",
		"9223372036854775807,-9223372036854775808,1,1,1,1",
		"1,1,NaN,1,1,1", "1,1,1,1,-2,1", "3.5,1,1,1,1,1", "1,1,1,1,1", "1,1,1,1,1,1,1,1,1,1,1",
		"1,1,0x1p3,1,1,1", "1,1,1_0,1,1,1", "1e20,1,1,1,1,1", ",,,,,,", "\x00,1,1,1,1,1",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		rows, err := Parse(strings.NewReader(in), "fuzz.txt")
		if err != nil {
			require.Nil(t, rows)
			return
		}
		var buf bytes.Buffer
		require.NoError(t, Write(&buf, rows))
		again, err := Parse(&buf, "rewritten.txt")
		require.NoError(t, err)
		want := make([]Row, len(rows))
		for i, r := range rows {
			want[i] = quantize(r)
		}
		if len(want) == 0 {
			require.Empty(t, again)
			return
		}
		require.Equal(t, want, again)
	})
}
