package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/auth"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

var fast = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

const pw = "correct horse battery"

type fixture struct {
	svc *auth.Service
	st  *sqlite.Store
	now time.Time
}

func (f *fixture) clock() time.Time    { return f.now }
func (f *fixture) add(d time.Duration) { f.now = f.now.Add(d) }

var cli = auth.Actor{Name: "cli:root", Via: auth.ViaCLI, Addr: "local"}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := sqlite.Open(context.Background(), ":memory:")
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	f := &fixture{st: st, now: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
	f.svc = auth.New(st, auth.Options{Now: f.clock, Params: fast})
	return f
}

func (f *fixture) user(t *testing.T, name string, role auth.Role, groups ...string) auth.User {
	t.Helper()
	u, err := f.svc.CreateUser(context.Background(), cli, auth.NewUser{Name: name, Role: role, Password: pw, Groups: groups})
	require.NoError(t, err)
	return u
}

func (f *fixture) audit(t *testing.T, filter auth.AuditFilter) []auth.AuditEntry {
	t.Helper()
	es, err := f.svc.ListAudit(context.Background(), filter)
	require.NoError(t, err)
	return es
}

func TestLoginAndSession(t *testing.T) {
	f, ctx := newFixture(t), context.Background()
	f.user(t, "ana", auth.Operator)

	sid, p, err := f.svc.Login(ctx, " ANA ", pw, "10.0.0.1:5000", "chromium")
	require.NoError(t, err)
	require.Equal(t, "ana", p.Name())
	require.Equal(t, auth.Operator, p.Role)
	require.Equal(t, auth.ViaSession, p.Via)
	require.False(t, p.Limited())
	_, err = f.st.GetSession(ctx, sid)
	require.ErrorIs(t, err, store.ErrNotFound, "the raw id is not what is stored")

	got, err := f.svc.Session(ctx, sid)
	require.NoError(t, err)
	require.Equal(t, "ana", got.Name())
	require.Equal(t, sid, got.SessionID)

	// Idle timeout: 59 minutes apart keeps it alive, 60 ends it.
	f.add(59 * time.Minute)
	_, err = f.svc.Session(ctx, sid)
	require.NoError(t, err)
	f.add(59 * time.Minute)
	_, err = f.svc.Session(ctx, sid)
	require.NoError(t, err, "the last use counts, not the login")
	f.add(60 * time.Minute)
	_, err = f.svc.Session(ctx, sid)
	require.ErrorIs(t, err, auth.ErrUnauthenticated)

	logins := f.audit(t, auth.AuditFilter{Action: "login"})
	require.Len(t, logins, 1)
	require.Equal(t, "ana", logins[0].Actor)
	require.Equal(t, "10.0.0.1:5000", logins[0].Addr)
}

func TestSessionAbsoluteTimeoutAndLogout(t *testing.T) {
	f, ctx := newFixture(t), context.Background()
	f.user(t, "ana", auth.Viewer)
	sid, p, err := f.svc.Login(ctx, "ana", pw, "10.0.0.1:1", "")
	require.NoError(t, err)
	for range 23 { // active every 30 minutes for 11.5 hours
		f.add(30 * time.Minute)
		_, err = f.svc.Session(ctx, sid)
		require.NoError(t, err)
	}
	f.add(30 * time.Minute)
	_, err = f.svc.Session(ctx, sid)
	require.ErrorIs(t, err, auth.ErrUnauthenticated, "12 hours after login, however active")

	sid, p, err = f.svc.Login(ctx, "ana", pw, "10.0.0.1:1", "")
	require.NoError(t, err)
	require.NoError(t, f.svc.Logout(ctx, p, "10.0.0.1:1"))
	_, err = f.svc.Session(ctx, sid)
	require.ErrorIs(t, err, auth.ErrUnauthenticated)
	require.Len(t, f.audit(t, auth.AuditFilter{Action: "logout"}), 1)

	_, err = f.svc.Session(ctx, "not-a-session")
	require.ErrorIs(t, err, auth.ErrUnauthenticated)
}

func TestLoginFailuresAreThrottledAndAudited(t *testing.T) {
	f, ctx := newFixture(t), context.Background()
	f.user(t, "ana", auth.Operator)
	for i := range 5 {
		_, _, err := f.svc.Login(ctx, "ana", "wrong password!", "10.0.0.1:1", "")
		require.ErrorIs(t, err, auth.ErrBadCredentials, "attempt %d", i+1)
	}
	_, _, err := f.svc.Login(ctx, "ana", pw, "10.0.0.2:1", "")
	var te *auth.ThrottledError
	require.ErrorAs(t, err, &te, "even the right password waits out the lock")
	require.Equal(t, time.Minute, te.Wait)
	f.add(time.Minute)
	_, _, err = f.svc.Login(ctx, "ana", pw, "10.0.0.2:1", "")
	require.NoError(t, err)

	_, _, err = f.svc.Login(ctx, "nobody", pw, "10.0.0.3:1", "")
	require.ErrorIs(t, err, auth.ErrBadCredentials, "an unknown user looks like a wrong password")
	_, _, err = f.svc.Login(ctx, "<script>", pw, "10.0.0.3:1", "")
	require.ErrorIs(t, err, auth.ErrBadCredentials)

	failed := f.audit(t, auth.AuditFilter{Action: "login_failed"})
	require.Len(t, failed, 7)
	require.Equal(t, "(invalid name)", failed[0].Actor, "a hostile name is not copied into the log")
	require.Contains(t, failed[1].Detail, "no such user")
	require.Contains(t, failed[2].Detail, "further logins refused for 1m0s", "the failure that locks says so")
	require.Contains(t, failed[6].Detail, "wrong password")
}

