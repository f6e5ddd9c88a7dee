package auth

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// clock is an injected clock the tests move by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{t: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)} }

func TestThrottleAccountLockout(t *testing.T) {
	c := newClock()
	th := NewThrottle(DefaultThrottle, c.now)
	for i := range 4 {
		th.Fail("ana", fmt.Sprintf("10.0.0.%d:1", i))
		ok, _ := th.Allow("ana", "10.0.0.9:1")
		require.True(t, ok, "failure %d of 5", i+1)
	}
	th.Fail("Ana", "10.0.0.5:1") // names compare case-insensitively
	ok, wait := th.Allow("ana", "10.0.0.9:1")
	require.False(t, ok, "locked after 5, from any address")
	require.Equal(t, time.Minute, wait)
	ok, _ = th.Allow("bob", "10.0.0.9:1")
	require.True(t, ok, "other accounts are not affected")

	c.add(time.Minute)
	ok, _ = th.Allow("ana", "10.0.0.9:1")
	require.True(t, ok, "the lock ends")
	th.Fail("ana", "10.0.0.9:1")
	_, wait = th.Allow("ana", "10.0.0.9:1")
	require.Equal(t, 2*time.Minute, wait, "each further failure doubles the lock")
	c.add(wait)
	th.Succeed("ana")
	ok, _ = th.Allow("ana", "10.0.0.9:1")
	require.True(t, ok, "a success clears the account")
}

// TestThrottleGuessRate: a guesser who tries whenever allowed, from
// addresses that change each time, gets few guesses an hour at one account.
func TestThrottleGuessRate(t *testing.T) {
	c := newClock()
	th := NewThrottle(DefaultThrottle, c.now)
	guesses := 0
	for end := c.now().Add(time.Hour); c.now().Before(end); c.add(time.Second) {
		addr := fmt.Sprintf("10.2.%d.%d:1", guesses/256, guesses%256)
		if ok, _ := th.Allow("ana", addr); ok {
			th.Fail("ana", addr)
			guesses++
		}
	}
	t.Logf("%d guesses in an hour", guesses)
	require.LessOrEqual(t, guesses, 12, "instead of 3600")

	p := DefaultThrottle
	p.MaxLockout = 3 * time.Minute
	th = NewThrottle(p, c.now)
	for range 50 {
		th.Fail("bob", "10.0.0.1:1")
		_, wait := th.Allow("bob", "10.0.0.2:1")
		require.LessOrEqual(t, wait, 3*time.Minute, "the lock is capped")
	}
}

func TestThrottleWindow(t *testing.T) {
	c := newClock()
	th := NewThrottle(DefaultThrottle, c.now)
	for range 4 {
		th.Fail("ana", "10.0.0.1:1")
		c.add(5 * time.Minute)
	}
	c.add(10 * time.Minute) // 15 quiet minutes clear the strikes
	th.Fail("ana", "10.0.0.1:1")
	ok, _ := th.Allow("ana", "10.0.0.2:1")
	require.True(t, ok, "strikes end after a quiet window")
	for range 4 {
		c.add(14 * time.Minute)
		th.Fail("ana", "10.0.0.1:1")
	}
	ok, _ = th.Allow("ana", "10.0.0.2:1")
	require.False(t, ok, "slow but steady guessing is still caught")
}

func TestThrottleAddress(t *testing.T) {
	c := newClock()
	th := NewThrottle(DefaultThrottle, c.now)
	for i := range 20 {
		th.Fail(fmt.Sprintf("user%d", i), "192.0.2.7:4000")
	}
	ok, wait := th.Allow("someone", "192.0.2.7:5000")
	require.False(t, ok, "one address guessing many accounts is locked (any port)")
	require.Equal(t, time.Minute, wait)
	ok, _ = th.Allow("someone", "192.0.2.8:5000")
	require.True(t, ok)
	th.Succeed("user1")
	ok, _ = th.Allow("user1", "192.0.2.7:5000")
	require.False(t, ok, "logging into one's own account does not reset the address")

	for i := range 20 {
		th.Fail(fmt.Sprintf("v%d", i), fmt.Sprintf("[2001:db8:1:2::%x]:443", i+1))
	}
	ok, _ = th.Allow("x", "[2001:db8:1:2:ffff::1]:1")
	require.False(t, ok, "IPv6 counts by /64")
}

func TestThrottleBoundedMemory(t *testing.T) {
	c := newClock()
	p := DefaultThrottle
	p.MaxKeys = 100
	th := NewThrottle(p, c.now)
	for i := range 1000 {
		th.Fail(fmt.Sprintf("u%d", i), fmt.Sprintf("10.1.%d.%d:1", i/256, i%256))
	}
	require.LessOrEqual(t, len(th.accounts), 100)
	require.LessOrEqual(t, len(th.addrs), 100)
}

func TestAddrKey(t *testing.T) {
	require.Equal(t, "10.0.0.1", AddrKey("10.0.0.1:80"))
	require.Equal(t, "10.0.0.1", AddrKey("[::ffff:10.0.0.1]:80"))
	require.Equal(t, "2001:db8::/64", AddrKey("[2001:db8::5]:80"))
	require.Equal(t, "10.0.0.1", AddrKey("10.0.0.1"))
	require.Equal(t, "pipe", AddrKey("pipe"))
}
