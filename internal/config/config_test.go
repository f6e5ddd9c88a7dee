package config

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const good = `version: 1
listen: "127.0.0.1:9090"
store: {driver: sqlite}
media: {max_age: 48h}
cameras:
  - id: plaza
    url: /usr/share/doc/opencv-doc/examples/data/vtest.avi
    loop: true
    scene: scenes/pets09-s2l1.yaml
  - id: gate-2
    url: rtsp://admin:s3cret@10.0.0.7:554/stream1
    fps: 5
    classes: person,vehicle
`

func TestParseGood(t *testing.T) {
	c, err := Parse([]byte(good), "vigil.yaml")
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:9090", c.Listen)
	require.Equal(t, Duration(48*time.Hour), c.Media.MaxAge)
	require.Len(t, c.Cameras, 2)
	require.Equal(t, "plaza", c.Cameras[0].Name, "name defaults to id")
	require.Equal(t, "tcp", c.Cameras[1].Transport)
	require.Equal(t, 1, c.Detector.Threads, "one thread per lane")
	require.Equal(t, min(runtime.NumCPU(), maxLanes), c.Detector.Lanes, "a lane per core")
	require.Equal(t, Duration(30*time.Minute), c.Anomaly.Warmup)
	require.Equal(t, 2.0, c.Anomaly.BudgetPerHour)
	require.False(t, c.Anomaly.Disabled)
	require.Equal(t, Duration(24*time.Hour), c.Feedback.SuppressFor)
}

func TestParseErrorsNameLineColumnAndField(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"unknown field", "version: 1\nlisten: \":80\"\nbogus: 3\n", `v.yaml:3:1: unknown field "bogus"`},
		{"bad version", "version: 3\n", "v.yaml:1:10: version: unsupported version 3"},
		{"bad listen", "version: 1\nlisten: nowhere\n", "v.yaml:2:9: listen: want host:port"},
		{"duplicate id", "version: 1\ncameras:\n  - {id: a, url: /x}\n  - {id: a, url: /y}\n", "v.yaml:4:10: cameras[1].id: duplicate camera id"},
		{"bad scheme", "version: 1\ncameras:\n  - id: a\n    url: ftp://u:pw@h/x\n", "v.yaml:4:10: cameras[0].url: unsupported URL ftp://u:xxxxx@h/x"},
		{"recorded stream", "version: 1\ncameras:\n  - {id: a, url: 'rtsp://h/x', recorded: /t.txt}\n", "cameras[0].recorded: is for recorded files"},
		{"bad class", "version: 1\ncameras:\n  - {id: a, url: /x, classes: dragons}\n", `cameras[0].classes: unknown class "dragons"`},
		{"bad duration", "version: 1\nmedia: {max_age: soon}\n", "invalid duration"},
		{"wrong type", "version: one\n", "v.yaml:1:10:"},
		{"bad budget", "version: 1\nanomaly:\n  budget_per_hour: -1\n", "v.yaml:3:20: anomaly.budget_per_hour: must be in (0,3600]"},
		{"short half-life", "version: 1\nanomaly: {half_life: 5m}\n", "anomaly.half_life: must be at least 1h"},
		{"short suppression", "version: 1\nfeedback:\n  suppress_for: 1s\n", "v.yaml:3:17: feedback.suppress_for: must be at least 1m"},
		// Issue 16 item 8: parse errors quoted the start of the password.
		{"bad port", "version: 1\ncameras:\n  - {id: a, url: 'rtsp://u:pwS3cr@h:x/'}\n", "cameras[0].url: stream URL rtsp://u:xxxxx@h:x/ is not a valid URL (invalid port after host)"},
		{"unencoded hash", "version: 1\ncameras:\n  - {id: a, url: 'rtsp://u:pw#S3cr@h/'}\n", "percent-encode it"},
		{"query secret", "version: 1\ncameras:\n  - {id: a, url: 'ftp://h/?password=pwS3cr'}\n", "unsupported URL ftp://h/?password=xxxxx"},
		{"bad replay", "version: 1\ncameras:\n  - {id: a, url: 'replay:frames=10,size=9x9999'}\n", "v.yaml:3:18: cameras[0].url: replay source: size must be"},
		{"replay no frames", "version: 1\ncameras:\n  - {id: a, url: 'replay:fps=5'}\n", "cameras[0].url: replay source: frames is required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "v.yaml")
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.NotContains(t, err.Error(), "pw@")
			require.NotContains(t, err.Error(), "S3cr")
		})
	}
}

