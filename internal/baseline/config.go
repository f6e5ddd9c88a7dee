package baseline

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/vigil-cctv/vigil/internal/event"
)

// Rule is the Rule field of every alert this package raises.
const Rule = "anomaly"

// Kinds of anomaly; the alert's Rule is "anomaly" and its Name is the kind.
const (
	KindClass     = "class"     // class rare at this place
	KindDirection = "direction" // heading rare for this class at this place
	KindSpeed     = "speed"     // faster than normal for this class at this place
	KindSize      = "size"      // box much larger/smaller than normal for class at place
	KindDwell     = "dwell"     // stays much longer than normal for class at place
	KindBusy      = "occupancy" // frame-level: many more objects of a class in a zone (or whole view) than normal for the hour
)

// Kind indices: arrays indexed by kind are cheaper than maps on the
// per-sample path.
const (
	kindClass = iota
	kindDirection
	kindSpeed
	kindSize
	kindDwell
	kindBusy
	numKinds
)

// kindNames lists the kinds in index order.
func kindNames() [numKinds]string {
	return [numKinds]string{KindClass, KindDirection, KindSpeed, KindSize, KindDwell, KindBusy}
}

// kindIndex finds a kind by name.
func kindIndex(name string) (int, bool) {
	for i, n := range kindNames() {
		if n == name {
			return i, true
		}
	}
	return 0, false
}

// Config tunes a Model; the zero value plus Defaults() is usable.
type Config struct {
	CellMetres    float64        // ground grid cell side when calibrated (default 2)
	CellPixels    int            // image grid cell side when uncalibrated (default 32)
	Warmup        time.Duration  // model time observed before any anomaly alert (default 30m)
	HalfLife      time.Duration  // decay half-life of learned counts, in model time (default 7*24h)
	BudgetPerHour float64        // target anomaly alerts per camera-hour after warm-up (default 2)
	MinThreshold  float64        // floor of every calibrated threshold, in surprise units -log10 p (default 3)
	Epoch         time.Time      // wall instant of PTS 0; zero = no hour-of-week buckets (one bucket)
	Severity      event.Severity // of anomaly alerts (default event.Medium)
	Kinds         []string       // enabled kinds; nil = all (see Kind constants)
	// SuppressFor is how long, in model time, a false-alarm verdict keeps
	// the same situation from alerting again (default 7 days).
	SuppressFor time.Duration
}

// Defaults fills every zero field with its default.
func (c Config) Defaults() Config {
	if c.CellMetres == 0 {
		c.CellMetres = 2
	}
	if c.CellPixels == 0 {
		c.CellPixels = 32
	}
	if c.Warmup == 0 {
		c.Warmup = 30 * time.Minute
	}
	if c.HalfLife == 0 {
		c.HalfLife = 7 * 24 * time.Hour
	}
	if c.BudgetPerHour == 0 {
		c.BudgetPerHour = 2
	}
	if c.MinThreshold == 0 {
		c.MinThreshold = 3
	}
	if c.Severity == "" {
		c.Severity = event.Medium
	}
	if c.SuppressFor == 0 {
		c.SuppressFor = 7 * 24 * time.Hour
	}
	return c
}

// Validate reports every problem at once, so that a config file is fixed
// in one edit.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if !(c.CellMetres > 0) || math.IsInf(c.CellMetres, 0) {
		bad("baseline: CellMetres %v must be a positive number", c.CellMetres)
	}
	if c.CellPixels < 1 {
		bad("baseline: CellPixels %d must be at least 1", c.CellPixels)
	}
	if c.Warmup < 0 {
		bad("baseline: Warmup %v must not be negative", c.Warmup)
	}
	if c.HalfLife <= 0 {
		bad("baseline: HalfLife %v must be positive", c.HalfLife)
	}
	if !(c.BudgetPerHour > 0) || math.IsInf(c.BudgetPerHour, 0) {
		bad("baseline: BudgetPerHour %v must be a positive number", c.BudgetPerHour)
	}
	if !(c.MinThreshold > 0) || math.IsInf(c.MinThreshold, 0) {
		bad("baseline: MinThreshold %v must be a positive number", c.MinThreshold)
	}
	if c.SuppressFor < 0 {
		bad("baseline: SuppressFor %v must not be negative", c.SuppressFor)
	}
	switch c.Severity {
	case event.Info, event.Low, event.Medium, event.High, event.Critical:
	default:
		bad("baseline: unknown severity %q", c.Severity)
	}
	if _, err := c.enabled(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// enabled resolves Kinds to a mask.
func (c Config) enabled() ([numKinds]bool, error) {
	var on [numKinds]bool
	if c.Kinds == nil {
		for i := range on {
			on[i] = true
		}
		return on, nil
	}
	if len(c.Kinds) == 0 {
		return on, errors.New("baseline: Kinds is empty; leave it nil to enable every kind")
	}
	names := kindNames()
	for _, k := range c.Kinds {
		i, ok := kindIndex(k)
		if !ok {
			return on, fmt.Errorf("baseline: unknown kind %q (known: %s)", k, strings.Join(names[:], ", "))
		}
		if on[i] {
			return on, fmt.Errorf("baseline: kind %q listed twice", k)
		}
		on[i] = true
	}
	return on, nil
}
