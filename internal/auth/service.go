package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/vigil-cctv/vigil/internal/store"
)

// Errors of authentication. The API answers all of them alike, so that a
// client cannot tell an unknown user from a wrong password.
var (
	ErrUnauthenticated = errors.New("not logged in or session expired")
	ErrBadCredentials  = errors.New("wrong user name or password")
)

// ThrottledError refuses a login because of earlier failures.
type ThrottledError struct{ Wait time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed logins; try again in %s", e.Wait.Round(time.Second))
}

// InputError is a request the caller must fix: a bad name, a weak
// password, a role above the owner's.
type InputError struct{ msg string }

func (e *InputError) Error() string { return e.msg }

func inputErrorf(format string, args ...any) error {
	return &InputError{msg: fmt.Sprintf(format, args...)}
}

// Options configure a Service; zero fields take the defaults.
type Options struct {
	Now    func() time.Time
	Params Params // password hashing (DefaultParams)
	// SessionIdle ends a session unused this long (default 1 h);
	// SessionMax ends any session this long after login (default 12 h, a
	// control-room shift).
	SessionIdle time.Duration
	SessionMax  time.Duration
	Throttle    ThrottlePolicy
	Log         *slog.Logger
}

// touchEvery limits how often a session's or token's last use is
// written: once a minute is precise enough for an idle timeout.
const touchEvery = time.Minute

// Service authenticates users and tokens and manages accounts, sessions,
// tokens, camera groups and the audit log.
type Service struct {
	st       Store
	opts     Options
	throttle *Throttle
	log      *slog.Logger
	// dummyHash is verified against when a login names no user, so that
	// an unknown name costs as long as a wrong password.
	dummyOnce sync.Once
	dummyHash string
	// AuditFailures counts audit entries that could not be written after
	// retries: a metric, and a reason the service is not healthy.
	AuditFailures atomic.Int64
}

// New returns a Service over st.
func New(st Store, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Params == (Params{}) {
		opts.Params = DefaultParams
	}
	if opts.SessionIdle <= 0 {
		opts.SessionIdle = time.Hour
	}
	if opts.SessionMax <= 0 {
		opts.SessionMax = 12 * time.Hour
	}
	if opts.Throttle == (ThrottlePolicy{}) {
		opts.Throttle = DefaultThrottle
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{st: st, opts: opts, throttle: NewThrottle(opts.Throttle, opts.Now), log: opts.Log}
}

// SessionMax is how long a session lives at most (for the cookie's
// Max-Age).
func (s *Service) SessionMax() time.Duration { return s.opts.SessionMax }

func (s *Service) now() time.Time { return s.opts.Now().UTC() }

// Login checks a user name and password from addr and opens a session.
// It returns the new session id, which only the client keeps.
func (s *Service) Login(ctx context.Context, name, password, addr, userAgent string) (string, Principal, error) {
	name = NormalizeName(name)
	if ok, wait := s.throttle.Allow(name, addr); !ok {
		return "", Principal{}, &ThrottledError{Wait: wait}
	}
	u, err := s.checkPassword(ctx, name, password)
	if err != nil {
		if !errors.Is(err, ErrBadCredentials) {
			return "", Principal{}, err
		}
		s.throttle.Fail(name, addr)
		detail := strings.TrimPrefix(err.Error(), ErrBadCredentials.Error()+": ")
		if ok, wait := s.throttle.Allow(name, addr); !ok {
			detail += fmt.Sprintf("; further logins refused for %s", wait.Round(time.Second))
		}
		s.Audit(ctx, Actor{Name: auditName(name), Via: ViaSession, Addr: addr}, "login_failed", "user/"+auditName(name), nil, nil, detail)
		return "", Principal{}, ErrBadCredentials
	}
	s.throttle.Succeed(name)
	sid := newSecret()
	now := s.now()
	sess := Session{IDHash: HashSecret(sid), UserID: u.ID, Created: now, LastSeen: now,
		Expires: now.Add(s.opts.SessionMax), Addr: addr, UserAgent: truncate(userAgent, 200)}
	if err := s.st.CreateSession(ctx, sess); err != nil {
		return "", Principal{}, err
	}
	if _, err := s.st.DeleteExpiredSessions(ctx, now, now.Add(-s.opts.SessionIdle)); err != nil {
		s.log.Warn("expired sessions not removed", "err", err)
	}
	p, err := s.principal(ctx, u, u.Role, ViaSession)
	if err != nil {
		return "", Principal{}, err
	}
	p.SessionID = sid
	s.Audit(ctx, p.Actor(addr), "login", "user/"+u.Name, nil, nil, "")
	return sid, p, nil
}

// checkPassword finds the user and verifies the password; every failure
// is ErrBadCredentials with a reason for the audit log. A hash made with
// older parameters is replaced.
func (s *Service) checkPassword(ctx context.Context, name, password string) (User, error) {
	u, err := s.st.GetUserByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (u.Disabled || u.PasswordHash == "")) {
		// Spend the same time as for a real user.
		_, _ = VerifyPassword(ctx, password, s.dummy(ctx), s.opts.Params)
		if err == nil {
			return u, fmt.Errorf("%w: account disabled", ErrBadCredentials)
		}
		return u, fmt.Errorf("%w: no such user", ErrBadCredentials)
	}
	if err != nil {
		return u, err
	}
	stale, err := VerifyPassword(ctx, password, u.PasswordHash, s.opts.Params)
	if errors.Is(err, ErrMismatch) {
		return u, fmt.Errorf("%w: wrong password", ErrBadCredentials)
	}
	if err != nil {
		return u, fmt.Errorf("user %s: %w", u.Name, err)
	}
	if stale {
		s.rehash(ctx, u, password)
	}
	return u, nil
}

