package search

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Text limits: the parser never looks at more than this.
const (
	MaxTextLen    = 512
	maxTextTokens = 64
)

// Words of the text parser.
var (
	colourWords = map[string]string{"gray": "grey", "navy": "blue", "maroon": "red", "burgundy": "red",
		"beige": "brown", "tan": "brown", "khaki": "brown", "violet": "purple", "lilac": "purple",
		"dark": "", "light": "", "bright": ""}
	upperWords = []string{"top", "tops", "upper", "jacket", "coat", "shirt", "t-shirt", "tshirt", "sweater",
		"jumper", "hoodie", "blouse", "vest", "dress", "cardigan", "fleece", "anorak"}
	lowerWords = []string{"trousers", "pants", "jeans", "shorts", "skirt", "bottom", "bottoms", "lower", "legs",
		"leggings", "slacks", "chinos"}
	carriedWords = map[string]string{"backpack": "backpack", "rucksack": "backpack", "bag": "handbag",
		"handbag": "handbag", "purse": "handbag", "suitcase": "suitcase", "luggage": "suitcase",
		"trolley": "suitcase", "umbrella": "umbrella", "brolly": "umbrella"}
	personWords  = []string{"person", "people", "man", "men", "woman", "women", "pedestrian", "someone", "guy", "girl", "boy", "lady"}
	vehicleWords = map[string]string{"car": "car", "cars": "car", "van": "car", "suv": "car", "taxi": "car",
		"bus": "bus", "truck": "truck", "lorry": "truck", "motorcycle": "motorcycle", "motorbike": "motorcycle",
		"bicycle": "bicycle", "bike": "bicycle", "cyclist": "bicycle", "vehicle": "vehicle"}
	headingVerbs = []string{"heading", "going", "walking", "moving", "driving", "travelling", "traveling", "towards", "toward", "running"}
	headingWords = map[string]string{"n": "north", "ne": "north-east", "e": "east", "se": "south-east",
		"s": "south", "sw": "south-west", "w": "west", "nw": "north-west", "northeast": "north-east",
		"southeast": "south-east", "southwest": "south-west", "northwest": "north-west",
		"northbound": "north", "southbound": "south", "eastbound": "east", "westbound": "west"}
	fillerWords = []string{"a", "an", "the", "in", "with", "and", "wearing", "carrying", "holding", "on", "of", "at",
		"who", "is", "was", "any", "camera", "cameras", "cam", "from", "to", "between", "after", "before", "wheeled"}
)

// Parsed is the text parser's answer: the query and the words it did
// not understand (the console shows them).
type Parsed struct {
	Query   Query    `json:"query"`
	Unknown []string `json:"unknown,omitempty"`
}

// parser walks the tokens of one text.
type parser struct {
	toks    []string
	i       int
	day     time.Time // midnight of the reference day, for clock times
	q       Query
	pending []string // colours waiting for their region word
	vehicle bool
	unknown []string
}

// Parse reads a phrase such as "red top black trousers backpack heading
// north between 14:00 and 14:30 camera cam1" into a Query. Clock times
// are on ref's day and in its location. Text over MaxTextLen bytes is an
// error; words past the 64th are ignored and reported.
func Parse(text string, ref time.Time) (Parsed, error) {
	if len(text) > MaxTextLen {
		return Parsed{}, fmt.Errorf("search text is %d bytes, more than %d", len(text), MaxTextLen)
	}
	toks := tokens(text)
	p := &parser{day: time.Date(ref.Year(), ref.Month(), ref.Day(), 0, 0, 0, 0, ref.Location())}
	if len(toks) > maxTextTokens {
		p.unknown = append(p.unknown, fmt.Sprintf("(%d words past the first %d)", len(toks)-maxTextTokens, maxTextTokens))
		toks = toks[:maxTextTokens]
	}
	p.toks = toks
	for p.i < len(p.toks) {
		p.word(p.toks[p.i])
		p.i++
	}
	p.flush()
	p.q.Upper, p.q.Lower = dedup(p.q.Upper), dedup(p.q.Lower)
	p.q.Colours, p.q.Carried, p.q.Cameras = dedup(p.q.Colours), dedup(p.q.Carried), dedup(p.q.Cameras)
	p.q.Classes = dedup(p.q.Classes)
	if err := p.q.Validate(); err != nil {
		return Parsed{}, err
	}
	return Parsed{Query: p.q, Unknown: p.unknown}, nil
}

func tokens(text string) []string {
	f := func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == ':' || r == '.' || r == '-' || r == '_')
	}
	return strings.FieldsFunc(strings.ToLower(text), f)
}

