package protocol

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/scene"
)

func loadExample(t *testing.T) *Set {
	t.Helper()
	data, err := os.ReadFile("../../configs/protocols.yaml")
	require.NoError(t, err)
	known := map[string]bool{"city-mqtt": true, "police-cad": true, "road-crew-cap": true, "duty-supervisor": true}
	s, err := Parse(data, "protocols.yaml", Options{Destination: func(n string) bool { return known[n] }})
	require.NoError(t, err)
	return s
}

func TestExampleProtocols(t *testing.T) {
	s := loadExample(t)
	london, err := time.LoadLocation("Europe/London")
	require.NoError(t, err)
	noon := time.Date(2026, 3, 4, 12, 0, 0, 0, london)
	night := time.Date(2026, 3, 4, 23, 30, 0, 0, london)

	ww := s.Find(event.Event{Camera: "highway", Rule: "wrong_way", Lane: "southbound", Class: "car", Severity: event.High}, noon)
	require.NotNil(t, ww)
	require.Equal(t, "ramp-wrong-way", ww.Name)
	require.Equal(t, Critical, ww.PriorityFor(event.Event{Severity: event.Low}))
	require.Equal(t, Police, ww.Unit)
	require.Equal(t, []string{"police-cad", "road-crew-cap", "city-mqtt"}, ww.Notify)
	require.Equal(t, time.Minute, ww.Escalate.After)
	require.Equal(t, Priority(""), ww.Escalate.Priority, "unset: one step up at run time")

	lc := s.Find(event.Event{Camera: "plaza", Rule: "line_crossing", Line: "tripwire", Severity: event.Info}, noon)
	require.NotNil(t, lc)
	require.False(t, lc.Queue, "line crossings are events, never queue items")

	jw := s.Find(event.Event{Camera: "plaza", Rule: "jaywalking", Zone: "road", Severity: event.Low}, noon)
	require.Equal(t, "plaza-jaywalking", jw.Name)
	require.Equal(t, Low, jw.Priority)
	require.Equal(t, 15*time.Minute, jw.Cooldown)

	in := event.Event{Camera: "plaza", Rule: "intrusion", Zone: "lawn", Class: "person", Severity: event.Medium}
	require.Equal(t, "night-intrusion", s.Find(in, night).Name)
	require.Equal(t, "queue-the-rest", s.Find(in, noon).Name, "the night protocol does not apply at noon")

	an := event.Event{Camera: "highway", Rule: "anomaly", Name: "direction", Class: "car", Severity: event.Medium}
	require.Equal(t, "highway-direction-anomaly", s.Find(an, noon).Name)
	an.Name = "speed"
	require.Equal(t, "queue-the-rest", s.Find(an, noon).Name)
	require.ElementsMatch(t, []string{"city-mqtt", "police-cad", "road-crew-cap", "duty-supervisor"}, s.Destinations())
}

func TestMatchFields(t *testing.T) {
	src := `version: 1
groups: {ramp: [cam2, cam3]}
protocols:
  - name: p
    match:
      cameras: [cam1]
      groups: [ramp]
      zones: [z1]
      rules: [intrusion]
      names: [gate]
      classes: [vehicle]
      severities: [high, critical]
`
	s, err := Parse([]byte(src), "m.yaml", Options{})
	require.NoError(t, err)
	at := time.Now()
	ok := event.Event{Camera: "cam3", Zone: "z1", Rule: "intrusion", Name: "gate", Class: "truck", Severity: event.High}
	require.NotNil(t, s.Find(ok, at))
	for name, mut := range map[string]func(*event.Event){
		"camera":   func(e *event.Event) { e.Camera = "cam9" },
		"zone":     func(e *event.Event) { e.Zone = "z2" },
		"rule":     func(e *event.Event) { e.Rule = "loitering" },
		"name":     func(e *event.Event) { e.Name = "other" },
		"class":    func(e *event.Event) { e.Class = "person" },
		"severity": func(e *event.Event) { e.Severity = event.Medium },
	} {
		e := ok
		mut(&e)
		require.Nil(t, s.Find(e, at), name)
	}
}

func TestDefault(t *testing.T) {
	s := Default()
	at := time.Now()
	require.False(t, s.Find(event.Event{Rule: "line_crossing", Severity: event.Info}, at).Queue)
	require.False(t, s.Find(event.Event{Rule: "crowd", Severity: event.Info}, at).Queue)
	p := s.Find(event.Event{Rule: "jaywalking", Severity: event.Medium}, at)
	require.True(t, p.Queue)
	require.Equal(t, Medium, p.PriorityFor(event.Event{Severity: event.Medium}))
	require.Equal(t, 10*time.Minute, p.GroupWindow)
}

