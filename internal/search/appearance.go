package search

import (
	"math"
	"time"
)

// Appearance is what a track looked like, stored with its summary. Names
// come from the package vocabularies; a region with mixed clothing has
// several colours, the most present first.
type Appearance struct {
	// Upper and Lower are a person's upper- and lower-body colours.
	Upper []string `json:"upper,omitempty"`
	Lower []string `json:"lower,omitempty"`
	// Colours are a vehicle's body colours.
	Colours []string `json:"colours,omitempty"`
	// Carried are the objects seen with a person.
	Carried []string `json:"carried,omitempty"`
	// Heading is the compass direction of travel over the track (ground
	// plane when the camera is calibrated, else image up is north).
	Heading string `json:"heading,omitempty"`
	// HeightM is a person's height in metres; 0 when the camera is not
	// calibrated.
	HeightM float64 `json:"height_m,omitempty"`
	// Zones are the scene zones the track's foot point entered.
	Zones []string `json:"zones,omitempty"`
	// Embedding is the re-identification vector (L2-normalised on
	// storage); nil without an embedder.
	Embedding []float32 `json:"-"`
	// Thumb is a JPEG of the track's best crop.
	Thumb []byte `json:"-"`
}

// Record is one searchable track: the store's row id, where and when it
// was seen, and its appearance in the compact form the Index keeps.
type Record struct {
	ID         int64
	Camera     string
	Class      string
	Start, End time.Time
	Upper      Mask
	Lower      Mask
	Colours    Mask
	Carried    Mask
	Heading    int8 // index in Headings; -1 unknown
	HeightM    float32
	Zones      []string
	// Vec is the int8-quantised embedding (Quantise); nil: none.
	Vec []int8
}

// RecordOf builds the compact record of a track's appearance.
func RecordOf(id int64, camera, class string, start, end time.Time, a Appearance) Record {
	return Record{ID: id, Camera: camera, Class: class, Start: start, End: end,
		Upper: MaskOf(Colours, a.Upper), Lower: MaskOf(Colours, a.Lower), Colours: MaskOf(Colours, a.Colours),
		Carried: MaskOf(Carried, a.Carried), Heading: int8(HeadingIndex(a.Heading)), HeightM: float32(a.HeightM),
		Zones: a.Zones, Vec: Quantise(a.Embedding)}
}

// quantScale maps a unit vector's components to int8.
const quantScale = 127

// Quantise L2-normalises v and scales it to int8; nil for an empty or
// zero vector.
func Quantise(v []float32) []int8 {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	if len(v) == 0 || ss == 0 || math.IsNaN(ss) || math.IsInf(ss, 0) {
		return nil
	}
	inv := quantScale / math.Sqrt(ss)
	out := make([]int8, len(v))
	for i, x := range v {
		out[i] = int8(math.Round(math.Max(-quantScale, math.Min(quantScale, float64(x)*inv))))
	}
	return out
}

// Dequantise returns the unit vector q stands for (approximately).
func Dequantise(q []int8) []float32 {
	out := make([]float32, len(q))
	for i, x := range q {
		out[i] = float32(x) / quantScale
	}
	return out
}

// dot8 is the dot product of two int8 vectors of equal length.
func dot8(a, b []int8) int32 {
	var s0, s1, s2, s3 int32
	n := len(a) &^ 3
	b = b[:len(a)]
	for i := 0; i < n; i += 4 {
		s0 += int32(a[i]) * int32(b[i])
		s1 += int32(a[i+1]) * int32(b[i+1])
		s2 += int32(a[i+2]) * int32(b[i+2])
		s3 += int32(a[i+3]) * int32(b[i+3])
	}
	for i := n; i < len(a); i++ {
		s0 += int32(a[i]) * int32(b[i])
	}
	return s0 + s1 + s2 + s3
}

// Similarity is the cosine similarity of two quantised vectors.
func Similarity(a, b []int8) float64 {
	d := float64(norm8(a)) * float64(norm8(b))
	if len(a) != len(b) || d == 0 {
		return 0
	}
	return float64(dot8(a, b)) / d
}
