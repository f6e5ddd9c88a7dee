package scene

import (
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"

	"github.com/vigil-cctv/vigil/internal/detect"
)

// ruleSpec says what one rule type takes. Keeping it as a table means the
// "parameter does not fit this rule" check and the documentation cannot
// drift from the decoder.
type ruleSpec struct {
	target    string     // "zone", "line" or "lane": the one reference the rule needs
	zoneTypes []ZoneType // allowed zone types; nil: any
	classes   string     // default classes
	params    []string   // type-specific fields allowed
	required  []string   // of params, those without a default
	// calibrated rules measure in metres even with defaults only.
	calibrated bool
}

var ruleSpecs = map[RuleType]ruleSpec{
	WrongWay:                {target: "lane", classes: "vehicle", params: []string{"min_distance_m"}, calibrated: true},
	Jaywalking:              {target: "zone", zoneTypes: []ZoneType{Carriageway}, classes: "person", params: []string{"min_distance_m", "min_dwell"}},
	VehicleInPedestrianZone: {target: "zone", zoneTypes: []ZoneType{Sidewalk, Crosswalk, Custom}, classes: "vehicle", params: []string{"min_dwell"}},
	Intrusion:               {target: "zone", classes: "person", params: []string{"min_dwell"}},
	Loitering:               {target: "zone", classes: "person", params: []string{"min_dwell"}, required: []string{"min_dwell"}},
	StoppedVehicle:          {target: "zone", zoneTypes: []ZoneType{Carriageway}, classes: "vehicle", params: []string{"min_dwell"}, required: []string{"min_dwell"}},
	Crowd:                   {target: "zone", classes: "person", params: []string{"max_count", "max_density_per_m2", "min_dwell"}},
	Dispersal:               {target: "zone", classes: "person", params: []string{"min_tracks", "min_speed_ms", "window"}, calibrated: true},
	Speeding:                {target: "zone", zoneTypes: []ZoneType{Carriageway}, classes: "vehicle", params: []string{"speed_limit_kmh", "smoothing"}, required: []string{"speed_limit_kmh"}, calibrated: true},
	LineCrossing:            {target: "line", classes: "all", params: []string{"bucket"}},
}

var ruleTypes = []string{"wrong_way", "jaywalking", "vehicle_in_pedestrian_zone", "intrusion", "loitering", "stopped_vehicle", "crowd", "dispersal", "speeding", "line_crossing"}

var commonRuleFields = []string{"name", "type", "classes", "schedule", "severity", "cooldown"}

// allRuleFields is every field some rule type takes, so that a field no
// rule knows reads "unknown field" and one that another type knows reads
// "not a parameter of this type".
var allRuleFields = append(slices.Clone(commonRuleFields), "zone", "line", "lane",
	"min_dwell", "min_distance_m", "speed_limit_kmh", "smoothing", "max_count",
	"max_density_per_m2", "min_tracks", "min_speed_ms", "window", "bucket")

// param decodes one type-specific parameter into the rule. metric
// parameters are in metres and need a calibration.
type param struct {
	metric bool
	decode func(b *builder, r *Rule, n ast.Node, path string) bool
}

var params = map[string]param{
	"min_dwell": {decode: func(b *builder, r *Rule, n ast.Node, path string) (ok bool) {
		r.MinDwell, ok = b.duration(n, path, 100*time.Millisecond)
		return ok
	}},
	"min_distance_m": {metric: true, decode: func(b *builder, r *Rule, n ast.Node, path string) (ok bool) {
		r.MinDistanceM, ok = b.positive(n, path)
		return ok
	}},
	"speed_limit_kmh": {metric: true, decode: func(b *builder, r *Rule, n ast.Node, path string) (ok bool) {
		r.SpeedLimitKmh, ok = b.positive(n, path)
		return ok
	}},
	"smoothing": {decode: func(b *builder, r *Rule, n ast.Node, path string) (ok bool) {
		r.Smoothing, ok = b.duration(n, path, time.Second)
		return ok
	}},
	"max_count": {decode: func(b *builder, r *Rule, n ast.Node, path string) (ok bool) {
		r.MaxCount, ok = b.integer(n, path, 1, 1_000_000)
		return ok
	}},
	"max_density_per_m2": {metric: true, decode: func(b *builder, r *Rule, n ast.Node, path string) (ok bool) {
		r.MaxDensityPerM2, ok = b.positive(n, path)
		return ok
	}},
	"min_tracks": {decode: func(b *builder, r *Rule, n ast.Node, path string) (ok bool) {
		r.MinTracks, ok = b.integer(n, path, 2, 10_000)
		return ok
	}},
	"min_speed_ms": {metric: true, decode: func(b *builder, r *Rule, n ast.Node, path string) (ok bool) {
		r.MinSpeedMS, ok = b.positive(n, path)
		return ok
	}},
	"window": {decode: func(b *builder, r *Rule, n ast.Node, path string) (ok bool) {
		r.Window, ok = b.duration(n, path, 100*time.Millisecond)
		return ok
	}},
	"bucket": {decode: func(b *builder, r *Rule, n ast.Node, path string) (ok bool) {
		r.Bucket, ok = b.duration(n, path, time.Second)
		return ok
	}},
}

