// Package detect finds people, vehicles and carried objects in frames. This
// file holds the pure-Go part shared with the tracker and the outputs: the
// detection record, the COCO class table Vigil keeps, and class groups.
package detect

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vigil-cctv/vigil/internal/geom"
)

// Class is a COCO class index as YOLO models number them.
type Class int

// The COCO classes Vigil keeps. Others are dropped at decode time.
const (
	Person     Class = 0
	Bicycle    Class = 1
	Car        Class = 2
	Motorcycle Class = 3
	Bus        Class = 5
	Truck      Class = 7
	Backpack   Class = 24
	Umbrella   Class = 25
	Handbag    Class = 26
	Suitcase   Class = 28
)

var classNames = map[Class]string{
	Person: "person", Bicycle: "bicycle", Car: "car", Motorcycle: "motorcycle",
	Bus: "bus", Truck: "truck", Backpack: "backpack", Umbrella: "umbrella",
	Handbag: "handbag", Suitcase: "suitcase",
}

// String is the COCO name, or "class<N>" for classes Vigil does not keep.
func (c Class) String() string {
	if n, ok := classNames[c]; ok {
		return n
	}
	return fmt.Sprintf("class%d", int(c))
}

// Kept reports whether Vigil keeps this class.
func (c Class) Kept() bool { _, ok := classNames[c]; return ok }

// IsVehicle is true for car, truck, bus and motorcycle: the classes a
// detector confuses with one another, so NMS and tracking treat them as one
// group (one car must not also be a truck).
func (c Class) IsVehicle() bool {
	return c == Car || c == Truck || c == Bus || c == Motorcycle
}

// Group is the suppression/association group: all vehicles share one,
// every other class is its own.
func (c Class) Group() int {
	if c.IsVehicle() {
		return int(Car)
	}
	return int(c)
}

// Detection is one object found in one frame, in source-frame pixels.
type Detection struct {
	Box   geom.Box
	Class Class
	Score float32
}

// ClassSet is a filter over classes; the zero value keeps every kept class.
type ClassSet map[Class]bool

// Allows reports whether c passes the filter.
func (s ClassSet) Allows(c Class) bool {
	if len(s) == 0 {
		return c.Kept()
	}
	return s[c]
}

// ParseClassSet reads a comma-separated list of class names. "vehicle"
// stands for car, truck, bus and motorcycle; "carried" for backpack,
// handbag, suitcase and umbrella; "all" for every kept class.
func ParseClassSet(list string) (ClassSet, error) {
	set := ClassSet{}
	for _, raw := range strings.Split(list, ",") {
		name := strings.TrimSpace(strings.ToLower(raw))
		switch name {
		case "":
			continue
		case "all":
			for c := range classNames {
				set[c] = true
			}
		case "vehicle", "vehicles":
			set[Car], set[Truck], set[Bus], set[Motorcycle] = true, true, true, true
		case "carried":
			set[Backpack], set[Handbag], set[Suitcase], set[Umbrella] = true, true, true, true
		default:
			c, ok := ClassByName(name)
			if !ok {
				return nil, fmt.Errorf("unknown class %q (known: %s, vehicle, carried, all)", raw, strings.Join(KeptNames(), ", "))
			}
			set[c] = true
		}
	}
	if len(set) == 0 {
		return nil, fmt.Errorf("empty class list %q", list)
	}
	return set, nil
}

// ClassByName finds a kept class by its COCO name.
func ClassByName(name string) (Class, bool) {
	for c, n := range classNames {
		if n == name {
			return c, true
		}
	}
	return 0, false
}

// KeptNames lists kept class names in COCO order.
func KeptNames() []string {
	cs := make([]int, 0, len(classNames))
	for c := range classNames {
		cs = append(cs, int(c))
	}
	sort.Ints(cs)
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = classNames[Class(c)]
	}
	return out
}