func (p *parser) next() (string, bool) {
	if p.i+1 >= len(p.toks) {
		return "", false
	}
	p.i++
	return p.toks[p.i], true
}

// word handles one token.
func (p *parser) word(w string) {
	switch {
	case p.colour(w):
	case slices.Contains(upperWords, w):
		p.q.Upper, p.pending = append(p.q.Upper, p.pending...), nil
	case slices.Contains(lowerWords, w):
		p.q.Lower, p.pending = append(p.q.Lower, p.pending...), nil
	case carriedWords[w] != "":
		p.q.Carried = append(p.q.Carried, carriedWords[w])
		if len(p.pending) > 0 { // the colour of a bag is not recorded
			p.unknown = append(p.unknown, strings.Join(p.pending, " ")+" "+w)
			p.pending = nil
		}
	case slices.Contains(personWords, w):
		p.q.Classes = append(p.q.Classes, "person")
	case vehicleWords[w] != "":
		p.vehicle = true
		p.q.Classes = append(p.q.Classes, vehicleWords[w])
		p.q.Colours, p.pending = append(p.q.Colours, p.pending...), nil
	case slices.Contains(headingVerbs, w):
		p.heading()
	case p.clock(w):
	case w == "camera" || w == "cam" || w == "cameras":
		if c, ok := p.next(); ok {
			p.q.Cameras = append(p.q.Cameras, c)
		}
	case w == "zone":
		if z, ok := p.next(); ok {
			p.q.Zones = append(p.q.Zones, z)
		}
	case p.height(w):
	case slices.Contains(fillerWords, w):
	default:
		p.unknown = append(p.unknown, w)
	}
}

// colour takes a colour word (pending until its region is named).
func (p *parser) colour(w string) bool {
	if c, ok := colourWords[w]; ok {
		if c != "" {
			p.pending = append(p.pending, c)
		}
		return true
	}
	if slices.Contains(Colours, w) {
		p.pending = append(p.pending, w)
		return true
	}
	return false
}

// flush gives colours named without a region to the upper body (or the
// vehicle).
func (p *parser) flush() {
	if len(p.pending) == 0 {
		return
	}
	if p.vehicle {
		p.q.Colours = append(p.q.Colours, p.pending...)
	} else {
		p.q.Upper = append(p.q.Upper, p.pending...)
	}
	p.pending = nil
}

func (p *parser) heading() {
	w, ok := p.next()
	if ok && (w == "to" || w == "towards" || w == "the") {
		w, ok = p.next()
	}
	if !ok {
		return
	}
	if h, known := headingWords[w]; known {
		w = h
	}
	if HeadingIndex(w) >= 0 {
		p.q.Heading = w
		return
	}
	p.unknown = append(p.unknown, w)
}

// clock reads "14:00" after between/after/before/from/to/and.
func (p *parser) clock(w string) bool {
	if p.i == 0 {
		return false
	}
	t, ok := p.clockTime(w)
	if !ok {
		return false
	}
	switch p.toks[p.i-1] {
	case "after", "between", "from", "since":
		p.q.Since = t
	case "before", "and", "to", "until":
		p.q.Until = t
	default:
		return false
	}
	return true
}

func (p *parser) clockTime(w string) (time.Time, bool) {
	hh, mm, ok := strings.Cut(w, ":")
	if !ok || len(hh) == 0 || len(hh) > 2 || len(mm) != 2 {
		return time.Time{}, false
	}
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if err1 != nil || err2 != nil || h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0) {
		return time.Time{}, false
	}
	return p.day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute), true
}

// height reads "taller than 1.8m", "shorter than 1.6 m", "over 1.8m".
func (p *parser) height(w string) bool {
	var lower bool
	switch w {
	case "taller", "over", "above":
		lower = true
	case "shorter", "under", "below":
	default:
		return false
	}
	v, ok := p.next()
	if ok && v == "than" {
		v, ok = p.next()
	}
	m, err := strconv.ParseFloat(strings.TrimSuffix(v, "m"), 64)
	if !ok || err != nil || m <= 0.5 || m >= 2.5 {
		p.unknown = append(p.unknown, w+" "+v)
		return true
	}
	if p.i+1 < len(p.toks) && p.toks[p.i+1] == "m" {
		p.i++
	}
	if lower {
		p.q.MinHeightM = m
	} else {
		p.q.MaxHeightM = m
	}
	return true
}

func dedup(s []string) []string {
	var out []string
	for _, x := range s {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
