package scene

import (
	"fmt"
	"strings"
	"time"
)

// NewWindow builds a weekly window from day names (mon … sun, weekdays,
// weekend, daily; none means every day) and "HH:MM" times, for other
// files that reuse the schedule type (alert protocols). The rules are the
// scene file's: "24:00" only as an end, to ≤ from crosses midnight.
func NewWindow(days []string, from, to string) (Window, error) {
	var w Window
	if len(days) == 0 {
		days = []string{"daily"}
	}
	for _, d := range days {
		ds, ok := dayNames[strings.ToLower(d)]
		if !ok {
			return w, fmt.Errorf("unknown day %q (known: %s)", d, dayList)
		}
		for _, x := range ds {
			w.Days[x] = true
		}
	}
	var err error
	if w.From, err = parseClock(from); err != nil {
		return w, fmt.Errorf("from: %w", err)
	}
	if w.From == 24*time.Hour {
		return w, fmt.Errorf("from: 24:00 is only allowed as an end time")
	}
	if w.To, err = parseClock(to); err != nil {
		return w, fmt.Errorf("to: %w", err)
	}
	if w.From == w.To {
		return w, fmt.Errorf("window is empty (from = to); for a whole day use from: \"00:00\", to: \"24:00\"")
	}
	return w, nil
}

// RuleTypes lists the rule types a scene may use, for files that refer to
// them (alert protocols).
func RuleTypes() []string { return append([]string(nil), ruleTypes...) }