// TestErrorsLocated is the acceptance test "a malformed protocol config
// gets a line:column error", with every problem reported at once.
func TestErrorsLocated(t *testing.T) {
	src := `version: 1
groups:
  ramp: [cam1]
protocols:
  - name: a
    match: {rules: [teleport], groups: [nowhere]}
    priority: urgent
    unit: army
  - name: b
    colour: red
  - name: a
    group_window: soon
    escalate: {priority: low}
    priority: high
    notify: [pager]
  - name: c
    queue: false
    priority: high
`
	_, err := Parse([]byte(src), "bad.yaml", Options{Destination: func(string) bool { return false }})
	require.Error(t, err)
	var es scene.Errors
	require.ErrorAs(t, err, &es)
	msg := err.Error()
	for _, want := range []string{
		`bad.yaml:6:21: protocols[0].match.rules[0]: unknown rule type "teleport"`,
		`bad.yaml:6:41: protocols[0].match.groups[0]: unknown camera group "nowhere"`,
		`bad.yaml:7:15: protocols[0].priority: unknown priority "urgent"`,
		`bad.yaml:8:11: protocols[0].unit: unknown unit type "army"`,
		`bad.yaml:10:5: protocols[1]: `,
		`bad.yaml:11:11: protocols[2].name: duplicate protocol name "a"`,
		`bad.yaml:12:19: protocols[2].group_window: want a duration`,
		`protocols[2].escalate.after: an escalation needs after`,
		`protocols[2].escalate.priority: escalating lowers the priority from high to low`,
		`bad.yaml:15:14: protocols[2].notify[0]: unknown destination "pager"`,
		`bad.yaml:17:12: protocols[3].queue: a protocol with queue: false`,
	} {
		require.Contains(t, msg, want)
	}
	require.Contains(t, msg, "colour", "an unknown field is named")
	require.GreaterOrEqual(t, len(es), 11, "every problem at once:\n%s", msg)
}

func TestSyntaxAndShapeErrors(t *testing.T) {
	for src, want := range map[string]string{
		"":                                 "x.yaml:1:1: empty protocol file",
		"version: 1\nprotocols: [\n":       "x.yaml:",
		"- a\n":                            "x.yaml:1:1: a protocol file is a mapping",
		"version: 2\n":                     "x.yaml:1:10: version: unsupported version 2",
		"version: 1\nfoo: 1\n":             "x.yaml:2:1: foo: unknown field",
		"version: 1\nprotocols: {a: 1}\n":  "protocols: want a list",
		"version: 1\n---\nversion: 1\n":    "one YAML document",
		"version: 1\nschedules: {n: {}}\n": "schedules.n.windows: need 1 to",
	} {
		_, err := Parse([]byte(src), "x.yaml", Options{})
		require.Error(t, err, src)
		require.Contains(t, err.Error(), want, src)
	}
	_, err := Parse([]byte(strings.Repeat("#", MaxFileSize+1)), "big.yaml", Options{})
	require.ErrorContains(t, err, "the limit is")
}

func TestPriority(t *testing.T) {
	require.Equal(t, Medium, Low.Raise())
	require.Equal(t, Critical, Critical.Raise())
	require.Equal(t, Critical, Priority("bogus").Raise())
	require.Equal(t, High, FromSeverity(event.High))
	require.Equal(t, Low, FromSeverity(event.Info))
}

// FuzzParse: any input gives a set or located errors, never a panic, and
// quickly (inputs are bounded by MaxFileSize).
func FuzzParse(f *testing.F) {
	data, err := os.ReadFile("../../configs/protocols.yaml")
	require.NoError(f, err)
	f.Add(data)
	f.Add([]byte(DefaultYAML))
	f.Add([]byte("version: 1\nprotocols:\n  - name: &a x\n    match: *a\n"))
	f.Add([]byte("version: 1\nschedules: {n: {windows: [{from: '25:00', to: x}]}}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 64<<10 {
			return
		}
		s, err := Parse(b, "fuzz.yaml", Options{})
		if err != nil {
			require.Nil(t, s)
			for _, line := range strings.Split(err.Error(), "\n") {
				require.True(t, strings.HasPrefix(line, "fuzz.yaml:"), "unlocated error %q", line)
			}
			return
		}
		require.NotNil(t, s)
		s.Find(event.Event{Rule: "intrusion", Camera: "c"}, time.Now())
	})
}
