package scene

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// Schedule is a named set of weekly time windows; a rule with a schedule
// only fires inside one of its windows.
type Schedule struct {
	Name string
	// Location is the schedule's time zone; nil means the wall clock of the
	// time passed to Active (the camera's local time, as the pipeline
	// stamps frames).
	Location *time.Location
	Windows  []Window
}

// Window is a daily time range on some days of the week. From and To are
// offsets from midnight. When To ≤ From the window crosses midnight and
// ends the next morning; Days names the day on which it starts, so
// "fri 22:00–06:00" covers Friday night into Saturday morning.
type Window struct {
	Days     [7]bool // indexed by time.Weekday
	From, To time.Duration
}

// Active reports whether t falls in any window.
func (s *Schedule) Active(t time.Time) bool {
	if s.Location != nil {
		t = t.In(s.Location)
	}
	for _, w := range s.Windows {
		if w.Active(t) {
			return true
		}
	}
	return false
}

// Active reports whether t's wall-clock time falls in the window. Times are
// wall-clock offsets, not elapsed durations, so a window keeps meaning
// "20:00" across daylight-saving changes.
func (w Window) Active(t time.Time) bool {
	h, m, s := t.Clock()
	tod := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute +
		time.Duration(s)*time.Second + time.Duration(t.Nanosecond())
	day := t.Weekday()
	if w.From < w.To {
		return w.Days[day] && tod >= w.From && tod < w.To
	}
	yesterday := (day + 6) % 7
	return (w.Days[day] && tod >= w.From) || (w.Days[yesterday] && tod < w.To)
}

var dayNames = map[string][]time.Weekday{
	"mon": {time.Monday}, "tue": {time.Tuesday}, "wed": {time.Wednesday},
	"thu": {time.Thursday}, "fri": {time.Friday}, "sat": {time.Saturday}, "sun": {time.Sunday},
	"weekdays": {time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
	"weekend":  {time.Saturday, time.Sunday},
	"daily":    {time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday},
}

const dayList = "mon, tue, wed, thu, fri, sat, sun, weekdays, weekend, daily"

// schedule decodes one schedule.
func (b *builder) schedule(n ast.Node, path string) {
	f := b.mapping(n, path, []string{"name", "timezone", "windows"})
	if f == nil {
		return
	}
	s := &Schedule{}
	name, okName := objectName(b, f, path, b.schedules, "schedule")
	s.Name = name
	ok := okName
	if tz := f.get("timezone"); tz != nil {
		ok = b.timezone(s, tz, path+".timezone") && ok
	}
	if wn := b.require(f, "windows"); wn != nil {
		ok = b.windows(s, wn, path+".windows") && ok
	} else {
		ok = false
	}
	if okName {
		b.schedules[name] = s
	}
	if ok {
		b.s.Schedules = append(b.s.Schedules, s)
	}
}

func (b *builder) timezone(s *Schedule, n ast.Node, path string) bool {
	name, ok := b.str(n, path)
	if !ok {
		return false
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "" {
		b.errorf(n, path, "unknown time zone %q (use an IANA name such as \"Europe/London\")", name)
		return false
	}
	s.Location = loc
	return true
}

func (b *builder) windows(s *Schedule, n ast.Node, path string) bool {
	items, ok := b.seq(n, path)
	if !ok {
		return false
	}
	if len(items) == 0 {
		b.errorf(n, path, "need at least one window")
		return false
	}
	for i, it := range items {
		w, wok := b.window(it, index(path, i))
		s.Windows = append(s.Windows, w)
		ok = ok && wok
	}
	return ok
}

func (b *builder) window(n ast.Node, path string) (Window, bool) {
	var w Window
	f := b.mapping(n, path, []string{"days", "from", "to"})
	if f == nil {
		return w, false
	}
	okDays := true
	if dn := f.get("days"); dn != nil {
		w.Days, okDays = b.days(dn, path+".days")
	} else {
		w.Days = [7]bool{true, true, true, true, true, true, true}
	}
	var okFrom, okTo bool
	if fn := b.require(f, "from"); fn != nil {
		w.From, okFrom = b.clock(fn, path+".from", false)
	}
	tn := b.require(f, "to")
	if tn != nil {
		w.To, okTo = b.clock(tn, path+".to", true)
	}
	if okFrom && okTo && w.From == w.To {
		b.errorf(tn, path+".to", "window is empty (from = to); for a whole day use from: \"00:00\", to: \"24:00\"")
		okTo = false
	}
	return w, okDays && okFrom && okTo
}

func (b *builder) days(n ast.Node, path string) ([7]bool, bool) {
	var out [7]bool
	items, ok := b.seq(n, path)
	if !ok {
		return out, false
	}
	if len(items) == 0 {
		b.errorf(n, path, "empty list of days; leave days out for every day")
		return out, false
	}
	for i, it := range items {
		s, sok := b.str(it, index(path, i))
		days, known := dayNames[strings.ToLower(s)]
		if sok && !known {
			b.errorf(it, index(path, i), "unknown day %q (known: %s)", s, dayList)
		}
		ok = ok && sok && known
		for _, d := range days {
			out[d] = true
		}
	}
	return out, ok
}

// clock decodes "HH:MM" or "HH:MM:SS" as an offset from midnight; "24:00"
// is only allowed as an end time.
func (b *builder) clock(n ast.Node, path string, end bool) (time.Duration, bool) {
	s, ok := b.str(n, path)
	if !ok {
		return 0, false
	}
	d, err := parseClock(s)
	if err == nil && d == 24*time.Hour && !end {
		err = fmt.Errorf("24:00 is only allowed as an end time")
	}
	if err != nil {
		b.errorf(n, path, "want a time of day \"HH:MM\": %v", err)
		return 0, false
	}
	return d, true
}

func parseClock(s string) (time.Duration, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	var v [3]int
	limits := [3]int{24, 59, 59}
	for i, p := range parts {
		x, err := strconv.Atoi(p)
		if err != nil || len(p) != 2 || x < 0 || x > limits[i] {
			return 0, fmt.Errorf("%q is not HH:MM", s)
		}
		v[i] = x
	}
	d := time.Duration(v[0])*time.Hour + time.Duration(v[1])*time.Minute + time.Duration(v[2])*time.Second
	if d > 24*time.Hour {
		return 0, fmt.Errorf("%q is past 24:00", s)
	}
	return d, nil
}
