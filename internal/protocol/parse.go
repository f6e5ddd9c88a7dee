package protocol

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/scene"
)

// Limits that keep a hostile file cheap to reject; real files are far
// below them.
const (
	MaxFileSize = 1 << 20
	maxItems    = 1000
	maxDuration = 7 * 24 * time.Hour
)

// Options tune validation.
type Options struct {
	// Destination reports whether a destination name is configured; nil
	// accepts any name (a file checked without the service's config).
	Destination func(name string) bool
}

// The file's shape. Each protocol is decoded on its own, so a problem in
// one does not hide the problems of the others.
type rawProtocol struct {
	Name        string         `yaml:"name"`
	Match       rawMatch       `yaml:"match"`
	Queue       *bool          `yaml:"queue"`
	Priority    string         `yaml:"priority"`
	Unit        string         `yaml:"unit"`
	Notify      []string       `yaml:"notify"`
	GroupWindow string         `yaml:"group_window"`
	Cooldown    string         `yaml:"cooldown"`
	Escalate    *rawEscalation `yaml:"escalate"`
	AutoClose   string         `yaml:"auto_close"`
}

type rawMatch struct {
	Cameras    []string `yaml:"cameras"`
	Groups     []string `yaml:"groups"`
	Zones      []string `yaml:"zones"`
	Rules      []string `yaml:"rules"`
	Names      []string `yaml:"names"`
	Classes    []string `yaml:"classes"`
	Anomalies  []string `yaml:"anomalies"`
	Severities []string `yaml:"severities"`
	Schedule   string   `yaml:"schedule"`
}

type rawEscalation struct {
	After    string   `yaml:"after"`
	Priority string   `yaml:"priority"`
	Notify   []string `yaml:"notify"`
}

type rawSchedule struct {
	Timezone string      `yaml:"timezone"`
	Windows  []rawWindow `yaml:"windows"`
}

type rawWindow struct {
	Days []string `yaml:"days"`
	From string   `yaml:"from"`
	To   string   `yaml:"to"`
}

type rawEvents struct {
	Notify []string `yaml:"notify"`
}

var topFields = []string{"version", "groups", "schedules", "events", "protocols"}

// parse holds one run of Parse: the file, its tree and the errors so far.
type parse struct {
	name string
	root ast.Node
	opts Options
	errs scene.Errors
	set  *Set
}

// Parse decodes and validates a protocol file. name is used in error
// messages. On any problem it returns a nil Set and a scene.Errors listing
// every problem found as "file:line:column: field: message".
func Parse(data []byte, name string, opts Options) (*Set, error) {
	if len(data) > MaxFileSize {
		return nil, scene.Errors{{File: name, Line: 1, Column: 1, Msg: fmt.Sprintf("file is %d bytes; the limit is %d", len(data), MaxFileSize)}}
	}
	root, err := parseRoot(data, name)
	if err != nil {
		return nil, err
	}
	p := &parse{name: name, root: root, opts: opts, set: &Set{Groups: map[string][]string{}, Schedules: map[string]*scene.Schedule{}}}
	p.top()
	if len(p.errs) > 0 {
		return nil, sorted(p.errs)
	}
	return p.set, nil
}

// parseRoot turns the bytes into the single document's root mapping.
func parseRoot(data []byte, name string) (root ast.Node, err error) {
	// The YAML parser is third-party code fed user input: a panic in it
	// must become an error, not take the process down.
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, scene.Errors{{File: name, Line: 1, Column: 1, Msg: fmt.Sprintf("YAML parser failed: %v", r)}}
		}
	}()
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, scene.Errors{yamlError(name, err)}
	}
	var docs []ast.Node
	for _, d := range f.Docs {
		if d != nil && d.Body != nil {
			docs = append(docs, d.Body)
		}
	}
	switch {
	case len(docs) == 0:
		return nil, scene.Errors{{File: name, Line: 1, Column: 1, Msg: "empty protocol file"}}
	case len(docs) > 1:
		l, c := position(docs[1])
		return nil, scene.Errors{{File: name, Line: l, Column: c, Msg: "a protocol file holds one YAML document"}}
	}
	return docs[0], nil
}

