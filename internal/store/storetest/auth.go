package storetest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/auth"
	"github.com/vigil-cctv/vigil/internal/store"
)

// authStore is the store as the auth package sees it.
func authStore(t *testing.T, s store.Store) auth.Store {
	t.Helper()
	as, ok := s.(auth.Store)
	require.True(t, ok, "%T implements auth.Store", s)
	return as
}

func addUser(t *testing.T, as auth.Store, name string, role auth.Role, groups ...string) auth.User {
	t.Helper()
	u := auth.User{Name: name, DisplayName: "User " + name, Role: role, Groups: groups,
		PasswordHash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", Created: at(1), Updated: at(2), PasswordSet: at(3)}
	id, err := as.CreateUser(context.Background(), u)
	require.NoError(t, err)
	u.ID = id
	if u.Groups == nil {
		u.Groups = []string{}
	}
	return u
}

func testUsers(t *testing.T, s store.Store) {
	as, ctx := authStore(t, s), context.Background()
	n, err := as.CountUsers(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	ana := addUser(t, as, "ana", auth.Operator, "north", "east")
	bob := addUser(t, as, "bob", auth.Admin)
	_, err = as.CreateUser(ctx, auth.User{Name: "ana", Role: auth.Viewer})
	require.ErrorIs(t, err, store.ErrConflict, "names are unique")

	got, err := as.GetUser(ctx, ana.ID)
	require.NoError(t, err)
	require.Equal(t, ana, got, "every field round-trips")
	got, err = as.GetUserByName(ctx, "bob")
	require.NoError(t, err)
	require.Equal(t, bob, got)
	_, err = as.GetUserByName(ctx, "carol")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = as.GetUser(ctx, 999)
	require.ErrorIs(t, err, store.ErrNotFound)

	ana.Role, ana.Groups, ana.Disabled, ana.DisplayName = auth.Supervisor, []string{"west"}, true, "Ana M."
	ana.PasswordHash, ana.Updated, ana.PasswordSet = "$argon2id$new", at(10), at(11)
	require.NoError(t, as.UpdateUser(ctx, ana))
	got, err = as.GetUser(ctx, ana.ID)
	require.NoError(t, err)
	require.Equal(t, ana, got)
	require.ErrorIs(t, as.UpdateUser(ctx, auth.User{ID: 999, Name: "x", Role: auth.Viewer}), store.ErrNotFound)

	users, err := as.ListUsers(ctx)
	require.NoError(t, err)
	require.Equal(t, []auth.User{ana, bob}, users, "by name")
	n, err = as.CountUsers(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n)
}

func testSessions(t *testing.T, s store.Store) {
	as, ctx := authStore(t, s), context.Background()
	ana := addUser(t, as, "ana", auth.Viewer)
	bob := addUser(t, as, "bob", auth.Viewer)
	s1 := auth.Session{IDHash: "h1", UserID: ana.ID, Created: at(0), LastSeen: at(0), Expires: at(100), Addr: "10.0.0.1:5000", UserAgent: "test"}
	s2 := auth.Session{IDHash: "h2", UserID: ana.ID, Created: at(0), LastSeen: at(50), Expires: at(100)}
	s3 := auth.Session{IDHash: "h3", UserID: bob.ID, Created: at(0), LastSeen: at(50), Expires: at(200)}
	for _, ss := range []auth.Session{s1, s2, s3} {
		require.NoError(t, as.CreateSession(ctx, ss))
	}
	require.ErrorIs(t, as.CreateSession(ctx, s1), store.ErrConflict)
	got, err := as.GetSession(ctx, "h1")
	require.NoError(t, err)
	require.Equal(t, s1, got)

	require.NoError(t, as.TouchSession(ctx, "h1", at(30)))
	got, err = as.GetSession(ctx, "h1")
	require.NoError(t, err)
	require.Equal(t, at(30), got.LastSeen)
	require.ErrorIs(t, as.TouchSession(ctx, "nope", at(30)), store.ErrNotFound)

	// At 150 s1 and s2 are past their end; with idleBefore 40 s1 (last
	// seen 30) would go anyway.
	n, err := as.DeleteExpiredSessions(ctx, at(150), at(40))
	require.NoError(t, err)
	require.Equal(t, 2, n)
	_, err = as.GetSession(ctx, "h1")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = as.GetSession(ctx, "h3")
	require.NoError(t, err)

	require.NoError(t, as.CreateSession(ctx, s1))
	require.NoError(t, as.DeleteUserSessions(ctx, ana.ID))
	_, err = as.GetSession(ctx, "h1")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.NoError(t, as.DeleteSession(ctx, "h3"))
	require.ErrorIs(t, as.DeleteSession(ctx, "h3"), store.ErrNotFound)
}

func testTokens(t *testing.T, s store.Store) {
	as, ctx := authStore(t, s), context.Background()
	ana := addUser(t, as, "ana", auth.Operator)
	bob := addUser(t, as, "bob", auth.Admin)
	t1 := auth.Token{ID: "0123456789abcdef", UserID: ana.ID, User: "ana", Name: "nvr", Role: auth.Viewer,
		SecretHash: "sh1", Created: at(1), CreatedBy: "bob"}
	t2 := auth.Token{ID: "fedcba9876543210", UserID: bob.ID, User: "bob", Name: "ci", Role: auth.Admin,
		SecretHash: "sh2", Created: at(2), CreatedBy: "bob", Expires: at(100)}
	require.NoError(t, as.CreateToken(ctx, t1))
	require.NoError(t, as.CreateToken(ctx, t2))
	require.ErrorIs(t, as.CreateToken(ctx, t1), store.ErrConflict)

	got, err := as.GetToken(ctx, t1.ID)
	require.NoError(t, err)
	require.Equal(t, t1, got, "unset times stay zero")
	got, err = as.GetToken(ctx, t2.ID)
	require.NoError(t, err)
	require.Equal(t, t2, got)
	_, err = as.GetToken(ctx, "0000000000000000")
	require.ErrorIs(t, err, store.ErrNotFound)

	list, err := as.ListTokens(ctx, 0)
	require.NoError(t, err)
	require.Equal(t, []auth.Token{t2, t1}, list, "newest first")
	list, err = as.ListTokens(ctx, ana.ID)
	require.NoError(t, err)
	require.Equal(t, []auth.Token{t1}, list)

	require.NoError(t, as.TouchToken(ctx, t1.ID, at(5)))
	require.NoError(t, as.RevokeToken(ctx, t1.ID, at(6)))
	require.ErrorIs(t, as.RevokeToken(ctx, t1.ID, at(7)), store.ErrNotFound, "revoking twice keeps the first time")
	got, err = as.GetToken(ctx, t1.ID)
	require.NoError(t, err)
	require.Equal(t, at(5), got.LastUsed)
	require.Equal(t, at(6), got.Revoked)
}

func testGroups(t *testing.T, s store.Store) {
	as, ctx := authStore(t, s), context.Background()
	_, err := as.GetGroup(ctx, "north")
	require.ErrorIs(t, err, store.ErrNotFound)
	north := auth.CameraGroup{Name: "north", Description: "North side", Cameras: []string{"cam1", "cam2"}, Updated: at(1)}
	empty := auth.CameraGroup{Name: "empty", Cameras: []string{}, Updated: at(2)}
	require.NoError(t, as.PutGroup(ctx, north))
	require.NoError(t, as.PutGroup(ctx, empty))
	got, err := as.GetGroup(ctx, "north")
	require.NoError(t, err)
	require.Equal(t, north, got)
	north.Cameras, north.Updated = []string{"cam3"}, at(5)
	require.NoError(t, as.PutGroup(ctx, north), "a put replaces")
	list, err := as.ListGroups(ctx)
	require.NoError(t, err)
	require.Equal(t, []auth.CameraGroup{empty, north}, list)
	require.NoError(t, as.DeleteGroup(ctx, "empty"))
	require.ErrorIs(t, as.DeleteGroup(ctx, "empty"), store.ErrNotFound)
}

func testAudit(t *testing.T, s store.Store) {
	as, ctx := authStore(t, s), context.Background()
	var want []auth.AuditEntry
	for i := range 12 {
		e := auth.AuditEntry{At: at(i), Actor: []string{"ana", "bob"}[i%2], Via: auth.ViaSession,
			Action: []string{"login", "alert.transition", "camera.update"}[i%3], Object: fmt.Sprintf("alert/%d", i),
			Before: json.RawMessage(`{"state":"new"}`), After: json.RawMessage(`{"state":"acknowledged"}`),
			Addr: "10.0.0.1", Detail: "d"}
		if i%3 == 0 {
			e.Object, e.Before, e.After = "user/ana", json.RawMessage("null"), json.RawMessage("null")
		}
		id, err := as.AppendAudit(ctx, e)
		require.NoError(t, err)
		e.ID = id
		want = append([]auth.AuditEntry{e}, want...)
	}
	all, err := as.ListAudit(ctx, auth.AuditFilter{})
	require.NoError(t, err)
	require.Equal(t, want, all, "every field round-trips, newest first")

	count := func(f auth.AuditFilter) int {
		got, err := as.ListAudit(ctx, f)
		require.NoError(t, err)
		return len(got)
	}
	require.Equal(t, 6, count(auth.AuditFilter{Actor: "ana"}))
	require.Equal(t, 4, count(auth.AuditFilter{Action: "login"}))
	require.Equal(t, 12, count(auth.AuditFilter{Action: "*"}), "a bare * matches all")
	require.Equal(t, 4, count(auth.AuditFilter{Action: "alert.*"}))
	require.Equal(t, 0, count(auth.AuditFilter{Action: "alert"}), "no * means exact")
	require.Equal(t, 8, count(auth.AuditFilter{Object: "alert/*"}))
	require.Equal(t, 2, count(auth.AuditFilter{Object: "alert/1*", Actor: "bob"}), "bob's alert/1 and alert/11, not ana's alert/10")
	require.Equal(t, 3, count(auth.AuditFilter{Since: at(3), Until: at(6)}))
	require.Equal(t, 5, count(auth.AuditFilter{Limit: 5}))
	page, err := as.ListAudit(ctx, auth.AuditFilter{After: want[4].ID, Limit: 3})
	require.NoError(t, err)
	require.Equal(t, want[5:8], page, "cursor: older than After")
}

// AuditAppendOnly checks, through the engine's own connection, that the
// audit log refuses updates and deletes.
func AuditAppendOnly(t *testing.T, s store.Store, db *sql.DB) {
	ctx := context.Background()
	as := authStore(t, s)
	_, err := as.AppendAudit(ctx, auth.AuditEntry{At: time.Now(), Actor: "ana", Action: "login", Object: "user/ana"})
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, `UPDATE audit SET actor = 'mallory'`)
	require.ErrorContains(t, err, "append-only")
	_, err = db.ExecContext(ctx, `DELETE FROM audit`)
	require.ErrorContains(t, err, "append-only")
	got, err := as.ListAudit(ctx, auth.AuditFilter{})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "ana", got[0].Actor)
}

// testAlertCameraSet: AlertFilter.Cameras keeps the alerts a user limited
// to camera groups may see; an empty list matches none.
func testAlertCameraSet(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i, cam := range []string{"a", "b", "c", "a"} {
		_, err := s.AddAlert(ctx, sampleEvent(cam, "intrusion", "person", float64(i)))
		require.NoError(t, err)
	}
	cams := func(f store.AlertFilter) []string {
		as, err := s.ListAlerts(ctx, f)
		require.NoError(t, err)
		var out []string
		for _, a := range as {
			out = append(out, a.Event.Camera)
		}
		return out
	}
	require.Equal(t, []string{"a", "c", "b", "a"}, cams(store.AlertFilter{}))
	require.Equal(t, []string{"a", "b", "a"}, cams(store.AlertFilter{Cameras: []string{"a", "b"}}))
	require.Empty(t, cams(store.AlertFilter{Cameras: []string{}}))
	require.Equal(t, []string{"b"}, cams(store.AlertFilter{Cameras: []string{"a", "b"}, Camera: "b"}))
}
