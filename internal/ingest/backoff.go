package ingest

import (
	"math/rand/v2"
	"time"
)

// Backoff computes reconnect delays: exponential with full jitter, i.e. a
// uniform draw in [0, min(Max, Base·2^attempt)]. Full jitter spreads the
// retries of hundreds of cameras behind one failed switch, so they do not
// reconnect in lockstep when it comes back.
type Backoff struct {
	Base, Max time.Duration
	// Rand returns a uniform int64 in [0, n); nil uses math/rand/v2.
	Rand    func(n int64) int64
	attempt int
}

// Next returns the delay before the next attempt and advances the attempt.
func (b *Backoff) Next() time.Duration {
	ceil := b.ceiling()
	b.attempt++
	rnd := b.Rand
	if rnd == nil {
		rnd = rand.Int64N
	}
	return time.Duration(rnd(int64(ceil) + 1))
}

// ceiling is min(Max, Base·2^attempt), doubling step by step so that a
// long outage cannot overflow the shift.
func (b *Backoff) ceiling() time.Duration {
	d := b.Base
	for i := 0; i < b.attempt && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// Reset starts again from Base, after a healthy stream.
func (b *Backoff) Reset() { b.attempt = 0 }
