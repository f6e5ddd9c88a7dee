package sourcepolicy

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeResolver answers from a table; unknown names do not resolve.
type fakeResolver map[string][]string

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	ss, ok := f[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out, nil
}

func newPolicy(t *testing.T, opt Options) *Policy {
	t.Helper()
	if opt.Resolver == nil {
		opt.Resolver = fakeResolver{
			"cam.example":   {"203.0.113.7"},
			"lan-cam":       {"10.0.0.5"},
			"rebind.evil":   {"203.0.113.9", "127.0.0.1"},
			"metadata.evil": {"169.254.169.254"},
		}
	}
	p, err := New(opt)
	require.NoError(t, err)
	return p
}

// Issue 16 item 4: an ONVIF or RTSP address could be any host, including
// loopback and link-local/metadata addresses (SSRF, a port scanner).
func TestAddressesRefusedUnlessAllowed(t *testing.T) {
	ctx := context.Background()
	def := newPolicy(t, Options{AllowPrivate: true})
	for loc, want := range map[string]string{
		"rtsp://203.0.113.7/live":                 "",
		"rtsp://cam.example/live":                 "",
		"http://10.0.0.5/onvif/device_service":    "",
		"rtsp://lan-cam:554/live":                 "",
		"rtsp://[fd12::5]/live":                   "",
		"http://127.0.0.1:8080/api":               "address 127.0.0.1 is loopback (sources.allow_loopback allows it)",
		"http://127.1.2.3/":                       "is loopback",
		"http://[::1]:22/":                        "address ::1 is loopback",
		"http://[::ffff:127.0.0.1]/":              "address 127.0.0.1 is loopback",
		"http://[64:ff9b::7f00:1]/":               "address 127.0.0.1 is loopback",
		"http://169.254.169.254/latest/meta-data": "is a cloud metadata endpoint (only sources.allow_networks can allow it)",
		"http://[fd00:ec2::254]/":                 "is a cloud metadata endpoint",
		"http://100.100.100.200/":                 "is a cloud metadata endpoint",
		"http://168.63.129.16/":                   "is a cloud metadata endpoint",
		"http://169.254.10.10/":                   "address 169.254.10.10 is link-local",
		"http://[fe80::1%25eth0]/":                "is link-local",
		"http://0.0.0.0:554/":                     "is not a unicast host address",
		"http://224.0.0.1/":                       "is not a unicast host address",
		"http://255.255.255.255/":                 "is not a unicast host address",
		"rtsp://rebind.evil/live":                 `host "rebind.evil": camera source not allowed: address 127.0.0.1 is loopback`,
		"rtsp://metadata.evil/":                   "is a cloud metadata endpoint",
		"rtsp://nowhere.invalid/":                 `host "nowhere.invalid" does not resolve`,
		"ftp://203.0.113.7/":                      `scheme "ftp" is not a camera protocol`,
		"rtsp://u:p@h:x/":                         "not a valid URL (invalid port after host)",
	} {
		err := def.Check(ctx, loc)
		if want == "" {
			require.NoError(t, err, loc)
			continue
		}
		require.ErrorIs(t, err, ErrRefused, loc)
		require.Contains(t, err.Error(), want, loc)
	}

	strict := newPolicy(t, Options{})
	require.ErrorContains(t, strict.Check(ctx, "rtsp://10.0.0.5/"), "in a private network (sources.allow_private_networks allows it)")
	require.ErrorContains(t, strict.Check(ctx, "rtsp://100.64.1.1/"), "in a private network")

	open := newPolicy(t, Options{AllowLoopback: true, AllowLinkLocal: true,
		AllowNetworks: []netip.Prefix{netip.MustParsePrefix("169.254.169.254/32")}})
	require.NoError(t, open.Check(ctx, "http://127.0.0.1:8080/"))
	require.NoError(t, open.Check(ctx, "http://169.254.10.10/"))
	require.NoError(t, open.Check(ctx, "http://169.254.169.254/"), "allow_networks reaches a metadata address")
	require.ErrorContains(t, open.Check(ctx, "http://169.254.170.2/"), "metadata", "allow_link_local alone does not")
}

// Issue 16 item 4: a camera URL could be any local path (a private folder
// was streamed back over live.mjpeg), and the error told whether a file
// existed. Now only allowed folders, with one answer for every refusal.
func TestFilesOnlyFromAllowedFolders(t *testing.T) {
	allowed, outside := t.TempDir(), t.TempDir()
	video := filepath.Join(allowed, "gate.mp4")
	require.NoError(t, os.WriteFile(video, []byte("x"), 0o600))
	frames := filepath.Join(allowed, "frames")
	require.NoError(t, os.Mkdir(frames, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(frames, "0001.jpg"), []byte("x"), 0o600))
	secret := filepath.Join(outside, "secret.jpg")
	require.NoError(t, os.WriteFile(secret, []byte("x"), 0o600))
	require.NoError(t, os.Symlink(secret, filepath.Join(allowed, "link.jpg")))
	require.NoError(t, os.Symlink(outside, filepath.Join(allowed, "linkdir")))

	p := newPolicy(t, Options{AllowDirs: []string{allowed}})
	ctx := context.Background()
	require.NoError(t, p.Check(ctx, video))
	require.NoError(t, p.Check(ctx, frames))
	require.NoError(t, p.Check(ctx, filepath.Join(frames, "..", "gate.mp4")))

	var msgs []string
	for _, path := range []string{
		secret,                                          // exists, outside
		filepath.Join(outside, "missing.jpg"),           // missing, outside
		filepath.Join(allowed, "missing.mp4"),           // missing, inside
		filepath.Join(allowed, "link.jpg"),              // symlink out
		filepath.Join(allowed, "linkdir", "secret.jpg"), // through a linked folder
		filepath.Join(allowed, "..", filepath.Base(outside), "secret.jpg"),
		"/etc/passwd", "/proc/self/environ", "", allowed + "/../../..",
	} {
		err := p.Check(ctx, path)
		require.ErrorIs(t, err, ErrRefused, path)
		msgs = append(msgs, err.Error())
	}
	for _, m := range msgs {
		require.Equal(t, msgs[0], m, "every refusal reads the same")
	}
	require.Equal(t, "camera source not allowed: a file source must be a readable file or folder inside an allowed folder (sources.allow_dirs)", msgs[0])

	none := newPolicy(t, Options{})
	require.ErrorContains(t, none.Check(ctx, video), "file sources are not allowed here")

	_, err := New(Options{AllowDirs: []string{filepath.Join(outside, "typo")}})
	require.Error(t, err)
}

// The dialer checks the address it really connects to, so a name that
// passed the check and is later rebound to loopback is still refused.
func TestDialerRefusesRebinding(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("internal"))
	}))
	defer srv.Close()
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)
	p := newPolicy(t, Options{AllowPrivate: true, Resolver: fakeResolver{"localhost": {"10.0.0.5"}}})
	require.NoError(t, p.Check(context.Background(), "http://localhost:"+port+"/"), "the check saw a private address")

	_, err = p.HTTPClient(0).Get("http://localhost:" + port + "/") // the system resolver says 127.0.0.1
	require.Error(t, err)
	require.True(t, errors.Is(err, ErrRefused), "%v", err)
	require.Contains(t, err.Error(), "is loopback")

	_, err = p.Dialer(0).DialContext(context.Background(), "tcp", srv.Listener.Addr().String())
	require.ErrorIs(t, err, ErrRefused)

	ok := newPolicy(t, Options{AllowLoopback: true})
	resp, err := ok.HTTPClient(0).Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
}
