package httpapi

import (
	"errors"
	"net/http"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/vigil-cctv/vigil/internal/auth"
	"github.com/vigil-cctv/vigil/internal/store"
)

// asNotFound turns a store.ErrNotFound into a 404 with the given message.
func asNotFound(err error, format string, args ...any) error {
	if errors.Is(err, store.ErrNotFound) {
		return notFound(format, args...)
	}
	return err
}

// truncateText shortens client text quoted in an error message.
func truncateText(s string) string {
	const n = 64
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// authService is the account service, or 503 when there is none (with
// authentication disabled, accounts cannot be managed over HTTP).
func (a *api) authService() (*auth.Service, error) {
	if a.deps.Auth == nil {
		return nil, unavailable("accounts are not available: authentication is disabled")
	}
	return a.deps.Auth, nil
}

// actor is the request's principal as the audit log records it.
func (a *api) actor(r *http.Request) auth.Actor { return principal(r).Actor(a.clientAddr(r)) }

// audit records a change made through the API.
func (a *api) audit(r *http.Request, action, object string, before, after any) {
	if a.deps.Auth == nil {
		a.log.Info("audit", "action", action, "object", object, "actor", principal(r).Name())
		return
	}
	a.deps.Auth.Audit(r.Context(), a.actor(r), action, object, before, after, "")
}

type loginInput struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

// meView is who the client is logged in as.
type meView struct {
	User      auth.User `json:"user"`
	Role      auth.Role `json:"role"` // effective: a token's may be below the user's
	Via       string    `json:"via"`
	CSRFToken string    `json:"csrf_token,omitempty"`
	// Cameras lists what a user limited to camera groups may see; absent
	// when the user sees every camera.
	Cameras []string `json:"cameras,omitempty"`
}

func viewMe(p auth.Principal) meView {
	v := meView{User: p.User, Role: p.Role, Via: p.Via, Cameras: p.Cameras()}
	if v.User.Groups == nil {
		v.User.Groups = []string{}
	}
	if p.SessionID != "" {
		v.CSRFToken = auth.CSRFToken(p.SessionID)
	}
	slices.Sort(v.Cameras)
	return v
}

// login checks a user name and password and starts a session. Wrong
// names and wrong passwords get the same answer; repeated failures are
// throttled per account and per address (429 with Retry-After).
func (a *api) login(w http.ResponseWriter, r *http.Request) error {
	svc, err := a.authService()
	if err != nil {
		return err
	}
	var in loginInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	sid, p, err := svc.Login(r.Context(), in.Name, in.Password, a.clientAddr(r), r.UserAgent())
	if err != nil {
		return err
	}
	a.log.Info("login", "user", p.Name())
	a.setSessionCookies(w, sid)
	writeJSON(w, http.StatusOK, viewMe(p))
	return nil
}

func (a *api) logout(w http.ResponseWriter, r *http.Request) error {
	if a.deps.Auth != nil {
		if err := a.deps.Auth.Logout(r.Context(), principal(r), a.clientAddr(r)); err != nil {
			return err
		}
	}
	clearSessionCookies(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) me(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, viewMe(principal(r)))
	return nil
}

type ownPasswordInput struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

// changeOwnPassword needs the current password: a session left open on
// a console must not be enough to take the account over.
func (a *api) changeOwnPassword(w http.ResponseWriter, r *http.Request) error {
	svc, err := a.authService()
	if err != nil {
		return err
	}
	var in ownPasswordInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	ctx, cancel := detach(r)
	defer cancel()
	if err := svc.ChangeOwnPassword(ctx, principal(r), a.clientAddr(r), in.Current, in.New); err != nil {
		return err
	}
	clearSessionCookies(w) // every session of the user has ended
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) listUsers(w http.ResponseWriter, r *http.Request) error {
	svc, err := a.authService()
	if err != nil {
		return err
	}
	users, err := svc.ListUsers(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": nonNil(users)})
	return nil
}

// user loads the user named in the path.
func (a *api) user(r *http.Request) (auth.User, error) {
	svc, err := a.authService()
	if err != nil {
		return auth.User{}, err
	}
	name := r.PathValue("name")
	if !auth.ValidName(auth.NormalizeName(name)) {
		return auth.User{}, notFound("user %q not found", truncateText(name))
	}
	u, err := svc.GetUser(r.Context(), name)
	if err != nil {
		return u, asNotFound(err, "user %q not found", truncateText(name))
	}
	return u, nil
}

func (a *api) getUser(w http.ResponseWriter, r *http.Request) error {
	u, err := a.user(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

type newUserInput struct {
	Name        string    `json:"name"`
	DisplayName string    `json:"display_name"`
	Role        auth.Role `json:"role"`
	Groups      []string  `json:"groups"`
	Password    string    `json:"password"`
}

func (a *api) createUser(w http.ResponseWriter, r *http.Request) error {
	svc, err := a.authService()
	if err != nil {
		return err
	}
	var in newUserInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	ctx, cancel := detach(r)
	defer cancel()
	u, err := svc.CreateUser(ctx, a.actor(r), auth.NewUser{Name: in.Name, DisplayName: in.DisplayName,
		Role: in.Role, Groups: in.Groups, Password: in.Password})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/users/"+u.Name)
	writeJSON(w, http.StatusCreated, u)
	return nil
}

type userUpdateInput struct {
	DisplayName *string    `json:"display_name"`
	Role        *auth.Role `json:"role"`
	Groups      *[]string  `json:"groups"`
	Disabled    *bool      `json:"disabled"`
}

// updateUser changes the fields the body names (PATCH semantics).
func (a *api) updateUser(w http.ResponseWriter, r *http.Request) error {
	cur, err := a.user(r)
	if err != nil {
		return err
	}
	var in userUpdateInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	ctx, cancel := detach(r)
	defer cancel()
	u, err := a.deps.Auth.UpdateUser(ctx, a.actor(r), cur.Name, auth.UserUpdate{DisplayName: in.DisplayName,
		Role: in.Role, Groups: in.Groups, Disabled: in.Disabled})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

type passwordInput struct {
	Password string `json:"password"`
}

// setPassword is an administrator resetting someone's password; the
// user's sessions end.
func (a *api) setPassword(w http.ResponseWriter, r *http.Request) error {
	u, err := a.user(r)
	if err != nil {
		return err
	}
	var in passwordInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	ctx, cancel := detach(r)
	defer cancel()
	if err := a.deps.Auth.SetPassword(ctx, a.actor(r), u.Name, in.Password); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) listTokens(w http.ResponseWriter, r *http.Request) error {
	svc, err := a.authService()
	if err != nil {
		return err
	}
	q, err := parseQuery(r, "user")
	if err != nil {
		return err
	}
	ts, err := svc.ListTokens(r.Context(), q.Get("user"))
	if err != nil {
		return asNotFound(err, "user %q not found", truncateText(q.Get("user")))
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": nonNil(ts)})
	return nil
}

type tokenInput struct {
	User string    `json:"user"`
	Name string    `json:"name"`
	Role auth.Role `json:"role"`
	// ExpiresIn is a Go duration ("720h"); empty: until revoked.
	ExpiresIn string `json:"expires_in"`
}

// tokenView is a new token with its secret, shown this once.
type tokenView struct {
	auth.Token
	Secret string `json:"token"`
}

func (a *api) createToken(w http.ResponseWriter, r *http.Request) error {
	svc, err := a.authService()
	if err != nil {
		return err
	}
	var in tokenInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	var ttl time.Duration
	if in.ExpiresIn != "" {
		if ttl, err = time.ParseDuration(in.ExpiresIn); err != nil || ttl <= 0 {
			return badRequest("field \"expires_in\" must be a positive duration such as 720h, or empty for no expiry")
		}
	}
	ctx, cancel := detach(r)
	defer cancel()
	secret, t, err := svc.CreateToken(ctx, a.actor(r), in.User, in.Name, in.Role, ttl)
	if err != nil {
		return asNotFound(err, "user %q not found", truncateText(in.User))
	}
	writeJSON(w, http.StatusCreated, tokenView{Token: t, Secret: secret})
	return nil
}

func (a *api) revokeToken(w http.ResponseWriter, r *http.Request) error {
	svc, err := a.authService()
	if err != nil {
		return err
	}
	ctx, cancel := detach(r)
	defer cancel()
	id := r.PathValue("id")
	t, err := svc.RevokeToken(ctx, a.actor(r), id)
	if err != nil {
		return asNotFound(err, "token %q not found", truncateText(id))
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// listGroups shows every camera group, or to a user limited to groups,
// only theirs.
func (a *api) listGroups(w http.ResponseWriter, r *http.Request) error {
	svc, err := a.authService()
	if err != nil {
		return err
	}
	gs, err := svc.ListGroups(r.Context())
	if err != nil {
		return err
	}
	if p := principal(r); p.Limited() {
		gs = slices.DeleteFunc(gs, func(g auth.CameraGroup) bool { return !slices.Contains(p.User.Groups, g.Name) })
	}
	writeJSON(w, http.StatusOK, map[string]any{"groups": nonNil(gs)})
	return nil
}

type groupInput struct {
	Description string   `json:"description"`
	Cameras     []string `json:"cameras"`
}

func (a *api) putGroup(w http.ResponseWriter, r *http.Request) error {
	svc, err := a.authService()
	if err != nil {
		return err
	}
	var in groupInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	ctx, cancel := detach(r)
	defer cancel()
	g, err := svc.PutGroup(ctx, a.actor(r), auth.CameraGroup{Name: r.PathValue("name"), Description: in.Description, Cameras: in.Cameras})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}

func (a *api) deleteGroup(w http.ResponseWriter, r *http.Request) error {
	svc, err := a.authService()
	if err != nil {
		return err
	}
	ctx, cancel := detach(r)
	defer cancel()
	name := r.PathValue("name")
	if err := svc.DeleteGroup(ctx, a.actor(r), name); err != nil {
		return asNotFound(err, "group %q not found", truncateText(name))
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listAudit pages through the audit log, newest first. action and object
// match exactly, or by prefix when they end in "*" (action=alert.*).
func (a *api) listAudit(w http.ResponseWriter, r *http.Request) error {
	svc, err := a.authService()
	if err != nil {
		return err
	}
	q, err := parseQuery(r, "actor", "action", "object", "since", "until", "cursor", "limit")
	if err != nil {
		return err
	}
	var f auth.AuditFilter
	for name, dst := range map[string]*string{"actor": &f.Actor, "action": &f.Action, "object": &f.Object} {
		if *dst, err = filterParam(q, name); err != nil {
			return err
		}
	}
	if f.Since, f.Until, err = timeRange(q); err != nil {
		return err
	}
	if f.After, err = decodeCursor(q.Get("cursor")); err != nil {
		return err
	}
	if f.Limit, err = limitParam(q.Get("limit")); err != nil {
		return err
	}
	limit := f.Limit
	f.Limit = min(limit+1, maxLimit)
	es, err := svc.ListAudit(r.Context(), f)
	if err != nil {
		return err
	}
	next := ""
	if len(es) > limit || (len(es) == limit && f.Limit == limit) {
		es = es[:limit]
		next = encodeCursor(es[limit-1].ID)
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": nonNil(es), "next_cursor": next})
	return nil
}
