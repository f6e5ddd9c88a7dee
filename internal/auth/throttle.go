package auth

import (
	"net/netip"
	"strings"
	"sync"
	"time"
)

// ThrottlePolicy bounds password guessing, per account and per client
// address. Failures count as strikes until a Window passes with neither a
// failure nor a lock. From the limit on, each failure
// locks the key for Lockout, doubling with every further strike up to
// MaxLockout. A success clears the account's strikes (not the
// address's: logging into one's own account must not reset a guesser).
type ThrottlePolicy struct {
	AccountLimit int
	AddrLimit    int
	Window       time.Duration
	Lockout      time.Duration
	MaxLockout   time.Duration
	// MaxKeys bounds the memory a flood of names or addresses can take.
	MaxKeys int
}

// DefaultThrottle allows 5 wrong passwords per account and 20 per
// address in quick succession, then locks for 1 minute, 2, 4 … up to 15:
// about a dozen guesses an hour at one account (TestThrottleGuessRate).
var DefaultThrottle = ThrottlePolicy{AccountLimit: 5, AddrLimit: 20, Window: 15 * time.Minute,
	Lockout: time.Minute, MaxLockout: 15 * time.Minute, MaxKeys: 10000}

// Throttle counts failed logins in memory. In a cluster each node counts
// its own; the audit log has every failure.
type Throttle struct {
	p   ThrottlePolicy
	now func() time.Time

	mu       sync.Mutex
	accounts map[string]*failures
	addrs    map[string]*failures
}

type failures struct {
	strikes int
	last    time.Time // the latest failure
	locked  time.Time // refused until then
}

// NewThrottle makes a throttle on the given clock (nil: time.Now).
func NewThrottle(p ThrottlePolicy, now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	return &Throttle{p: p, now: now, accounts: map[string]*failures{}, addrs: map[string]*failures{}}
}

// Allow reports whether a login for account from addr may be tried now;
// when not, how long until it may.
func (t *Throttle) Allow(account, addr string) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	wait := max(t.lockLeft(t.accounts, accountKey(account), now), t.lockLeft(t.addrs, AddrKey(addr), now))
	return wait <= 0, wait
}

func (t *Throttle) lockLeft(m map[string]*failures, key string, now time.Time) time.Duration {
	if f := m[key]; f != nil {
		return f.locked.Sub(now)
	}
	return 0
}

// Fail records a failed login.
func (t *Throttle) Fail(account, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.fail(t.accounts, accountKey(account), t.p.AccountLimit, now)
	t.fail(t.addrs, AddrKey(addr), t.p.AddrLimit, now)
}

// Succeed clears the account's failures.
func (t *Throttle) Succeed(account string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.accounts, accountKey(account))
}

func (t *Throttle) fail(m map[string]*failures, key string, limit int, now time.Time) {
	f := m[key]
	if f == nil {
		t.makeRoom(m, now)
		f = &failures{}
		m[key] = f
	}
	if f.quiet(now, t.p.Window) {
		f.strikes = 0
	}
	f.strikes++
	f.last = now
	if over := f.strikes - limit; over >= 0 {
		lock := t.p.Lockout << min(over, 16) // 2^16 × the base is past any sane maximum
		if lock > t.p.MaxLockout || lock <= 0 {
			lock = t.p.MaxLockout
		}
		f.locked = now.Add(lock)
	}
}

// makeRoom keeps a map under MaxKeys: forget keys that are quiet and
// unlocked, and if that is not enough, any key.
func (t *Throttle) makeRoom(m map[string]*failures, now time.Time) {
	if len(m) < t.p.MaxKeys {
		return
	}
	for k, f := range m {
		if f.quiet(now, t.p.Window) {
			delete(m, k)
		}
	}
	for k := range m {
		if len(m) < t.p.MaxKeys {
			break
		}
		delete(m, k)
	}
}

// quiet reports whether a whole window has passed since the last failure
// and the lock it caused, clearing the strikes.
func (f *failures) quiet(now time.Time, window time.Duration) bool {
	return now.Sub(f.last) >= window && now.Sub(f.locked) >= window
}

func accountKey(name string) string { return strings.ToLower(name) }

// AddrKey is the throttling key of a client address ("host:port" or a
// bare host): IPv4 addresses count alone, IPv6 addresses by /64, since
// one client usually holds a whole /64.
func AddrKey(addr string) string {
	ap, err := netip.ParseAddrPort(addr)
	var ip netip.Addr
	if err == nil {
		ip = ap.Addr()
	} else if ip, err = netip.ParseAddr(addr); err != nil {
		return addr
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