func TestDisabledUserAndPasswordChangeEndSessions(t *testing.T) {
	f, ctx := newFixture(t), context.Background()
	f.user(t, "root", auth.Admin)
	f.user(t, "ana", auth.Operator)
	sid, _, err := f.svc.Login(ctx, "ana", pw, "10.0.0.1:1", "")
	require.NoError(t, err)
	require.NoError(t, f.svc.SetPassword(ctx, cli, "ana", "another long password"))
	_, err = f.svc.Session(ctx, sid)
	require.ErrorIs(t, err, auth.ErrUnauthenticated, "a new password logs out everywhere")
	_, _, err = f.svc.Login(ctx, "ana", pw, "10.0.0.1:1", "")
	require.ErrorIs(t, err, auth.ErrBadCredentials)
	sid, _, err = f.svc.Login(ctx, "ana", "another long password", "10.0.0.1:1", "")
	require.NoError(t, err)

	yes := true
	_, err = f.svc.UpdateUser(ctx, cli, "ana", auth.UserUpdate{Disabled: &yes})
	require.NoError(t, err)
	_, err = f.svc.Session(ctx, sid)
	require.ErrorIs(t, err, auth.ErrUnauthenticated)
	_, _, err = f.svc.Login(ctx, "ana", "another long password", "10.0.0.1:1", "")
	require.ErrorIs(t, err, auth.ErrBadCredentials)

	upd := f.audit(t, auth.AuditFilter{Action: "user.update"})
	require.Len(t, upd, 1)
	require.Contains(t, string(upd[0].Before), `"disabled":false`)
	require.Contains(t, string(upd[0].After), `"disabled":true`)
	for _, e := range f.audit(t, auth.AuditFilter{}) {
		require.NotContains(t, string(e.After), "argon2", "no hash in the audit log")
	}
}

func TestLastAdminStays(t *testing.T) {
	f, ctx := newFixture(t), context.Background()
	f.user(t, "root", auth.Admin)
	viewer, yes := auth.Viewer, true
	_, err := f.svc.UpdateUser(ctx, cli, "root", auth.UserUpdate{Role: &viewer})
	require.ErrorContains(t, err, "last enabled administrator")
	_, err = f.svc.UpdateUser(ctx, cli, "root", auth.UserUpdate{Disabled: &yes})
	require.ErrorContains(t, err, "last enabled administrator")
	f.user(t, "root2", auth.Admin)
	_, err = f.svc.UpdateUser(ctx, cli, "root", auth.UserUpdate{Role: &viewer})
	require.NoError(t, err)
}

func TestInputChecks(t *testing.T) {
	f, ctx := newFixture(t), context.Background()
	var ie *auth.InputError
	for _, in := range []auth.NewUser{
		{Name: "", Role: auth.Viewer, Password: pw},
		{Name: "<img src=x>", Role: auth.Viewer, Password: pw},
		{Name: "ana", Role: auth.Public, Password: pw},
		{Name: "ana", Role: auth.Viewer, Password: "short"},
		{Name: "ana", Role: auth.Viewer, Password: pw, Groups: []string{"nope"}},
		{Name: "ana", Role: auth.Viewer, Password: pw, DisplayName: "a\nb"},
	} {
		_, err := f.svc.CreateUser(ctx, cli, in)
		require.ErrorAs(t, err, &ie, "%+v", in)
	}
	f.user(t, "ana", auth.Viewer)
	_, err := f.svc.CreateUser(ctx, cli, auth.NewUser{Name: "Ana", Role: auth.Viewer, Password: pw})
	require.ErrorAs(t, err, &ie, "names are case-insensitive")
}

