package auth

import (
	"context"
	"errors"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vigil-cctv/vigil/internal/store"
)

// Name limits shared by user, group and token names.
const (
	MaxNameLen        = 64
	maxDisplayNameLen = 100
	maxDescriptionLen = 200
	maxGroups         = 100
	maxGroupCameras   = 10000
)

// NormalizeName is how user names compare: case-insensitively.
func NormalizeName(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidName reports whether s is a user or group name: 1–64 of a–z, 0–9,
// '.', '_', '-', '@', starting with a letter or digit.
func ValidName(s string) bool {
	if s == "" || len(s) > MaxNameLen {
		return false
	}
	for i, r := range s {
		alnum := r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		if !alnum && (i == 0 || !strings.ContainsRune("._-@", r)) {
			return false
		}
	}
	return true
}

// auditName is a name as the audit log may quote it: a name someone typed
// at the login form is not trusted to be short or printable.
func auditName(name string) string {
	if ValidName(name) {
		return name
	}
	return "(invalid name)"
}

func checkName(what, name string) error {
	if !ValidName(name) {
		return inputErrorf("%s name must be 1 to %d of a-z, 0-9, '.', '_', '-', '@', starting with a letter or digit", what, MaxNameLen)
	}
	return nil
}

// checkText bounds free text such as a display name.
func checkText(field, s string, n int) error {
	if len(s) > n || !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return inputErrorf("%s must be at most %d bytes of text without control characters", field, n)
	}
	return nil
}

// NewUser is what creating a user takes.
type NewUser struct {
	Name        string
	DisplayName string
	Role        Role
	Groups      []string
	Password    string
}

// CreateUser adds a user; the name is stored in lower case.
func (s *Service) CreateUser(ctx context.Context, a Actor, in NewUser) (User, error) {
	in.Name = NormalizeName(in.Name)
	if err := checkName("user", in.Name); err != nil {
		return User{}, err
	}
	if in.Role < Viewer || in.Role > Admin {
		return User{}, inputErrorf("role must be one of viewer, operator, supervisor, admin")
	}
	if err := checkText("display name", in.DisplayName, maxDisplayNameLen); err != nil {
		return User{}, err
	}
	groups, err := s.checkGroups(ctx, in.Groups)
	if err != nil {
		return User{}, err
	}
	if err := CheckPassword(in.Password); err != nil {
		return User{}, &InputError{msg: err.Error()}
	}
	hash, err := HashPassword(ctx, in.Password, s.opts.Params)
	if err != nil {
		return User{}, err
	}
	now := s.now()
	u := User{Name: in.Name, DisplayName: in.DisplayName, Role: in.Role, Groups: groups, PasswordHash: hash,
		Created: now, Updated: now, PasswordSet: now}
	if u.ID, err = s.st.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return User{}, inputErrorf("user %q already exists", u.Name)
		}
		return User{}, err
	}
	s.Audit(ctx, a, "user.create", "user/"+u.Name, nil, u, "")
	return u, nil
}

