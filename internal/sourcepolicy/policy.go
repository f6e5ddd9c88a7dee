// Package sourcepolicy decides which camera sources a user of the API may
// point the service at. A camera source is something the server opens on
// the user's behalf: a local file or folder (streamed back over the live
// view), an RTSP server, an ONVIF device the server POSTs to. Without a
// policy that is a way to read the server's files and to probe hosts and
// ports only the server can reach (loopback services, cloud metadata
// endpoints). Cameras from the config file are trusted and not checked.
//
// The rules:
//   - A replay source (replay:…) is allowed: it opens and reaches nothing;
//     its location is validated with the camera's config.
//   - A file or folder must lie, after resolving symbolic links, inside one
//     of the allowed folders and be readable. Missing, unreadable and
//     outside all give the same error, so the answer reveals nothing about
//     what exists.
//   - A network address is refused when it is unspecified, multicast or
//     broadcast, a cloud metadata endpoint, loopback (unless
//     AllowLoopback), link-local (unless AllowLinkLocal) or private
//     (unless AllowPrivate; cameras usually live on private networks, so
//     the config default allows them). Ranges in AllowNetworks are allowed
//     whatever they are. Host names are resolved and every address checked.
//   - The check at creation cannot stop a name that resolves differently
//     later (DNS rebinding). Dialer and HTTPClient check the address
//     actually dialled, for connections the server makes itself (the ONVIF
//     client); ffmpeg resolves RTSP names on its own, so for RTSP only the
//     creation-time check applies unless the RTSP client dials through
//     Dialer.
package sourcepolicy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vigil-cctv/vigil/internal/camurl"
)

// ErrRefused matches (errors.Is) every refusal.
var ErrRefused = errors.New("camera source not allowed")

// Options configure a Policy.
type Options struct {
	// AllowDirs are the folders file sources may come from; none means no
	// file sources.
	AllowDirs []string
	// AllowPrivate allows RFC 1918, carrier-grade NAT (100.64.0.0/10) and
	// IPv6 unique local addresses.
	AllowPrivate bool
	// AllowLoopback allows 127.0.0.0/8 and ::1.
	AllowLoopback bool
	// AllowLinkLocal allows 169.254.0.0/16 and fe80::/10, except the
	// metadata endpoints in them.
	AllowLinkLocal bool
	// AllowNetworks are ranges allowed whatever else applies, metadata
	// endpoints included: the explicit way to reach one.
	AllowNetworks []netip.Prefix
	// Resolver looks host names up; nil means net.DefaultResolver.
	Resolver Resolver
	// LookupTimeout bounds a name lookup (default 5 s).
	LookupTimeout time.Duration
}

// Resolver is the part of *net.Resolver a Policy uses.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Policy checks camera sources; it is safe for concurrent use.
type Policy struct {
	opt  Options
	dirs []string // AllowDirs, absolute with symbolic links resolved
}

// New builds a policy. An allowed folder that does not exist is an error:
// a typo in the config should not silently refuse every file.
func New(opt Options) (*Policy, error) {
	if opt.Resolver == nil {
		opt.Resolver = net.DefaultResolver
	}
	if opt.LookupTimeout <= 0 {
		opt.LookupTimeout = 5 * time.Second
	}
	p := &Policy{opt: opt}
	for _, d := range opt.AllowDirs {
		abs, err := filepath.Abs(d)
		if err == nil {
			abs, err = filepath.EvalSymlinks(abs)
		}
		if err != nil {
			return nil, fmt.Errorf("sources.allow_dirs: %w", err)
		}
		p.dirs = append(p.dirs, abs)
	}
	return p, nil
}

// Check decides whether a camera location (a file path or an rtsp(s)://
// or http(s):// URL) may be used. Errors wrap ErrRefused, say which rule
// refused the source and never reveal whether a path exists.
func (p *Policy) Check(ctx context.Context, loc string) error {
	if camurl.IsReplay(loc) {
		return nil // frames made in process: nothing is read or reached
	}
	if !camurl.IsURL(loc) {
		return p.CheckFile(loc)
	}
	u, err := camurl.Parse(loc)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrRefused, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "rtsp", "rtsps", "http", "https":
	default:
		return fmt.Errorf("%w: scheme %q is not a camera protocol", ErrRefused, u.Scheme)
	}
	return p.CheckHost(ctx, u.Hostname())
}

// CheckFile decides whether a file or folder may be streamed.
func (p *Policy) CheckFile(path string) error {
	if len(p.dirs) == 0 {
		return fmt.Errorf("%w: file sources are not allowed here (the config's sources.allow_dirs lists none)", ErrRefused)
	}
	if !p.fileAllowed(path) {
		return fmt.Errorf("%w: a file source must be a readable file or folder inside an allowed folder (sources.allow_dirs)", ErrRefused)
	}
	return nil
}