// yamlError locates a goccy error by its token.
func yamlError(name string, err error) *scene.Error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		e := &scene.Error{File: name, Line: 1, Column: 1, Msg: oneLine(ye.GetMessage())}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			e.Line, e.Column = max(tk.Position.Line, 1), max(tk.Position.Column, 1)
		}
		return e
	}
	return &scene.Error{File: name, Line: 1, Column: 1, Msg: oneLine(err.Error())}
}

// oneLine keeps an error to its first line: one error, one output line.
func oneLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func position(n ast.Node) (int, int) {
	if n == nil || n.GetToken() == nil || n.GetToken().Position == nil {
		return 1, 1
	}
	p := n.GetToken().Position
	return max(p.Line, 1), max(p.Column, 1)
}

// errorf records a problem with the field at path ("protocols[2].unit"),
// located at that field's value, or its nearest located parent.
func (p *parse) errorf(path, format string, args ...any) {
	l, c := p.locate(path)
	p.errs = append(p.errs, &scene.Error{File: p.name, Line: l, Column: c, Path: printable(path), Msg: fmt.Sprintf(format, args...)})
}

// printable quotes a path holding control characters (a hostile key), so
// each error stays one line.
func printable(path string) string {
	if strings.IndexFunc(path, unicode.IsControl) >= 0 {
		return strconv.Quote(path)
	}
	return path
}

func (p *parse) locate(path string) (int, int) {
	for q := path; q != ""; q = parent(q) {
		yp, err := yaml.PathString("$." + q)
		if err != nil {
			continue
		}
		if n, err := yp.FilterNode(p.root); err == nil && n != nil {
			return position(n)
		}
	}
	return position(p.root)
}

// parent drops the last element of a field path.
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i <= 0 {
		return ""
	}
	return path[:i]
}

// decode unmarshals one node strictly into v, recording the error at the
// node's position.
func (p *parse) decode(n ast.Node, path string, v any) bool {
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("YAML decoder failed: %v", r)
			}
		}()
		return yaml.NodeToValue(n, v, yaml.DisallowUnknownField(), yaml.Strict())
	}()
	if err == nil {
		return true
	}
	e := yamlError(p.name, err)
	if e.Line == 1 && e.Column == 1 {
		e.Line, e.Column = position(n)
	}
	e.Path = path
	p.errs = append(p.errs, e)
	return false
}

// top decodes the sections in dependency order: groups and schedules
// before the protocols that name them.
func (p *parse) top() {
	m, ok := p.root.(*ast.MappingNode)
	if !ok {
		l, c := position(p.root)
		p.errs = append(p.errs, &scene.Error{File: p.name, Line: l, Column: c, Msg: "a protocol file is a mapping with version and protocols"})
		return
	}
	vals := map[string]ast.Node{}
	for _, kv := range m.Values {
		k := kv.Key.String()
		if !slices.Contains(topFields, k) {
			l, c := position(kv.Key)
			p.errs = append(p.errs, &scene.Error{File: p.name, Line: l, Column: c, Path: printable(k),
				Msg: fmt.Sprintf("unknown field (known: %s)", strings.Join(topFields, ", "))})
			continue
		}
		vals[k] = kv.Value
	}
	var version int
	if n := vals["version"]; n == nil {
		p.errorf("", "missing field \"version\" (this build reads version %d)", Version)
	} else if p.decode(n, "version", &version) && version != Version {
		p.errorf("version", "unsupported version %d (this build reads version %d)", version, Version)
	}
	if n := vals["groups"]; n != nil {
		p.groups(n)
	}
	if n := vals["schedules"]; n != nil {
		p.schedules(n)
	}
	if n := vals["events"]; n != nil {
		var ev rawEvents
		if p.decode(n, "events", &ev) {
			p.set.EventNotify = p.destinations(ev.Notify, "events.notify")
		}
	}
	if n := vals["protocols"]; n != nil {
		p.protocols(n)
	}
}

func (p *parse) groups(n ast.Node) {
	var gs map[string][]string
	if !p.decode(n, "groups", &gs) {
		return
	}
	for name, cams := range gs {
		path := "groups." + name
		if !scene.ValidName(name) {
			p.errorf(path, "group name %q must be 1-64 letters, digits, '-' or '_'", name)
		}
		if len(cams) == 0 || len(cams) > maxItems {
			p.errorf(path, "a group lists 1 to %d cameras", maxItems)
		}
		for i, c := range cams {
			if !scene.ValidName(c) {
				p.errorf(fmt.Sprintf("%s[%d]", path, i), "camera id %q is not valid", c)
			}
		}
		p.set.Groups[name] = cams
	}
}