func TestAllErrorsAtOnce(t *testing.T) {
	_, err := Parse([]byte("version: 2\nlisten: x\ncameras:\n  - {id: A, url: \"\"}\n"), "v.yaml")
	require.Error(t, err)
	require.Len(t, strings.Split(err.Error(), "\n"), 4)
}

// Lanes out of range are refused by name; a lane count is kept as given.
func TestDetectorLanes(t *testing.T) {
	_, err := Parse([]byte("version: 1\ndetector: {lanes: 99}\ncameras: [{id: a, url: /x.mp4}]\n"), "v.yaml")
	require.ErrorContains(t, err, "v.yaml:2:19: detector.lanes: must be 1..32, got 99")
	c, err := Parse([]byte("version: 1\ndetector: {lanes: 3, threads: 2}\ncameras: [{id: a, url: /x.mp4}]\n"), "v.yaml")
	require.NoError(t, err)
	require.Equal(t, 3, c.Detector.Lanes)
	require.Equal(t, 2, c.Detector.Threads)
}

// The model size defaults to n; n-int8 names setup's int8 model; an
// unknown size is refused with the known ones.
func TestDetectorModelSize(t *testing.T) {
	c, err := Parse([]byte("version: 1\ncameras: [{id: a, url: /x.mp4}]\n"), "v.yaml")
	require.NoError(t, err)
	require.Equal(t, "n", c.Detector.ModelSize)
	c, err = Parse([]byte("version: 1\ndetector: {model_size: n-int8}\ncameras: [{id: a, url: /x.mp4}]\n"), "v.yaml")
	require.NoError(t, err)
	require.Equal(t, "n-int8", c.Detector.ModelSize)
	_, err = Parse([]byte("version: 1\ndetector: {model_size: x}\ncameras: [{id: a, url: /x.mp4}]\n"), "v.yaml")
	require.ErrorContains(t, err, `detector.model_size: unknown size "x" (want one of n, s, m, n-int8)`)
}

// Recording is on by default with a day's retention and 2 GiB a camera;
// bounds too small to hold a clip are refused by name.
func TestMediaRecording(t *testing.T) {
	c, err := Parse([]byte("version: 1\ncameras: [{id: a, url: /x.mp4}]\n"), "v.yaml")
	require.NoError(t, err)
	require.False(t, c.Media.Recording.Off)
	require.Equal(t, Duration(24*time.Hour), c.Media.Recording.Retain)
	require.Equal(t, int64(2<<30), c.Media.Recording.MaxBytes)
	_, err = Parse([]byte("version: 1\nmedia: {recording: {retain: 10s, max_bytes: 1000}}\ncameras: [{id: a, url: /x.mp4}]\n"), "v.yaml")
	require.ErrorContains(t, err, "media.recording.retain: must be at least 1m, got 10s")
	require.ErrorContains(t, err, "media.recording.max_bytes: must be at least 64 MiB (67108864), got 1000")
	c, err = Parse([]byte("version: 1\nmedia: {recording: {off: true}}\ncameras: [{id: a, url: /x.mp4}]\n"), "v.yaml")
	require.NoError(t, err)
	require.True(t, c.Media.Recording.Off)
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte("version: 1\ncameras: [{id: x, url: 'rtsp://a:b@c/d'}]"))
	f.Add([]byte("{{{"))
	f.Add([]byte("version: 1\ncameras: " + strings.Repeat("[", 40)))
	f.Add([]byte("a: &a [1, 2]\nb: &b [*a, *a]\nversion: 1\ncameras: [*b]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			return
		}
		// The budget per input: 64 MB allocated. Decoding is linear once
		// depth and aliases are bounded, so no deadline is needed.
		var c *Config
		var err error
		alloc := allocated(func() { c, err = Parse(data, "f.yaml") })
		if alloc > 64<<20 {
			t.Fatalf("allocated %d MB for a %d-byte input", alloc>>20, len(data))
		}
		if err == nil {
			require.Equal(t, Version, c.Version)
			return
		}
		require.True(t, strings.HasPrefix(err.Error(), "f.yaml:"), err.Error())
	})
}