func (s *Service) rehash(ctx context.Context, u User, password string) {
	h, err := HashPassword(ctx, password, s.opts.Params)
	if err == nil {
		u.PasswordHash = h
		err = s.st.UpdateUser(ctx, u)
	}
	if err != nil {
		s.log.Warn("password hash not upgraded", "user", u.Name, "err", err)
	}
}

func (s *Service) dummy(ctx context.Context) string {
	s.dummyOnce.Do(func() {
		s.dummyHash, _ = HashPassword(ctx, newSecret(), s.opts.Params)
	})
	return s.dummyHash
}

// Session authenticates a session cookie's value.
func (s *Service) Session(ctx context.Context, sid string) (Principal, error) {
	if !validSecret(sid) {
		return Principal{}, ErrUnauthenticated
	}
	h := HashSecret(sid)
	sess, err := s.st.GetSession(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, err
	}
	now := s.now()
	if !now.Before(sess.Expires) || now.Sub(sess.LastSeen) >= s.opts.SessionIdle {
		if err := s.st.DeleteSession(ctx, h); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.log.Warn("expired session not removed", "err", err)
		}
		return Principal{}, ErrUnauthenticated
	}
	u, err := s.activeUser(ctx, sess.UserID)
	if err != nil {
		return Principal{}, err
	}
	if now.Sub(sess.LastSeen) >= touchEvery {
		if err := s.st.TouchSession(ctx, h, now); err != nil {
			s.log.Warn("session not touched", "err", err)
		}
	}
	p, err := s.principal(ctx, u, u.Role, ViaSession)
	p.SessionID = sid
	return p, err
}

// activeUser loads an enabled user; a missing or disabled one is
// ErrUnauthenticated.
func (s *Service) activeUser(ctx context.Context, id int64) (User, error) {
	u, err := s.st.GetUser(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
		return u, ErrUnauthenticated
	}
	return u, err
}

// Logout ends a session.
func (s *Service) Logout(ctx context.Context, p Principal, addr string) error {
	if p.SessionID == "" {
		return nil
	}
	err := s.st.DeleteSession(ctx, HashSecret(p.SessionID))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	s.Audit(ctx, p.Actor(addr), "logout", "user/"+p.Name(), nil, nil, "")
	return nil
}

// Token authenticates an Authorization header holding an API token.
func (s *Service) Token(ctx context.Context, header string) (Principal, error) {
	id, secret, err := ParseBearer(header)
	if err != nil {
		return Principal{}, ErrUnauthenticated
	}
	t, err := s.st.GetToken(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, err
	}
	now := s.now()
	if subtle.ConstantTimeCompare([]byte(HashSecret(secret)), []byte(t.SecretHash)) != 1 ||
		!t.Revoked.IsZero() || (!t.Expires.IsZero() && !now.Before(t.Expires)) {
		return Principal{}, ErrUnauthenticated
	}
	u, err := s.activeUser(ctx, t.UserID)
	if err != nil {
		return Principal{}, err
	}
	if now.Sub(t.LastUsed) >= touchEvery {
		if err := s.st.TouchToken(ctx, id, now); err != nil {
			s.log.Warn("token not touched", "token", id, "err", err)
		}
	}
	p, err := s.principal(ctx, u, min(t.Role, u.Role), ViaToken)
	p.TokenID = t.ID
	return p, err
}

// ProxyUser authenticates a user named by a trusted proxy's header: the
// user must exist here and be enabled; the role and groups are Vigil's.
func (s *Service) ProxyUser(ctx context.Context, name string) (Principal, error) {
	u, err := s.st.GetUserByName(ctx, NormalizeName(name))
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, err
	}
	return s.principal(ctx, u, u.Role, ViaProxy)
}

// principal builds a principal, resolving the user's camera groups.
func (s *Service) principal(ctx context.Context, u User, role Role, via string) (Principal, error) {
	p := Principal{User: u, Role: role, Via: via}
	if len(u.Groups) == 0 {
		return p, nil
	}
	p.cameras = map[string]bool{}
	for _, name := range u.Groups {
		g, err := s.st.GetGroup(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			continue // a deleted group grants nothing
		}
		if err != nil {
			return Principal{}, err
		}
		for _, c := range g.Cameras {
			p.cameras[c] = true
		}
	}
	return p, nil
}

// truncate keeps at most n bytes of valid UTF-8 (both stores want it
// valid; a browser's User-Agent is not bound to be).
func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}