// checkGroups validates group names and that each group exists.
func (s *Service) checkGroups(ctx context.Context, groups []string) ([]string, error) {
	if len(groups) > maxGroups {
		return nil, inputErrorf("at most %d groups", maxGroups)
	}
	out := []string{}
	for _, g := range groups {
		if err := checkName("group", g); err != nil {
			return nil, err
		}
		if _, err := s.st.GetGroup(ctx, g); errors.Is(err, store.ErrNotFound) {
			return nil, inputErrorf("camera group %q does not exist", g)
		} else if err != nil {
			return nil, err
		}
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	slices.Sort(out)
	return out, nil
}

// GetUser finds a user by name.
func (s *Service) GetUser(ctx context.Context, name string) (User, error) {
	return s.st.GetUserByName(ctx, NormalizeName(name))
}

// ListUsers lists every user, by name.
func (s *Service) ListUsers(ctx context.Context) ([]User, error) { return s.st.ListUsers(ctx) }

// HasUsers reports whether any user exists (the first must come from the
// command line).
func (s *Service) HasUsers(ctx context.Context) (bool, error) {
	n, err := s.st.CountUsers(ctx)
	return n > 0, err
}

// SetPassword replaces a user's password and ends their sessions.
func (s *Service) SetPassword(ctx context.Context, a Actor, name, password string) error {
	u, err := s.GetUser(ctx, name)
	if err != nil {
		return err
	}
	return s.setPassword(ctx, a, u, password)
}

// ChangeOwnPassword lets a logged-in user change their password, given
// the current one.
func (s *Service) ChangeOwnPassword(ctx context.Context, p Principal, addr, current, next string) error {
	if p.User.ID == 0 {
		return inputErrorf("this login has no password to change")
	}
	u, err := s.st.GetUser(ctx, p.User.ID)
	if err != nil {
		return err
	}
	if ok, wait := s.throttle.Allow(u.Name, addr); !ok {
		return &ThrottledError{Wait: wait}
	}
	if _, err := VerifyPassword(ctx, current, u.PasswordHash, s.opts.Params); err != nil {
		s.throttle.Fail(u.Name, addr)
		s.Audit(ctx, p.Actor(addr), "password_change_failed", "user/"+u.Name, nil, nil, "wrong current password")
		return inputErrorf("the current password is wrong")
	}
	return s.setPassword(ctx, p.Actor(addr), u, next)
}

func (s *Service) setPassword(ctx context.Context, a Actor, u User, password string) error {
	if err := CheckPassword(password); err != nil {
		return &InputError{msg: err.Error()}
	}
	hash, err := HashPassword(ctx, password, s.opts.Params)
	if err != nil {
		return err
	}
	u.PasswordHash, u.PasswordSet, u.Updated = hash, s.now(), s.now()
	if err := s.st.UpdateUser(ctx, u); err != nil {
		return err
	}
	if err := s.st.DeleteUserSessions(ctx, u.ID); err != nil {
		return err
	}
	s.Audit(ctx, a, "user.password", "user/"+u.Name, nil, nil, "password changed; sessions ended")
	return nil
}

// UserUpdate changes some of a user's fields; nil fields stay.
type UserUpdate struct {
	DisplayName *string
	Role        *Role
	Groups      *[]string
	Disabled    *bool
}

// UpdateUser applies upd. Disabling a user or changing their role or
// groups ends their sessions (the next request logs in afresh with the
// new rights). The last enabled administrator cannot be demoted or
// disabled: nobody could administer Vigil from the console afterwards.
func (s *Service) UpdateUser(ctx context.Context, a Actor, name string, upd UserUpdate) (User, error) {
	before, err := s.GetUser(ctx, name)
	if err != nil {
		return User{}, err
	}
	u := before
	if upd.DisplayName != nil {
		if err := checkText("display name", *upd.DisplayName, maxDisplayNameLen); err != nil {
			return User{}, err
		}
		u.DisplayName = *upd.DisplayName
	}
	if upd.Role != nil {
		if *upd.Role < Viewer || *upd.Role > Admin {
			return User{}, inputErrorf("role must be one of viewer, operator, supervisor, admin")
		}
		u.Role = *upd.Role
	}
	if upd.Groups != nil {
		if u.Groups, err = s.checkGroups(ctx, *upd.Groups); err != nil {
			return User{}, err
		}
	}
	if upd.Disabled != nil {
		u.Disabled = *upd.Disabled
	}
	if err := s.keepAnAdmin(ctx, before, u); err != nil {
		return User{}, err
	}
	u.Updated = s.now()
	if err := s.st.UpdateUser(ctx, u); err != nil {
		return User{}, err
	}
	if u.Disabled != before.Disabled || u.Role != before.Role || !slices.Equal(u.Groups, before.Groups) {
		if err := s.st.DeleteUserSessions(ctx, u.ID); err != nil {
			return User{}, err
		}
	}
	s.Audit(ctx, a, "user.update", "user/"+u.Name, before, u, "")
	return u, nil
}

func (s *Service) keepAnAdmin(ctx context.Context, before, after User) error {
	wasAdmin := before.Role == Admin && !before.Disabled
	isAdmin := after.Role == Admin && !after.Disabled
	if !wasAdmin || isAdmin {
		return nil
	}
	users, err := s.st.ListUsers(ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.ID != before.ID && u.Role == Admin && !u.Disabled {
			return nil
		}
	}
	return inputErrorf("%s is the last enabled administrator; make another administrator first", before.Name)
}

// EnsureDemoUser creates an administrator with a generated password when
// no user exists yet, for demonstrations. It returns the password, which
// is shown once and stored only hashed; created is false when users
// already existed (and nothing was done).
func (s *Service) EnsureDemoUser(ctx context.Context, name string) (password string, created bool, err error) {
	has, err := s.HasUsers(ctx)
	if err != nil || has {
		return "", false, err
	}
	password = newSecret()[:20]
	_, err = s.CreateUser(ctx, Actor{Name: "system", Via: ViaSystem, Addr: "local"},
		NewUser{Name: name, DisplayName: "Demo administrator", Role: Admin, Password: password})
	if err != nil {
		return "", false, err
	}
	return password, true, nil
}
