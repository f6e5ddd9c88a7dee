package baseline

import "time"

// Calibration bookkeeping.
const (
	recalEvery = 5 * time.Minute // model time between threshold fits
	calibKeep  = 24 * time.Hour  // held-out scores older than this are forgotten
	maxScores  = 20000           // held-out scores kept per kind
	multUp     = 1.15            // false alarm: the zone's threshold rises
	multDown   = 0.95            // confirmed: it falls a little
	multMin    = 0.8
	multMax    = 3.0
)

// calib holds one kind's held-out scores and its fitted threshold.
type calib struct {
	from  time.Duration   // model time since which the scores are complete
	at    []time.Duration // model time of each score
	score []float64
	thr   float64
}

// record adds a held-out score, forgetting the oldest quarter when full.
func (c *calib) record(now time.Duration, s float64) {
	c.at = append(c.at, now)
	c.score = append(c.score, s)
	if len(c.score) > maxScores {
		c.forget(len(c.score) / 4)
	}
}

// forget drops the oldest n scores; the window then starts at the next.
func (c *calib) forget(n int) {
	if n <= 0 {
		return
	}
	if n >= len(c.score) {
		c.from = c.at[len(c.at)-1]
		c.at, c.score = c.at[:0], c.score[:0]
		return
	}
	c.from = c.at[n]
	c.at = c.at[:copy(c.at, c.at[n:])]
	c.score = c.score[:copy(c.score, c.score[n:])]
}

// calibStart is when held-out scoring starts: half way through warm-up, so
// that the first thresholds rest on the model's own late warm-up scores.
func (m *Model) calibStart() time.Duration { return m.cfg.Warmup / 2 }

// warm reports whether warm-up is over and alerts may be raised.
func (m *Model) warm() bool { return m.mt >= m.cfg.Warmup }

// threshold is kind k's threshold in zone z (−1: outside every zone or the
// whole view): the calibrated one times the zone's feedback multiplier.
func (m *Model) threshold(k, z int) float64 {
	t := m.cal[k].thr
	if f, ok := m.mult[multKey{int16(z), int8(k)}]; ok {
		t *= f
	}
	return t
}

// budgetPerKind shares the alert budget evenly between enabled kinds.
func (m *Model) budgetPerKind() float64 { return m.cfg.BudgetPerHour / float64(m.nOn) }

// recalibrate refits every enabled kind's threshold to the held-out scores
// of the last calibKeep.
func (m *Model) recalibrate() {
	for k := range numKinds {
		if !m.on[k] {
			continue
		}
		c := &m.cal[k]
		old := 0
		for old < len(c.at) && c.at[old] < m.mt-calibKeep {
			old++
		}
		c.forget(old)
		c.from = max(c.from, m.mt-calibKeep)
		hours := (m.mt - c.from).Hours()
		c.thr = potThreshold(c.score, hours, m.budgetPerKind(), m.cfg.MinThreshold)
	}
	m.pruneSuppressions()
	m.nextCal = m.mt + recalEvery
}

// recordTrack records the held-out scores of a track that ended.
func (m *Model) recordTrack(t *trackState) {
	if !t.scored {
		return
	}
	for k := range kindBusy {
		if m.on[k] {
			m.cal[k].record(m.mt, t.kinds[k].peak)
		}
	}
}
