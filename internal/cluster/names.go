package cluster

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"time"
)

// MaxIDLen bounds camera and node names.
const MaxIDLen = 64

// ValidID reports why s cannot be a camera or node id: it must be a NATS
// subject token and a KV key, so 1-64 of A-Z, a-z, 0-9, '-' and '_',
// starting with a letter or digit ('.' would split the subject, '*' and
// '>' are wildcards). The API calls it before accepting a camera.
func ValidID(s string) error {
	if s == "" {
		return fmt.Errorf("empty id")
	}
	if len(s) > MaxIDLen {
		return fmt.Errorf("id %.20q… is %d bytes, at most %d", s, len(s), MaxIDLen)
	}
	for i, r := range s {
		alnum := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if alnum || i > 0 && (r == '-' || r == '_') {
			continue
		}
		return fmt.Errorf("id %q: character %q at %d is not allowed (use A-Z, a-z, 0-9, '-', '_', starting with a letter or digit)", s, r, i)
	}
	return nil
}

// Kind is what a record in the event flow is.
type Kind string

// The record kinds, each with its own stream.
const (
	KindEvent    Kind = "events"
	KindTrack    Kind = "tracks"
	KindCounts   Kind = "counts"
	KindBaseline Kind = "baselines"
)

// Kinds lists every record kind.
var Kinds = []Kind{KindEvent, KindTrack, KindCounts, KindBaseline}

// Subject is where records of kind k for camera go: vigil.<kind>.<camera>.
func Subject(k Kind, camera string) string { return "vigil." + string(k) + "." + camera }

// DeadSubject is where poisoned records of kind k for camera end up.
func DeadSubject(k Kind, camera string) string { return "vigil.dead." + string(k) + "." + camera }

// LiveSubject is what a worker answers live-frame requests for camera on.
func LiveSubject(camera string) string { return "vigil.live." + camera }

// streamName is the JetStream stream holding kind k.
func streamName(k Kind) string {
	switch k {
	case KindEvent:
		return "VIGIL_EVENTS"
	case KindTrack:
		return "VIGIL_TRACKS"
	case KindCounts:
		return "VIGIL_COUNTS"
	}
	return "VIGIL_BASELINES"
}

// EventKey is the deterministic identity of an alert: its camera, rule
// type and name, first track and start time (frame time, seconds, kept to
// the microsecond). The same detection published twice, by a retry or by
// a redelivery, gets the same key, and the stream and the store drop the
// second. Fields are length-prefixed before hashing so no two tuples
// collide by moving a separator.
func EventKey(camera, rule, name string, track int, start float64) string {
	return keyOf("ev", camera, rule, name, strconv.Itoa(track), micros(start))
}

// TrackKey is the identity of a finished track summary.
func TrackKey(camera string, track int, start time.Time) string {
	return keyOf("tr", camera, strconv.Itoa(track), strconv.FormatInt(start.UnixMicro(), 10))
}

// CountsKey is the identity of one flush of counter increments: the
// owner's fence and the flush's sequence within that ownership.
func CountsKey(camera string, fence, seq uint64) string {
	return keyOf("ct", camera, strconv.FormatUint(fence, 10), strconv.FormatUint(seq, 10))
}

// BaselineKey is the identity of one baseline snapshot.
func BaselineKey(camera string, fence, seq uint64) string {
	return keyOf("bl", camera, strconv.FormatUint(fence, 10), strconv.FormatUint(seq, 10))
}

// micros formats seconds to the microsecond, so float noise below that
// does not change a key; NaN and infinities get fixed spellings.
func micros(sec float64) string {
	if math.IsNaN(sec) || math.IsInf(sec, 0) {
		return strconv.FormatFloat(sec, 'f', -1, 64)
	}
	return strconv.FormatInt(int64(math.Round(sec*1e6)), 10)
}

// keyOf is prefix-camera-hash: readable in a message header or a row, with
// the hash over every field length-prefixed.
func keyOf(prefix, camera string, fields ...string) string {
	h := sha256.New()
	var n [8]byte
	for _, f := range append([]string{prefix, camera}, fields...) {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	return prefix + "-" + camera + "-" + hex.EncodeToString(h.Sum(nil)[:12])
}
