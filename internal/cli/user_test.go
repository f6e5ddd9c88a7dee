package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/auth"
	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

// accountConfig writes a service config whose store is a fresh SQLite
// file, and lowers the password hashing cost for the test.
func accountConfig(t *testing.T, extra string) string {
	t.Helper()
	old := hashParams
	hashParams = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	t.Cleanup(func() { hashParams = old })
	dir := t.TempDir()
	cfg := filepath.Join(dir, "vigil.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("version: 1\ndata_dir: "+dir+"\n"+extra), 0o644))
	return cfg
}

// withStdin feeds the next command's password prompt.
func withStdin(t *testing.T, s string) {
	old := stdin
	stdin = strings.NewReader(s)
	t.Cleanup(func() { stdin = old })
}

func TestUserCommands(t *testing.T) {
	cfg := accountConfig(t, "")
	withStdin(t, "correct horse battery\n")
	code, out, errOut := vigil(t, "user", "add", "Ana", "--role", "admin", "--display-name", "Ana M.", "--config", cfg)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "user ana created with role admin")

	withStdin(t, "short\n")
	code, _, errOut = vigil(t, "user", "add", "bob", "--role", "viewer", "--config", cfg)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "at least 12 characters")
	withStdin(t, "correct horse battery\n")
	code, _, errOut = vigil(t, "user", "add", "ana", "--role", "viewer", "--config", cfg)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "already exists")
	code, _, errOut = vigil(t, "user", "add", "bob", "--role", "boss", "--config", cfg)
	require.Equal(t, 2, code, "an unknown role is a usage error")
	require.Contains(t, errOut, "boss")

	withStdin(t, "another long password\n")
	code, out, errOut = vigil(t, "user", "passwd", "ana", "--config", cfg)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "sessions have ended")

	withStdin(t, "correct horse battery\n")
	code, _, errOut = vigil(t, "user", "add", "bob", "--role", "operator", "--config", cfg)
	require.Equal(t, 0, code, errOut)
	code, out, _ = vigil(t, "user", "disable", "bob", "--config", cfg)
	require.Equal(t, 0, code)
	require.Contains(t, out, "bob disabled")
	code, out, _ = vigil(t, "user", "list", "--config", cfg)
	require.Equal(t, 0, code)
	require.Regexp(t, `ana\s+admin\s+all cameras\s+enabled\s+Ana M\.`, out)
	require.Regexp(t, `bob\s+operator\s+all cameras\s+disabled`, out)
	code, _, _ = vigil(t, "user", "enable", "bob", "--config", cfg)
	require.Equal(t, 0, code)
	code, _, errOut = vigil(t, "user", "disable", "nobody", "--config", cfg)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `no user "nobody"`)

	code, secret, errOut := vigil(t, "token", "create", "--user", "bob", "--name", "nvr", "--role", "viewer", "--expires", "720h", "--config", cfg)
	require.Equal(t, 0, code, errOut)
	secret = strings.TrimSpace(secret)
	require.True(t, strings.HasPrefix(secret, "vgt_"), secret)
	require.Contains(t, errOut, "shown once")
	code, _, errOut = vigil(t, "token", "create", "--user", "bob", "--name", "x", "--role", "admin", "--config", cfg)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "viewer up to operator")
	code, out, _ = vigil(t, "token", "list", "--config", cfg)
	require.Equal(t, 0, code)
	require.NotContains(t, out, secret[21:], "secrets are never listed")
	id := strings.Fields(strings.Split(out, "\n")[1])[0]
	code, out, _ = vigil(t, "token", "revoke", id, "--config", cfg)
	require.Equal(t, 0, code)
	require.Contains(t, out, "revoked")

	// The audit log has each change, by the command line.
	c, err := config.Load(cfg)
	require.NoError(t, err)
	st, err := sqlite.Open(context.Background(), filepath.Join(c.DataDir, "vigil.db"))
	require.NoError(t, err)
	defer st.Close()
	entries, err := st.ListAudit(context.Background(), auth.AuditFilter{})
	require.NoError(t, err)
	var actions []string
	for _, e := range entries {
		actions = append([]string{e.Action}, actions...)
		require.True(t, strings.HasPrefix(e.Actor, "cli:"), e.Actor)
		require.Equal(t, auth.ViaCLI, e.Via)
		require.NotContains(t, string(e.After), "battery")
	}
	require.Equal(t, []string{"user.create", "user.password", "user.create", "user.update", "user.update", "token.create", "token.revoke"}, actions)
}

func TestServeLoginHint(t *testing.T) {
	cfgPath := accountConfig(t, "auth: {demo_user: true}\n")
	cfg, err := config.Load(cfgPath)
	require.NoError(t, err)
	st, err := openStore(context.Background(), cfg)
	require.NoError(t, err)
	defer st.Close()
	accounts, err := accountService(st, cfg, nil)
	require.NoError(t, err)
	c := &serveCmd{Config: cfgPath}

	hint, err := c.loginHint(context.Background(), cfg, accounts)
	require.NoError(t, err)
	require.Regexp(t, `^Log in as "demo" with password [A-Za-z0-9_-]{20} \(shown this once`, hint)
	pw := strings.Fields(hint)[6]
	_, p, err := accounts.Login(context.Background(), "demo", pw, "127.0.0.1:1", "")
	require.NoError(t, err, "the printed password works")
	require.Equal(t, auth.Admin, p.Role)

	hint, err = c.loginHint(context.Background(), cfg, accounts)
	require.NoError(t, err)
	require.Contains(t, hint, "printed when it was created", "never shown twice")
	require.NotContains(t, hint, pw)

	cfg.Auth.DemoUser = false
	hint, err = c.loginHint(context.Background(), cfg, accounts)
	require.NoError(t, err)
	require.Contains(t, hint, "Log in with your Vigil account")
}

func TestServeRefusesDisabledAuthOffLoopback(t *testing.T) {
	cfg := accountConfig(t, "auth: {disabled: true}\n")
	code, _, errOut := vigil(t, "serve", "--config", cfg, "--listen", "0.0.0.0:8080")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "loopback")

	bad := accountConfig(t, "listen: 10.0.0.5:8080\nauth: {disabled: true}\n")
	code, _, errOut = vigil(t, "serve", "--config", bad)
	require.Equal(t, 1, code)
	require.Regexp(t, `vigil.yaml:\d+:\d+: auth.disabled: authentication may be disabled only when listening on a loopback address`, errOut)
}