// fileAllowed resolves path and checks it is inside an allowed folder and
// readable. Every failure is the same false.
func (p *Policy) fileAllowed(path string) bool {
	if path == "" {
		return false
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return false
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil || !p.inAllowedDir(real) {
		return false
	}
	f, err := os.Open(real)
	if err != nil {
		return false
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !(info.Mode().IsRegular() || info.IsDir()) {
		return false
	}
	if info.IsDir() {
		_, err = f.Readdirnames(1)
		return err == nil
	}
	_, err = f.Read(make([]byte, 1))
	return err == nil
}

func (p *Policy) inAllowedDir(real string) bool {
	for _, d := range p.dirs {
		if rel, err := filepath.Rel(d, real); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel) {
			return true
		}
	}
	return false
}

// CheckHost checks an IP literal, or every address a host name resolves to.
func (p *Policy) CheckHost(ctx context.Context, host string) error {
	if host == "" {
		return fmt.Errorf("%w: the URL has no host", ErrRefused)
	}
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return p.CheckAddr(ip)
	}
	ctx, cancel := context.WithTimeout(ctx, p.opt.LookupTimeout)
	defer cancel()
	ips, err := p.opt.Resolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return fmt.Errorf("%w: host %q does not resolve", ErrRefused, host)
	}
	for _, ip := range ips {
		if err := p.CheckAddr(ip); err != nil {
			return fmt.Errorf("host %q: %w", host, err)
		}
	}
	return nil
}

// CheckAddr decides whether the server may connect to ip.
func (p *Policy) CheckAddr(ip netip.Addr) error {
	ip = ip.Unmap().WithZone("")
	if embedded, ok := nat64(ip); ok {
		ip = embedded
	}
	for _, n := range p.opt.AllowNetworks {
		if n.Contains(ip) {
			return nil
		}
	}
	class := classify(ip)
	allowed := class == "" ||
		(class == classLoopback && p.opt.AllowLoopback) ||
		(class == classLinkLocal && p.opt.AllowLinkLocal) ||
		(class == classPrivate && p.opt.AllowPrivate)
	if allowed {
		return nil
	}
	return fmt.Errorf("%w: address %s is %s%s", ErrRefused, ip, class, hint(class))
}

// Address classes that are refused by default.
const (
	classLoopback  = "loopback"
	classLinkLocal = "link-local"
	classPrivate   = "in a private network"
	classMetadata  = "a cloud metadata endpoint"
	classSpecial   = "not a unicast host address"
)

func hint(class string) string {
	switch class {
	case classLoopback:
		return " (sources.allow_loopback allows it)"
	case classLinkLocal:
		return " (sources.allow_link_local allows it)"
	case classPrivate:
		return " (sources.allow_private_networks allows it)"
	}
	return " (only sources.allow_networks can allow it)"
}

var (
	metadata = []netip.Addr{
		netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, OpenStack, DigitalOcean
		netip.MustParseAddr("169.254.170.2"),   // AWS ECS task metadata
		netip.MustParseAddr("169.254.169.253"), // AWS DNS
		netip.MustParseAddr("169.254.169.123"), // AWS time
		netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
		netip.MustParseAddr("168.63.129.16"),   // Azure wire server
		netip.MustParseAddr("192.0.0.192"),     // Oracle Cloud
		netip.MustParseAddr("fd00:ec2::254"),   // AWS IPv6
		netip.MustParseAddr("fd00:ec2::23"),    // AWS IPv6 DNS
	}
	special = prefixes("0.0.0.0/8", "255.255.255.255/32", "192.0.0.0/24", "240.0.0.0/4", "::/128", "64:ff9b:1::/48")
	private = prefixes("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
	nat64P  = netip.MustParsePrefix("64:ff9b::/96")
)

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// classify names why ip is refused by default; "" for a public unicast
// address.
func classify(ip netip.Addr) string {
	for _, m := range metadata {
		if ip == m {
			return classMetadata
		}
	}
	switch {
	case !ip.IsValid() || ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast() || contains(special, ip):
		return classSpecial
	case ip.IsLoopback():
		return classLoopback
	case ip.IsLinkLocalUnicast():
		return classLinkLocal
	case contains(private, ip):
		return classPrivate
	}
	return ""
}

func contains(ps []netip.Prefix, ip netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// nat64 extracts the IPv4 address a well-known-prefix NAT64 address
// (64:ff9b::a.b.c.d) reaches, which is what a NAT64 gateway connects to.
func nat64(ip netip.Addr) (netip.Addr, bool) {
	if !ip.Is6() || !nat64P.Contains(ip) {
		return ip, false
	}
	b := ip.As16()
	return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
}

// Control is a net.Dialer Control hook: it checks the address actually
// being dialled, after name resolution, so a name that resolved to an
// allowed address when the camera was created cannot be rebound to a
// refused one later.
func (p *Policy) Control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot check address %q", ErrRefused, address)
	}
	return p.CheckAddr(ap.Addr())
}

// Dialer is a net.Dialer that refuses addresses the policy refuses.
func (p *Policy) Dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: p.Control}
}

// HTTPClient is an HTTP client whose every connection, redirects
// included, goes through Dialer. It ignores proxy settings: through a
// proxy the policy would only ever see the proxy's address.
func (p *Policy) HTTPClient(timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = p.Dialer(10 * time.Second).DialContext
	return &http.Client{Timeout: timeout, Transport: t}
}
