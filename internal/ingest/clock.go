package ingest

import "time"

// clock maps each session's source timestamps onto one continuous camera
// time line, so that trackers and rules downstream never see time go back.
//
// The offset is chosen when the first frame of a new session arrives:
//   - the very first session starts at 0 (a live stream's first PTS is
//     arbitrary);
//   - a looping file restarts its PTS at (about) 0, so it is placed one
//     frame interval after the last frame: the offset grows by the previous
//     loop's duration, exactly as if the file were one long recording;
//   - a live stream restarts its PTS at 0 (or anywhere) on reconnect, so it
//     is placed after the last frame by the wall-clock time that really
//     passed (at least one interval): a 20 s outage is a 20 s gap, and
//     tracks and dwell timers age by the time the camera was blind.
//
// Within a session the source's own deltas are kept; a step backwards
// (a camera resetting its clock mid-stream) is re-based like a new session.
type clock struct {
	offset   time.Duration
	last     time.Duration // last continuous PTS handed out
	lastWall time.Time     // when that frame was received
	started  bool          // any frame seen yet
	rebase   bool          // next frame starts a new session
	live     bool          // the new session is a live stream
}

// newSession marks the next frame as the start of a new session.
func (c *clock) newSession(live bool) {
	c.rebase, c.live = true, live
}

// pts returns the continuous PTS for a source timestamp received at now;
// interval is the nominal frame interval.
func (c *clock) pts(src time.Duration, now time.Time, interval time.Duration) time.Duration {
	switch {
	case !c.started:
		c.offset = -src
	case c.rebase:
		c.offset = c.last + c.gap(now, interval) - src
	case src+c.offset <= c.last:
		c.offset = c.last + interval - src
	}
	c.started, c.rebase = true, false
	c.last, c.lastWall = src+c.offset, now
	return c.last
}

func (c *clock) gap(now time.Time, interval time.Duration) time.Duration {
	if c.live {
		return max(interval, now.Sub(c.lastWall))
	}
	return interval
}
