package search

import (
	"math"
	"math/bits"
	"slices"
)

// Colours are the named colours the attributes use: the eleven basic
// colour terms (Berlin and Kay). Their order fixes the bits of a Mask and
// is append-only, since masks are stored.
var Colours = []string{"black", "white", "grey", "red", "orange", "yellow", "green", "blue", "purple", "pink", "brown"}

// Carried are the carried objects the detector finds (COCO classes), in
// Mask bit order (append-only).
var Carried = []string{"backpack", "handbag", "suitcase", "umbrella"}

// Headings are the eight compass directions, clockwise from north; index
// i is the direction i*45° clockwise from north.
var Headings = []string{"north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west"}

// VehicleTypes are the vehicle classes a vehicle track may have.
var VehicleTypes = []string{"car", "bus", "truck", "motorcycle", "bicycle"}

// Mask is a set of names from one vocabulary (Colours or Carried), one
// bit per name in vocabulary order.
type Mask uint32

// MaskOf sets the bits of the known names in vocab; unknown names are
// ignored.
func MaskOf(vocab, names []string) Mask {
	var m Mask
	for _, n := range names {
		if i := slices.Index(vocab, n); i >= 0 {
			m |= 1 << i
		}
	}
	return m
}

// Names lists the names of m's bits in vocabulary order.
func (m Mask) Names(vocab []string) []string {
	var out []string
	for i, n := range vocab {
		if m&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// Count is the number of names in m.
func (m Mask) Count() int { return bits.OnesCount32(uint32(m)) }

// HeadingIndex returns the index of a heading name, or -1.
func HeadingIndex(name string) int { return slices.Index(Headings, name) }

// HeadingOf names the compass direction of a ground-plane displacement
// (dx east, dy north); ok is false for a displacement of zero.
func HeadingOf(dx, dy float64) (string, bool) {
	if dx == 0 && dy == 0 {
		return "", false
	}
	deg := math.Atan2(dx, dy) * 180 / math.Pi // clockwise from north
	i := int(math.Floor((deg+22.5)/45+8)) % 8
	return Headings[i], true
}

// headingNear reports whether two heading indexes are at most one step
// (45°) apart: "heading north" also finds north-east and north-west.
func headingNear(a, b int) bool {
	d := (a - b + 8) % 8
	return d <= 1 || d == 7
}
