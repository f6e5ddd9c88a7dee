package secrets

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func noEnv(string) string { return "" }

func TestSealOpen(t *testing.T) {
	kr, err := NewKeyring("test", NewKey())
	require.NoError(t, err)
	const url = "rtsp://admin:S3cret@10.0.0.5/live"
	sealed, err := kr.Seal(url, "camera:gate")
	require.NoError(t, err)
	require.True(t, IsSealed(sealed))
	require.NotContains(t, sealed, "S3cret")
	require.NotContains(t, sealed, "10.0.0.5")
	again, _ := kr.Seal(url, "camera:gate")
	require.NotEqual(t, sealed, again, "a fresh nonce every time")
	plain, err := kr.Open(sealed, "camera:gate")
	require.NoError(t, err)
	require.Equal(t, url, plain)

	_, err = kr.Open(sealed, "camera:dock")
	require.ErrorContains(t, err, "sealed for something else", "bound to its camera")
	tampered := sealed[:len(sealed)-2] + "AA"
	_, err = kr.Open(tampered, "camera:gate")
	require.Error(t, err)
	other, _ := NewKeyring("other", NewKey())
	_, err = other.Open(sealed, "camera:gate")
	require.ErrorContains(t, err, "which the keyring (other) does not hold")
	plain, err = kr.Open("/videos/a.mp4", "camera:x")
	require.NoError(t, err)
	require.Equal(t, "/videos/a.mp4", plain, "values stored before encryption pass through")
}

func TestLoadGeneratesPrivateKeyFile(t *testing.T) {
	dir := t.TempDir()
	kr, err := Load(dir, noEnv)
	require.NoError(t, err)
	p := filepath.Join(dir, KeyFileName)
	info, err := os.Stat(p)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	again, err := Load(dir, noEnv)
	require.NoError(t, err)
	require.Equal(t, kr.Keys(), again.Keys(), "the same key on the next start")

	require.NoError(t, os.Chmod(p, 0o644))
	_, err = Load(dir, noEnv)
	require.ErrorContains(t, err, "others may read it; chmod 600 it")

	raw := make([]byte, 32)
	env := func(k string) string {
		if k == EnvKey {
			return base64.StdEncoding.EncodeToString(raw)
		}
		return ""
	}
	kr, err = Load(t.TempDir(), env)
	require.NoError(t, err)
	require.Equal(t, fingerprint(raw), kr.Keys()[0].ID)
	_, err = Load(dir, func(k string) string {
		if k == EnvKey {
			return "c2hvcnQ="
		}
		return ""
	})
	require.ErrorContains(t, err, "the key is 5 bytes, want 32")
	file := filepath.Join(t.TempDir(), "k")
	require.NoError(t, WriteKeyFile(file, []Key{NewKey()}))
	kr, err = Load(dir, func(k string) string {
		if k == EnvKeyFile {
			return file
		}
		return ""
	})
	require.NoError(t, err)
	require.Equal(t, file, kr.Source)
}

// memStore is a map of sealed values, resealed like the SQL store does.
type memStore map[string]string

func (m memStore) reseal(_ context.Context, kr *Keyring) (int, error) {
	for id, v := range m {
		plain, err := kr.Open(v, id)
		if err != nil {
			return 0, err
		}
		if m[id], err = kr.Seal(plain, id); err != nil {
			return 0, err
		}
	}
	return len(m), nil
}

func TestRotateKeyFile(t *testing.T) {
	dir := t.TempDir()
	old, err := Load(dir, noEnv)
	require.NoError(t, err)
	st := memStore{}
	for _, id := range []string{"a", "b"} {
		st[id], _ = old.Seal("rtsp://u:p@"+id+"/", id)
	}
	kr, n, note, err := Rotate(context.Background(), old, noEnv, st.reseal)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Empty(t, note)
	require.NotEqual(t, old.Keys()[0].ID, kr.Keys()[0].ID)
	reread, err := Load(dir, noEnv)
	require.NoError(t, err)
	require.Len(t, reread.Keys(), 1, "the old key is gone from the file")
	for id, v := range st {
		plain, err := reread.Open(v, id)
		require.NoError(t, err)
		require.Equal(t, "rtsp://u:p@"+id+"/", plain)
		_, err = old.Open(v, id)
		require.Error(t, err, "the old key opens nothing any more")
	}
	info, err := os.Stat(filepath.Join(dir, KeyFileName))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}

func TestRotateEnvKey(t *testing.T) {
	oldRaw, newRaw := make([]byte, 32), make([]byte, 32)
	newRaw[0] = 1
	env := map[string]string{EnvKey: base64.StdEncoding.EncodeToString(oldRaw)}
	getenv := func(k string) string { return env[k] }
	old, err := Load(t.TempDir(), getenv)
	require.NoError(t, err)
	st := memStore{}
	st["a"], _ = old.Seal("secret", "a")
	_, _, _, err = Rotate(context.Background(), old, getenv, st.reseal)
	require.ErrorContains(t, err, "set VIGIL_NEW_SECRET_KEY")
	env[EnvNewKey] = base64.StdEncoding.EncodeToString(newRaw)
	kr, n, note, err := Rotate(context.Background(), old, getenv, st.reseal)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.True(t, strings.HasPrefix(note, "now set VIGIL_SECRET_KEY"))
	plain, err := kr.Open(st["a"], "a")
	require.NoError(t, err)
	require.Equal(t, "secret", plain)
}