func (p *parse) schedules(n ast.Node) {
	var ss map[string]rawSchedule
	if !p.decode(n, "schedules", &ss) {
		return
	}
	for name, rs := range ss {
		path := "schedules." + name
		s := &scene.Schedule{Name: name}
		if rs.Timezone != "" {
			loc, err := time.LoadLocation(rs.Timezone)
			if err != nil {
				p.errorf(path+".timezone", "unknown time zone %q (use an IANA name such as \"Europe/London\")", rs.Timezone)
			}
			s.Location = loc
		}
		if len(rs.Windows) == 0 || len(rs.Windows) > maxItems {
			p.errorf(path+".windows", "need 1 to %d windows", maxItems)
		}
		for i, rw := range rs.Windows {
			w, err := scene.NewWindow(rw.Days, rw.From, rw.To)
			if err != nil {
				p.errorf(fmt.Sprintf("%s.windows[%d]", path, i), "%v", err)
			}
			s.Windows = append(s.Windows, w)
		}
		p.set.Schedules[name] = s
	}
}

func (p *parse) protocols(n ast.Node) {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		p.errorf("protocols", "want a list of protocols")
		return
	}
	if len(seq.Values) > maxItems {
		p.errorf("protocols", "at most %d protocols", maxItems)
		return
	}
	names := map[string]bool{}
	for i, item := range seq.Values {
		path := fmt.Sprintf("protocols[%d]", i)
		var rp rawProtocol
		if !p.decode(item, path, &rp) {
			continue
		}
		if pr := p.protocol(rp, path, names); pr != nil {
			p.set.Protocols = append(p.set.Protocols, pr)
		}
	}
}

func (p *parse) protocol(rp rawProtocol, path string, names map[string]bool) *Protocol {
	pr := &Protocol{Name: rp.Name, Queue: rp.Queue == nil || *rp.Queue}
	switch {
	case !scene.ValidName(rp.Name):
		p.errorf(path+".name", "protocol name %q must be 1-64 letters, digits, '-' or '_'", rp.Name)
	case names[rp.Name]:
		p.errorf(path+".name", "duplicate protocol name %q", rp.Name)
	}
	names[rp.Name] = true
	pr.Match = p.match(rp.Match, path+".match")
	pr.Priority = p.priority(rp.Priority, path+".priority")
	if rp.Unit != "" {
		pr.Unit = Unit(rp.Unit)
		if !slices.Contains(Units(), pr.Unit) {
			p.errorf(path+".unit", "unknown unit type %q (known: police, fire, medical, road_crew)", rp.Unit)
		}
	}
	pr.Notify = p.destinations(rp.Notify, path+".notify")
	pr.GroupWindow = p.duration(rp.GroupWindow, path+".group_window", 5*time.Minute)
	pr.Cooldown = p.duration(rp.Cooldown, path+".cooldown", 0)
	pr.AutoClose = p.duration(rp.AutoClose, path+".auto_close", 0)
	if rp.Escalate != nil {
		e := &Escalation{
			After:    p.duration(rp.Escalate.After, path+".escalate.after", 0),
			Priority: p.priority(rp.Escalate.Priority, path+".escalate.priority"),
			Notify:   p.destinations(rp.Escalate.Notify, path+".escalate.notify"),
		}
		if e.After <= 0 {
			p.errorf(path+".escalate.after", "an escalation needs after: a duration such as 2m")
		}
		if pr.Priority != "" && e.Priority != "" && e.Priority.Rank() < pr.Priority.Rank() {
			p.errorf(path+".escalate.priority", "escalating lowers the priority from %s to %s", pr.Priority, e.Priority)
		}
		pr.Escalate = e
	}
	if !pr.Queue && (pr.Priority != "" || pr.Unit != "" || len(pr.Notify) > 0 || pr.Escalate != nil || rp.AutoClose != "" || rp.Cooldown != "") {
		p.errorf(path+".queue", "a protocol with queue: false makes no incident, so it cannot set priority, unit, notify, cooldown, escalate or auto_close")
	}
	return pr
}

