package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/secrets"
	"github.com/vigil-cctv/vigil/internal/store/postgres"
	"github.com/vigil-cctv/vigil/internal/store/storetest"
)

func TestSealedCameras(t *testing.T) {
	st, err := postgres.Open(context.Background(), freshDSN(t))
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
			require.NoError(t, st.R.QueryRow(`SELECT url FROM cameras WHERE id = $1`, id).Scan(&u))
			return u
		},
		Reseal: func(ctx context.Context, kr *secrets.Keyring) (int, error) { return st.ResealCameras(ctx, kr) },
	})
}