func TestTokens(t *testing.T) {
	f, ctx := newFixture(t), context.Background()
	f.user(t, "root", auth.Admin)
	f.user(t, "ana", auth.Operator)
	_, _, err := f.svc.CreateToken(ctx, cli, "ana", "nvr", auth.Admin, 0)
	var ie *auth.InputError
	require.ErrorAs(t, err, &ie, "no more than the owner has")

	tok, meta, err := f.svc.CreateToken(ctx, cli, "ana", "nvr", auth.Operator, 24*time.Hour)
	require.NoError(t, err)
	p, err := f.svc.Token(ctx, "Bearer "+tok)
	require.NoError(t, err)
	require.Equal(t, "ana", p.Name())
	require.Equal(t, auth.Operator, p.Role)
	require.Equal(t, auth.ViaToken, p.Via)
	require.Equal(t, meta.ID, p.TokenID)

	// The owner is demoted: the token follows.
	viewer := auth.Viewer
	_, err = f.svc.UpdateUser(ctx, cli, "ana", auth.UserUpdate{Role: &viewer})
	require.NoError(t, err)
	p, err = f.svc.Token(ctx, "Bearer "+tok)
	require.NoError(t, err)
	require.Equal(t, auth.Viewer, p.Role)

	_, err = f.svc.Token(ctx, "Bearer "+tok[:len(tok)-2]+"xx")
	require.ErrorIs(t, err, auth.ErrUnauthenticated, "a wrong secret")
	f.add(25 * time.Hour)
	_, err = f.svc.Token(ctx, "Bearer "+tok)
	require.ErrorIs(t, err, auth.ErrUnauthenticated, "expired")

	tok2, meta2, err := f.svc.CreateToken(ctx, cli, "root", "ci", auth.Admin, 0)
	require.NoError(t, err)
	_, err = f.svc.Token(ctx, "Bearer "+tok2)
	require.NoError(t, err)
	_, err = f.svc.RevokeToken(ctx, cli, meta2.ID)
	require.NoError(t, err)
	_, err = f.svc.Token(ctx, "Bearer "+tok2)
	require.ErrorIs(t, err, auth.ErrUnauthenticated, "revoked")

	list, err := f.svc.ListTokens(ctx, "")
	require.NoError(t, err)
	require.Len(t, list, 2)
	for _, e := range f.audit(t, auth.AuditFilter{Action: "token.*"}) {
		require.NotContains(t, string(e.After), tok2[20:], "the secret never reaches the log")
	}
}

func TestCameraGroupsLimitUsers(t *testing.T) {
	f, ctx := newFixture(t), context.Background()
	_, err := f.svc.PutGroup(ctx, cli, auth.CameraGroup{Name: "north", Cameras: []string{"cam1", "cam2", "cam1"}})
	require.NoError(t, err)
	_, err = f.svc.PutGroup(ctx, cli, auth.CameraGroup{Name: "south", Cameras: []string{"cam3"}})
	require.NoError(t, err)
	f.user(t, "ana", auth.Operator, "north")
	f.user(t, "bob", auth.Operator)

	_, p, err := f.svc.Login(ctx, "ana", pw, "10.0.0.1:1", "")
	require.NoError(t, err)
	require.True(t, p.Limited())
	require.True(t, p.CanSee("cam1"))
	require.False(t, p.CanSee("cam3"))
	require.ElementsMatch(t, []string{"cam1", "cam2"}, p.Cameras())
	_, p, err = f.svc.Login(ctx, "bob", pw, "10.0.0.1:1", "")
	require.NoError(t, err)
	require.False(t, p.Limited())
	require.True(t, p.CanSee("cam3"))

	require.NoError(t, f.svc.DeleteGroup(ctx, cli, "north"))
	_, p, err = f.svc.Login(ctx, "ana", pw, "10.0.0.1:1", "")
	require.NoError(t, err)
	require.True(t, p.Limited(), "deleting her group must not widen her to every camera")
	require.Empty(t, p.Cameras())
}

func TestDemoUser(t *testing.T) {
	f, ctx := newFixture(t), context.Background()
	pass, created, err := f.svc.EnsureDemoUser(ctx, "demo")
	require.NoError(t, err)
	require.True(t, created)
	require.Len(t, pass, 20)
	_, p, err := f.svc.Login(ctx, "demo", pass, "127.0.0.1:1", "")
	require.NoError(t, err)
	require.Equal(t, auth.Admin, p.Role)
	_, created, err = f.svc.EnsureDemoUser(ctx, "demo")
	require.NoError(t, err)
	require.False(t, created, "only when no user exists")
}

func TestProxyUser(t *testing.T) {
	f, ctx := newFixture(t), context.Background()
	f.user(t, "ana", auth.Supervisor)
	p, err := f.svc.ProxyUser(ctx, "Ana")
	require.NoError(t, err)
	require.Equal(t, auth.Supervisor, p.Role)
	require.Equal(t, auth.ViaProxy, p.Via)
	_, err = f.svc.ProxyUser(ctx, "mallory")
	require.True(t, errors.Is(err, auth.ErrUnauthenticated))
}

func TestStaleHashIsUpgraded(t *testing.T) {
	f, ctx := newFixture(t), context.Background()
	f.user(t, "ana", auth.Viewer)
	stronger := auth.New(f.st, auth.Options{Now: f.clock, Params: auth.Params{Memory: 128, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}})
	_, _, err := stronger.Login(ctx, "ana", pw, "10.0.0.1:1", "")
	require.NoError(t, err)
	u, err := f.st.GetUserByName(ctx, "ana")
	require.NoError(t, err)
	require.Contains(t, u.PasswordHash, "m=128,t=2,p=1", "re-hashed with the current parameters at login")
}