// defaults fills in the documented defaults before the file's values.
func (r *Rule) defaults() {
	r.Severity, r.Cooldown = Medium, 30*time.Second
	switch r.Type {
	case WrongWay:
		r.MinDistanceM = 8
	case Dispersal:
		r.MinTracks, r.MinSpeedMS, r.Window = 4, 2.5, 2*time.Second
	case Speeding:
		r.Smoothing = time.Second
	case LineCrossing:
		// Counts, not alerts: no cooldown, lowest severity.
		r.Bucket, r.Severity, r.Cooldown = 15*time.Minute, Info, 0
	}
}

// rule decodes one rule.
func (b *builder) rule(n ast.Node, path string) {
	f := b.mapping(n, path, allRuleFields)
	if f == nil {
		return
	}
	t, ok := b.enum(b.require(f, "type"), path+".type", ruleTypes)
	if !ok {
		return // without a type nothing else can be judged
	}
	r := &Rule{Type: RuleType(t)}
	spec := ruleSpecs[r.Type]
	r.defaults()
	ok = b.ruleFieldsFit(f, spec, r.Type, path)
	ok = b.ruleTarget(r, f, spec, path) && ok
	ok = b.ruleCommon(r, f, spec, path) && ok
	ok = b.ruleParams(r, f, spec, path) && ok
	ok = b.ruleName(r, f, path) && ok
	if ok {
		b.s.Rules = append(b.s.Rules, r)
	}
}

// ruleFieldsFit rejects fields that belong to other rule types.
func (b *builder) ruleFieldsFit(f *fields, spec ruleSpec, t RuleType, path string) bool {
	takes := slices.Concat(commonRuleFields, []string{spec.target}, spec.params)
	ok := true
	for _, key := range allRuleFields {
		if f.has(key) && !slices.Contains(takes, key) {
			b.errorf(f.keys[key], join(path, key), "not a parameter of %s rules (they take: %s)", t, strings.Join(takes, ", "))
			ok = false
		}
	}
	return ok
}

// ruleTarget resolves the zone, line or lane the rule watches.
func (b *builder) ruleTarget(r *Rule, f *fields, spec ruleSpec, path string) bool {
	n := b.require(f, spec.target)
	if n == nil {
		return false
	}
	p := join(path, spec.target)
	switch spec.target {
	case "line":
		r.Line = lookup(b, b.lines, n, p, "line")
		return r.Line != nil
	case "lane":
		r.Lane = lookup(b, b.lanes, n, p, "lane")
		return r.Lane != nil
	}
	r.Zone = lookup(b, b.zones, n, p, "zone")
	if r.Zone == nil {
		return false
	}
	return spec.zoneTypes == nil || b.zoneType(r.Zone, n, p, spec.zoneTypes...)
}

// ruleCommon decodes the fields every rule takes.
func (b *builder) ruleCommon(r *Rule, f *fields, spec ruleSpec, path string) bool {
	ok := b.classes(r, f, spec.classes, path)
	if n := f.get("schedule"); n != nil {
		r.Schedule = lookup(b, b.schedules, n, path+".schedule", "schedule")
		ok = ok && r.Schedule != nil
	}
	if n := f.get("severity"); n != nil {
		s, sok := b.enum(n, path+".severity", severities)
		r.Severity, ok = Severity(s), ok && sok
	}
	if n := f.get("cooldown"); n != nil {
		var cok bool
		r.Cooldown, cok = b.duration(n, path+".cooldown", 0)
		ok = ok && cok
	}
	if spec.calibrated && !b.calibrated() {
		b.errorf(f.get("type"), path+".type", "%s rules measure in metres and need a ground-plane calibration (add a calibration: section)", r.Type)
		ok = false
	}
	return ok
}

