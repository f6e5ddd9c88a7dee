package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/secrets"
	"github.com/vigil-cctv/vigil/internal/store"
)

// Sealing is how a store's camera-URL encryption is reached: useKey sets
// (or, with nil, clears) its keyring, rawURL reads a camera's url column
// as stored, reseal is its ResealCameras.
type Sealing struct {
	UseKey func(*secrets.Keyring)
	RawURL func(id string) string
	Reseal func(context.Context, *secrets.Keyring) (int, error)
}

// SealedCameras checks issue 16 item 8: camera passwords were stored in
// plain text. With a keyring, a camera URL is stored encrypted and read
// back in clear; URLs stored before encryption was on are encrypted by a
// reseal; a rotation reseals with the new key; without the key a sealed
// URL is an error naming what is missing, never ciphertext taken for a
// path.
func SealedCameras(t *testing.T, st store.Store, s Sealing) {
	ctx := context.Background()
	const url = "rtsp://admin:S3cret@10.0.0.5/live?token=T0ken"
	require.NoError(t, st.PutCamera(ctx, store.Camera{ID: "old", Name: "old", URL: url, Kind: "rtsp", Enabled: true}))
	require.Equal(t, url, s.RawURL("old"), "stored before encryption was on")

	kr, err := secrets.NewKeyring("test", secrets.NewKey())
	require.NoError(t, err)
	s.UseKey(kr)
	require.NoError(t, st.PutCamera(ctx, store.Camera{ID: "new", Name: "new", URL: url, Kind: "rtsp", Enabled: true}))
	raw := s.RawURL("new")
	require.True(t, secrets.IsSealed(raw))
	require.NotContains(t, raw, "S3cret")
	require.NotContains(t, raw, "T0ken")
	c, err := st.GetCamera(ctx, "new")
	require.NoError(t, err)
	require.Equal(t, url, c.URL)
	old, err := st.GetCamera(ctx, "old")
	require.NoError(t, err)
	require.Equal(t, url, old.URL, "plain rows still read")

	n, err := s.Reseal(ctx, kr)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.True(t, secrets.IsSealed(s.RawURL("old")), "resealing encrypts older rows")

	next, err := secrets.NewKeyring("test", secrets.NewKey(), kr.Keys()[0])
	require.NoError(t, err)
	_, err = s.Reseal(ctx, next)
	require.NoError(t, err)
	only, err := secrets.NewKeyring("test", next.Keys()[0])
	require.NoError(t, err)
	s.UseKey(only)
	cams, err := st.ListCameras(ctx)
	require.NoError(t, err)
	require.Len(t, cams, 2)
	for _, c := range cams {
		require.Equal(t, url, c.URL)
	}

	s.UseKey(nil)
	_, err = st.GetCamera(ctx, "new")
	require.ErrorContains(t, err, "encrypted and no secret key is configured")
	_, err = st.ListCameras(ctx)
	require.Error(t, err)
}
