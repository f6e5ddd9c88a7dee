package analysis

import "time"

// Clock maps a camera's frame time to wall time: Epoch + PTS. It is the
// only wall time inside the analysis; see the package doc.
type Clock struct {
	Epoch time.Time // wall instant of PTS 0; zero: unknown
}

// Known reports whether the epoch is known.
func (c Clock) Known() bool { return !c.Epoch.IsZero() }

// At is the wall time of pts (the zero time plus pts when unknown).
func (c Clock) At(pts time.Duration) time.Time { return c.Epoch.Add(pts) }

// AtSeconds is At for the float seconds events carry.
func (c Clock) AtSeconds(s float64) time.Time {
	return c.At(time.Duration(s * float64(time.Second)))
}