// calibrated is true when the file has a calibration section, valid or
// not: an invalid one is reported on its own, not again on every rule.
func (b *builder) calibrated() bool { return b.hasCalibration }

// classes decodes the class list, each name checked on its own so that an
// error points at the bad entry.
func (b *builder) classes(r *Rule, f *fields, def string, path string) bool {
	n := f.get("classes")
	if n == nil {
		r.Classes = []string{def}
		r.ClassSet, _ = detect.ParseClassSet(def)
		return true
	}
	p := path + ".classes"
	items, ok := b.seq(n, p)
	if !ok {
		return false
	}
	if len(items) == 0 {
		b.errorf(b.resolve(n, p), p, "empty class list; leave classes out for the default (%s)", def)
		return false
	}
	r.ClassSet = detect.ClassSet{}
	for i, it := range items {
		name, sok := b.str(it, index(p, i))
		if !sok {
			ok = false
			continue
		}
		// ParseClassSet splits on commas; one entry must be one class.
		set, err := detect.ParseClassSet(name)
		if err != nil || strings.Contains(name, ",") {
			b.errorf(it, index(p, i), "unknown class %q (known: %s, vehicle, all)", name, strings.Join(detect.KeptNames(), ", "))
			ok = false
			continue
		}
		r.Classes = append(r.Classes, name)
		for c := range set {
			r.ClassSet[c] = true
		}
	}
	return ok
}

// ruleParams decodes the type-specific parameters and checks the ones that
// depend on each other or on the calibration.
func (b *builder) ruleParams(r *Rule, f *fields, spec ruleSpec, path string) bool {
	ok := true
	for _, key := range spec.params {
		n := f.get(key)
		p := join(path, key)
		switch {
		case n == nil && slices.Contains(spec.required, key):
			b.require(f, key)
			ok = false
		case n == nil:
		case params[key].metric && !b.calibrated() && !spec.calibrated:
			// (calibrated rule types already reported the missing calibration)
			b.errorf(f.keys[key], p, "is in metres and needs a ground-plane calibration (add a calibration: section)")
			ok = false
		default:
			ok = params[key].decode(b, r, n, p) && ok
		}
	}
	if r.Type == Crowd {
		ok = b.crowdLimit(r, f, path) && ok
	}
	return ok
}

// crowdLimit checks a crowd rule has exactly one limit, and that a density
// limit has a zone area to divide by.
func (b *builder) crowdLimit(r *Rule, f *fields, path string) bool {
	count, density := f.has("max_count"), f.has("max_density_per_m2")
	if count == density {
		b.errorf(f.node, path, "crowd rules need exactly one of max_count or max_density_per_m2")
		return false
	}
	if density && r.Zone != nil && b.s.Homography != nil && r.Zone.Ground == nil {
		b.errorf(f.keys["max_density_per_m2"], path+".max_density_per_m2",
			"zone %q has no ground area (part of it lies at or above the horizon)", r.Zone.Name)
		return false
	}
	return true
}

// ruleName sets the rule's name, defaulting to "<type>-<target>", and
// checks it is unique so alerts and counters can be keyed by it.
func (b *builder) ruleName(r *Rule, f *fields, path string) bool {
	n := f.get("name")
	if n == nil && r.targetName() == "" {
		return false // the target failed and is reported; no default name
	}
	if n != nil {
		name, ok := b.name(n, path+".name")
		if !ok {
			return false
		}
		r.Name = name
	} else {
		r.Name = string(r.Type) + "-" + r.targetName()
		n = f.node
	}
	if first, dup := b.ruleNames[r.Name]; dup {
		b.errorf(n, path+".name", "duplicate rule name %q (also %s); give one of them a distinct name", r.Name, first)
		return false
	}
	b.ruleNames[r.Name] = path
	return true
}

// targetName is the name of whatever the rule watches.
func (r *Rule) targetName() string {
	switch {
	case r.Zone != nil:
		return r.Zone.Name
	case r.Line != nil:
		return r.Line.Name
	case r.Lane != nil:
		return r.Lane.Name
	}
	return ""
}
