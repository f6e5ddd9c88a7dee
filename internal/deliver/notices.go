package deliver

import (
	"encoding/json"
	"fmt"
	"time"
)

// Availability is the retained per-camera availability document.
type Availability struct {
	Camera string    `json:"camera"`
	Online bool      `json:"online"`
	State  string    `json:"state"` // the camera supervisor's state: streaming, stalled, failed, …
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

// AvailabilityMessages announce a camera's availability to dests (MQTT
// retains it, so a dashboard that connects later sees the current state).
// Enqueue them when a camera's state changes.
func AvailabilityMessages(dests []string, a Availability) []Message {
	id := fmt.Sprintf("availability-%s-%d", a.Camera, a.At.UnixMicro())
	return build(dests, id, a.Camera, KindAvailability, "", a)
}

// Count is one counter's increase, as line crossings are counted.
type Count struct {
	Camera    string    `json:"camera"`
	Name      string    `json:"name"` // line or zone
	Class     string    `json:"class"`
	Direction string    `json:"direction,omitempty"`
	Bucket    time.Time `json:"bucket"`
	N         int64     `json:"n"` // added in this message
	Total     int64     `json:"total,omitempty"`
}

// CountMessages publish counters to dests (topic .../counts/<name>).
// Enqueue them where the counters are flushed to the store.
func CountMessages(dests []string, at time.Time, cs []Count) []Message {
	var out []Message
	for i, c := range cs {
		id := fmt.Sprintf("count-%s-%s-%s-%s-%d-%d", c.Camera, c.Name, c.Class, c.Direction, at.UnixMicro(), i)
		out = append(out, build(dests, id, c.Camera, KindCount, c.Name, c)...)
	}
	return out
}

func build(dests []string, id, camera, kind, subject string, v any) []Message {
	payload, err := json.Marshal(struct {
		ID   string `json:"id"`
		Data any    `json:"data"`
	}{id, v})
	if err != nil {
		return nil // plain strings, times and integers always encode
	}
	out := make([]Message, 0, len(dests))
	for _, d := range dests {
		out = append(out, Message{ID: id, Destination: d, Camera: camera, Kind: kind, Subject: subject, Payload: payload})
	}
	return out
}
