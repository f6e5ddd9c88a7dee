package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/secrets"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
	"github.com/vigil-cctv/vigil/internal/store/storetest"
)

func TestSealedCameras(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "vigil.db"))
	require.NoError(t, err)
	defer st.Close()
	storetest.SealedCameras(t, st, storetest.Sealing{
		UseKey: func(kr *secrets.Keyring) {
			if kr == nil {
				st.Secrets = nil
				return
			}
			st.Secrets = kr
		},
		RawURL: func(id string) string {
			var u string
			require.NoError(t, st.R.QueryRow(`SELECT url FROM cameras WHERE id = ?`, id).Scan(&u))
			return u
		},
		Reseal: func(ctx context.Context, kr *secrets.Keyring) (int, error) { return st.ResealCameras(ctx, kr) },
	})
}