func (p *parse) match(rm rawMatch, path string) Match {
	m := Match{Cameras: rm.Cameras, Groups: rm.Groups, Zones: rm.Zones, Rules: rm.Rules, Names: rm.Names,
		Classes: rm.Classes, Anomalies: rm.Anomalies, cameras: map[string]bool{}}
	for field, list := range map[string][]string{"cameras": rm.Cameras, "groups": rm.Groups, "zones": rm.Zones,
		"rules": rm.Rules, "names": rm.Names, "classes": rm.Classes, "anomalies": rm.Anomalies, "severities": rm.Severities} {
		if len(list) > maxItems {
			p.errorf(path+"."+field, "at most %d entries", maxItems)
		}
	}
	for i, c := range rm.Cameras {
		m.cameras[c] = true
		if !scene.ValidName(c) {
			p.errorf(fmt.Sprintf("%s.cameras[%d]", path, i), "camera id %q is not valid", c)
		}
	}
	for i, g := range rm.Groups {
		cams, ok := p.set.Groups[g]
		if !ok {
			p.errorf(fmt.Sprintf("%s.groups[%d]", path, i), "unknown camera group %q (define it under groups)", g)
		}
		for _, c := range cams {
			m.cameras[c] = true
		}
	}
	known := append(scene.RuleTypes(), AnomalyRule)
	for i, r := range rm.Rules {
		if !slices.Contains(known, r) {
			p.errorf(fmt.Sprintf("%s.rules[%d]", path, i), "unknown rule type %q (known: %s)", r, strings.Join(known, ", "))
		}
	}
	for i, k := range rm.Anomalies {
		if !slices.Contains(AnomalyKinds, k) {
			p.errorf(fmt.Sprintf("%s.anomalies[%d]", path, i), "unknown anomaly kind %q (known: %s)", k, strings.Join(AnomalyKinds, ", "))
		}
	}
	for i, s := range rm.Severities {
		if !slices.Contains(severities, event.Severity(s)) {
			p.errorf(fmt.Sprintf("%s.severities[%d]", path, i), "unknown severity %q (known: info, low, medium, high, critical)", s)
		}
		m.Severities = append(m.Severities, event.Severity(s))
	}
	if len(rm.Classes) > 0 {
		cs, err := detect.ParseClassSet(strings.Join(rm.Classes, ","))
		if err != nil {
			p.errorf(path+".classes", "%v", err)
		}
		m.classes = cs
	}
	if rm.Schedule != "" {
		s, ok := p.set.Schedules[rm.Schedule]
		if !ok {
			p.errorf(path+".schedule", "unknown schedule %q (define it under schedules)", rm.Schedule)
		}
		m.Schedule = s
	}
	if len(m.cameras) == 0 {
		m.cameras = nil
	}
	return m
}

func (p *parse) priority(s, path string) Priority {
	if s == "" {
		return ""
	}
	if Priority(s).Rank() == 0 {
		p.errorf(path, "unknown priority %q (known: low, medium, high, critical)", s)
	}
	return Priority(s)
}

func (p *parse) duration(s, path string, def time.Duration) time.Duration {
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || d > maxDuration {
		p.errorf(path, "want a duration from 0s to 168h such as 90s or 15m, got %q", s)
		return def
	}
	return d
}

func (p *parse) destinations(names []string, path string) []string {
	if len(names) > maxItems {
		p.errorf(path, "at most %d destinations", maxItems)
		return nil
	}
	for i, n := range names {
		if !scene.ValidName(n) {
			p.errorf(fmt.Sprintf("%s[%d]", path, i), "destination name %q is not valid", n)
		} else if p.opts.Destination != nil && !p.opts.Destination(n) {
			p.errorf(fmt.Sprintf("%s[%d]", path, i), "unknown destination %q (configure it under incidents.destinations)", n)
		}
	}
	return names
}

// sorted orders errors by position, keeping the order found for equal
// positions, and drops exact duplicates.
func sorted(es scene.Errors) scene.Errors {
	slices.SortStableFunc(es, func(a, b *scene.Error) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
	return slices.CompactFunc(es, func(a, b *scene.Error) bool { return *a == *b })
}
