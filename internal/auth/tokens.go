package auth

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/vigil-cctv/vigil/internal/scene"
	"github.com/vigil-cctv/vigil/internal/store"
)

// maxTokenTTL bounds a token's lifetime when one is given; zero means a
// token that lasts until revoked.
const maxTokenTTL = 5 * 366 * 24 * time.Hour

// CreateToken issues an API token for owner with a role no higher than
// the owner's. It returns the token string, shown once: only its hash is
// stored.
func (s *Service) CreateToken(ctx context.Context, a Actor, owner, name string, role Role, ttl time.Duration) (string, Token, error) {
	u, err := s.GetUser(ctx, owner)
	if err != nil {
		return "", Token{}, err
	}
	if err := checkName("token", NormalizeName(name)); err != nil || NormalizeName(name) != name {
		return "", Token{}, inputErrorf("token name must be 1 to %d of a-z, 0-9, '.', '_', '-', '@'", MaxNameLen)
	}
	if role < Viewer || role > u.Role {
		return "", Token{}, inputErrorf("a token of %s can have role viewer up to %s", u.Name, u.Role)
	}
	if ttl < 0 || ttl > maxTokenTTL {
		return "", Token{}, inputErrorf("token lifetime must be 0 (until revoked) up to %s", maxTokenTTL)
	}
	secret := newSecret()
	now := s.now()
	t := Token{ID: newTokenID(), UserID: u.ID, User: u.Name, Name: name, Role: role, SecretHash: HashSecret(secret),
		Created: now, CreatedBy: a.Name}
	if ttl > 0 {
		t.Expires = now.Add(ttl)
	}
	if err := s.st.CreateToken(ctx, t); err != nil {
		return "", Token{}, err
	}
	s.Audit(ctx, a, "token.create", "token/"+t.ID, nil, t, "")
	return FormatToken(t.ID, secret), t, nil
}

// RevokeToken revokes a token for good.
func (s *Service) RevokeToken(ctx context.Context, a Actor, id string) (Token, error) {
	before, err := s.st.GetToken(ctx, id)
	if err != nil {
		return Token{}, err
	}
	if !before.Revoked.IsZero() {
		return before, nil
	}
	if err := s.st.RevokeToken(ctx, id, s.now()); err != nil {
		return Token{}, err
	}
	after, err := s.st.GetToken(ctx, id)
	if err != nil {
		return Token{}, err
	}
	s.Audit(ctx, a, "token.revoke", "token/"+id, before, after, "")
	return after, nil
}

// ListTokens lists owner's tokens, or every token when owner is "".
func (s *Service) ListTokens(ctx context.Context, owner string) ([]Token, error) {
	var id int64
	if owner != "" {
		u, err := s.GetUser(ctx, owner)
		if err != nil {
			return nil, err
		}
		id = u.ID
	}
	return s.st.ListTokens(ctx, id)
}

// PutGroup creates or replaces a camera group. Camera ids are checked for
// shape only: a group may name a camera before it is added.
func (s *Service) PutGroup(ctx context.Context, a Actor, g CameraGroup) (CameraGroup, error) {
	if err := checkName("group", g.Name); err != nil {
		return g, err
	}
	if err := checkText("description", g.Description, maxDescriptionLen); err != nil {
		return g, err
	}
	if len(g.Cameras) > maxGroupCameras {
		return g, inputErrorf("a group holds at most %d cameras", maxGroupCameras)
	}
	cams := []string{}
	for _, c := range g.Cameras {
		if !scene.ValidName(c) {
			return g, inputErrorf("camera id %q is not valid", truncate(c, MaxNameLen))
		}
		if !slices.Contains(cams, c) {
			cams = append(cams, c)
		}
	}
	slices.Sort(cams)
	g.Cameras, g.Updated = cams, s.now()
	before, err := s.st.GetGroup(ctx, g.Name)
	var prev any
	switch {
	case err == nil:
		prev = before
	case !errors.Is(err, store.ErrNotFound):
		return g, err
	}
	if err := s.st.PutGroup(ctx, g); err != nil {
		return g, err
	}
	s.Audit(ctx, a, "group.put", "group/"+g.Name, prev, g, "")
	return g, nil
}

// DeleteGroup removes a camera group. Users limited to it keep their
// other groups; one limited to it alone then sees no camera at all, never
// every camera.
func (s *Service) DeleteGroup(ctx context.Context, a Actor, name string) error {
	before, err := s.st.GetGroup(ctx, name)
	if err != nil {
		return err
	}
	if err := s.st.DeleteGroup(ctx, name); err != nil {
		return err
	}
	s.Audit(ctx, a, "group.delete", "group/"+name, before, nil, "")
	return nil
}

// ListGroups lists every camera group, by name.
func (s *Service) ListGroups(ctx context.Context) ([]CameraGroup, error) { return s.st.ListGroups(ctx) }
