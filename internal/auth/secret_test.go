package auth

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTokenFormat(t *testing.T) {
	id, secret := newTokenID(), newSecret()
	tok := FormatToken(id, secret)
	require.True(t, strings.HasPrefix(tok, "vgt_"))
	gotID, gotSecret, err := ParseToken(tok)
	require.NoError(t, err)
	require.Equal(t, id, gotID)
	require.Equal(t, secret, gotSecret)
	gotID, _, err = ParseBearer("bearer  " + tok)
	require.NoError(t, err, "scheme is case-insensitive")
	require.Equal(t, id, gotID)

	for _, bad := range []string{"", "vgt_", tok[:len(tok)-1], tok + "x", strings.Replace(tok, "vgt_", "vgx_", 1),
		"vgt_" + strings.ToUpper(id) + "_" + secret, "vgt_" + id + "-" + secret, "vgt_zzzzzzzzzzzzzzzz_" + secret,
		"vgt_" + id + "_" + secret[:42] + "="} {
		_, _, err := ParseToken(bad)
		require.ErrorIs(t, err, ErrBadToken, bad)
	}
	for _, bad := range []string{tok, "Basic " + tok, "Bearer", "Bearer" + tok} {
		_, _, err := ParseBearer(bad)
		require.ErrorIs(t, err, ErrBadToken, bad)
	}
}

func TestCSRFToken(t *testing.T) {
	a, b := newSecret(), newSecret()
	require.True(t, CheckCSRF(a, CSRFToken(a)))
	require.False(t, CheckCSRF(a, CSRFToken(b)), "bound to its session")
	require.False(t, CheckCSRF(a, ""))
	require.NotEqual(t, HashSecret(a), CSRFToken(a), "the token is not the stored hash")
}

// FuzzParseBearer: whatever a client sends, parsing either refuses it or
// yields an id and secret of the issued shape that format back to it.
func FuzzParseBearer(f *testing.F) {
	f.Add("Bearer " + FormatToken(newTokenID(), newSecret()))
	f.Add("Bearer vgt_0123456789abcdef_")
	f.Add("bearer\tvgt_")
	f.Fuzz(func(t *testing.T, h string) {
		if len(h) > 4096 {
			return
		}
		id, secret, err := ParseBearer(h)
		if err != nil {
			return
		}
		if len(id) != tokenIDLen || !validSecret(secret) {
			t.Fatalf("accepted %q as id %q secret %q", h, id, secret)
		}
		_, tok, _ := strings.Cut(h, " ")
		if strings.TrimLeft(tok, " ") != FormatToken(id, secret) {
			t.Fatalf("%q does not round-trip", h)
		}
	})
}