func TestDemoConfigIsValid(t *testing.T) {
	c, err := Load("../../configs/demo.yaml")
	require.NoError(t, err)
	require.Equal(t, Duration(5*time.Minute), c.Anomaly.Warmup)
	require.Len(t, c.Cameras, 2)
}

// allocated is the heap the call allocated, in bytes: a measure of its
// work that does not depend on the machine's speed.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Issue 16 item 2, for the config: deep nesting and alias blow-ups are
// refused before decoding, with the position and the limit.
func TestParseRefusesHostileYAML(t *testing.T) {
	deep := "version: 1\ncameras: " + strings.Repeat("[", 50000)
	var err error
	alloc := allocated(func() { _, err = Parse([]byte(deep), "deep.yaml") })
	require.EqualError(t, err, "deep.yaml:2:41: lists and mappings nest more than 32 levels deep")
	require.Less(t, alloc, uint64(1<<20))

	var b strings.Builder
	b.WriteString("version: 1\nx: &c [" + strings.Repeat("{id: a, url: /v}, ", 2000) + "{id: a, url: /v}]\ny: [")
	for range 300 {
		b.WriteString("*c, ")
	}
	b.WriteString("*c]\n")
	_, err = Parse([]byte(b.String()), "alias.yaml")
	require.ErrorContains(t, err, "alias.yaml:3:5: the document holds more than 1000000 values once aliases are followed (anchor &c is used 301 times")
}

func TestSourcesSection(t *testing.T) {
	c, err := Parse([]byte("version: 1\nsources:\n  allow_dirs: [/srv/video]\n  allow_loopback: true\n  allow_networks: [10.20.0.0/16]\n"), "s.yaml")
	require.NoError(t, err)
	o := c.Sources.PolicyOptions()
	require.Equal(t, []string{"/srv/video"}, o.AllowDirs)
	require.True(t, o.AllowPrivate, "cameras live on private networks: allowed unless turned off")
	require.True(t, o.AllowLoopback)
	require.False(t, o.AllowLinkLocal)
	require.Equal(t, "10.20.0.0/16", o.AllowNetworks[0].String())

	c, err = Parse([]byte("version: 1\nsources: {allow_private_networks: false}\n"), "s.yaml")
	require.NoError(t, err)
	require.False(t, c.Sources.PolicyOptions().AllowPrivate)

	_, err = Parse([]byte("version: 1\nsources:\n  allow_networks: [10.20.0.0/99]\n"), "s.yaml")
	require.ErrorContains(t, err, "s.yaml:3:20: sources.allow_networks[0]: want a CIDR range")
}

func TestHTTPAndLimitsSections(t *testing.T) {
	c, err := Parse([]byte("version: 1\n"), "d.yaml")
	require.NoError(t, err)
	require.Equal(t, Duration(30*time.Second), c.HTTP.ReadTimeout)
	require.Equal(t, 32<<10, c.HTTP.MaxHeaderBytes)
	require.Equal(t, 20, c.Limits.MaxViewersPerCamera)
	require.Equal(t, 100, c.Limits.MaxEventClients)

	c, err = Parse([]byte("version: 1\nhttp: {allowed_hosts: [vigil.example.org, '*.cctv.example'], idle_timeout: 30s}\nlimits: {max_viewers: 50}\n"), "h.yaml")
	require.NoError(t, err)
	require.Equal(t, []string{"vigil.example.org", "*.cctv.example"}, c.HTTP.AllowedHosts)
	require.Equal(t, Duration(30*time.Second), c.HTTP.IdleTimeout)
	require.Equal(t, 50, c.Limits.MaxViewers)

	_, err = Parse([]byte("version: 1\nhttp:\n  allowed_hosts: ['http://x']\n  max_header_bytes: 100\nlimits: {max_cameras: -1}\n"), "h.yaml")
	require.ErrorContains(t, err, "http.allowed_hosts[0]: want a host name")
	require.ErrorContains(t, err, "h.yaml:4:21: http.max_header_bytes: must be 4096 to 1048576")
	require.ErrorContains(t, err, "limits.max_cameras: must be 1 to 100000")
}

func TestReplayCameraAccepted(t *testing.T) {
	c, err := Parse([]byte("version: 1\ncameras:\n  - {id: a, url: 'replay:frames=795,fps=7', recorded: /t.txt, loop: true}\n"), "v.yaml")
	require.NoError(t, err)
	require.Equal(t, "replay:frames=795,fps=7", c.Cameras[0].URL)
}
