package onvif

import (
	"context"
	"crypto/rand"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// wsDiscovery is the WS-Discovery multicast group and port.
var wsDiscovery = &net.UDPAddr{IP: net.IPv4(239, 255, 255, 250), Port: 3702}

const (
	nsAddressing = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
	nsDiscovery  = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
	nsNetwork    = "http://www.onvif.org/ver10/network/wsdl"
	scopePrefix  = "onvif://www.onvif.org/"
)

// Device is a camera (or NVR) that answered a WS-Discovery probe.
type Device struct {
	// EndpointRef is the device's stable identity, usually urn:uuid:...
	EndpointRef string
	// XAddrs are device service URLs; use one as Client.Endpoint.
	XAddrs []string
	Types  []string
	Scopes []string
	// Name, Hardware and Location come from the onvif://www.onvif.org/
	// scopes; they are set by the camera's owner, so treat them as labels,
	// not identifiers.
	Name, Hardware, Location string
}

// Discover multicasts a WS-Discovery Probe for NetworkVideoTransmitters on
// one interface (or, with iface "", every up, multicast-capable, non-loopback
// IPv4 interface) and collects the answers for timeout, deduplicated by
// endpoint. If ctx ends first, the devices found so far are returned with
// ctx's error.
func Discover(ctx context.Context, iface string, timeout time.Duration) ([]Device, error) {
	locals, err := localIPv4s(iface)
	if err != nil {
		return nil, fmt.Errorf("onvif discover: %w", err)
	}
	results := make([][]Device, len(locals))
	errs := make([]error, len(locals))
	var wg sync.WaitGroup
	for i, ip := range locals {
		wg.Go(func() { results[i], errs[i] = probe(ctx, ip, wsDiscovery, timeout) })
	}
	wg.Wait()
	var all []Device
	failed := 0
	for i := range results {
		all = append(all, results[i]...)
		if errs[i] != nil {
			failed++
		}
	}
	if err := ctx.Err(); err != nil {
		return dedupe(all), err
	}
	if failed == len(locals) { // one working interface is enough
		return nil, fmt.Errorf("onvif discover: %w", errors.Join(errs...))
	}
	return dedupe(all), nil
}

// DiscoverAt sends the Probe unicast to addr ("host:port"). Useful where
// multicast does not reach (tests, routed networks, containers).
func DiscoverAt(ctx context.Context, addr string, timeout time.Duration) ([]Device, error) {
	dst, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		return nil, fmt.Errorf("onvif discover: %w", err)
	}
	devs, err := probe(ctx, nil, dst, timeout)
	if err != nil {
		err = fmt.Errorf("onvif discover: %w", err)
	}
	return dedupe(devs), err
}

// localIPv4s lists the addresses to send probes from. Binding a socket to an
// interface's address makes the kernel send multicast out of that interface
// (on Linux, and in practice elsewhere), which needs no IP_MULTICAST_IF
// socket option and so no platform-specific code.
func localIPv4s(iface string) ([]net.IP, error) {
	var ifaces []net.Interface
	if iface != "" {
		ifi, err := net.InterfaceByName(iface)
		if err != nil {
			return nil, err
		}
		ifaces = []net.Interface{*ifi}
	} else {
		all, err := net.Interfaces()
		if err != nil {
			return nil, err
		}
		for _, ifi := range all {
			if ifi.Flags&net.FlagUp != 0 && ifi.Flags&net.FlagMulticast != 0 && ifi.Flags&net.FlagLoopback == 0 {
				ifaces = append(ifaces, ifi)
			}
		}
	}
	var ips []net.IP
	for _, ifi := range ifaces {
		addrs, err := ifi.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
				ips = append(ips, n.IP.To4())
			}
		}
	}
	switch {
	case len(ips) > 0:
		return ips, nil
	case iface != "":
		return nil, fmt.Errorf("interface %s has no IPv4 address", iface)
	default:
		return []net.IP{nil}, nil // let the routing table pick
	}
}

// probe sends one Probe from local (nil: any) to dst and reads ProbeMatches
// until the timeout or ctx ends. Devices answer unicast to the probe's
// source port, so the same socket receives them without joining the group.
func probe(ctx context.Context, local net.IP, dst *net.UDPAddr, timeout time.Duration) ([]Device, error) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: local})
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	msgID, err := newUUID()
	if err != nil {
		return nil, err
	}
	if _, err := conn.WriteToUDP(probeMessage(msgID), dst); err != nil {
		return nil, err
	}
	if err := conn.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return nil, err
	}
	// Cancelling ctx unblocks the read by moving the deadline to now.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Now()) })
	defer stop()

	var devs []Device
	buf := make([]byte, 64<<10)
	for {
		n, _, err := conn.ReadFromUDP(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return devs, ctx.Err()
		}
		if err != nil {
			return devs, err
		}
		// Anything unparsable, or answering someone else's probe, is not
		// ours: skip it rather than abort the collection.
		if matches, err := parseProbeMatches(buf[:n], msgID); err == nil {
			devs = append(devs, matches...)
		}
	}
}

func probeMessage(msgID string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>` +
		`<s:Envelope xmlns:s="` + nsSOAP12 + `" xmlns:a="` + nsAddressing + `" xmlns:d="` + nsDiscovery + `" xmlns:dn="` + nsNetwork + `">` +
		`<s:Header><a:Action s:mustUnderstand="1">` + nsDiscovery + `/Probe</a:Action>` +
		`<a:MessageID>` + msgID + `</a:MessageID>` +
		`<a:ReplyTo><a:Address>` + nsAddressing + `/role/anonymous</a:Address></a:ReplyTo>` +
		`<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To></s:Header>` +
		`<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>`)
}

// newUUID returns a random (version 4) urn:uuid for the probe's MessageID.
func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

type probeMatchesEnvelope struct {
	XMLName xml.Name `xml:"Envelope"`
	Header  struct {
		RelatesTo string `xml:"RelatesTo"`
	} `xml:"Header"`
	Matches []struct {
		Address string `xml:"EndpointReference>Address"`
		Types   string `xml:"Types"`
		Scopes  string `xml:"Scopes"`
		XAddrs  string `xml:"XAddrs"`
	} `xml:"Body>ProbeMatches>ProbeMatch"`
}

// parseProbeMatches decodes a ProbeMatches message. A reply that names a
// different probe in RelatesTo (another VMS probing at the same time) is an
// error; a missing RelatesTo is tolerated because some firmware omits it.
func parseProbeMatches(data []byte, msgID string) ([]Device, error) {
	var env probeMatchesEnvelope
	if err := newDecoder(data).Decode(&env); err != nil {
		return nil, err
	}
	if rel := strings.TrimSpace(env.Header.RelatesTo); msgID != "" && rel != "" && rel != msgID {
		return nil, errors.New("ProbeMatches for another probe")
	}
	devs := make([]Device, 0, len(env.Matches))
	for _, m := range env.Matches {
		d := Device{
			EndpointRef: strings.TrimSpace(m.Address),
			XAddrs:      strings.Fields(m.XAddrs),
			Types:       strings.Fields(m.Types),
			Scopes:      strings.Fields(m.Scopes),
		}
		d.Name, d.Hardware, d.Location = parseScopes(d.Scopes)
		devs = append(devs, d)
	}
	return devs, nil
}

// parseScopes extracts the name, hardware and location scopes. Several
// location scopes (country/..., city/...) are joined with ", ".
func parseScopes(scopes []string) (name, hardware, location string) {
	var locs []string
	for _, s := range scopes {
		if len(s) <= len(scopePrefix) || !strings.EqualFold(s[:len(scopePrefix)], scopePrefix) {
			continue
		}
		key, val, ok := strings.Cut(s[len(scopePrefix):], "/")
		val = scopeValue(val)
		if !ok || val == "" {
			continue
		}
		switch strings.ToLower(key) {
		case "name":
			name = firstNonEmpty(name, val)
		case "hardware":
			hardware = firstNonEmpty(hardware, val)
		case "location":
			locs = append(locs, val)
		}
	}
	return name, hardware, strings.Join(locs, ", ")
}

// scopeValue unescapes a scope value and makes it safe to display: scope
// values are set by whoever configured the camera and end up in UIs and
// logs, so invalid UTF-8 and control characters are dropped.
func scopeValue(v string) string {
	if u, err := url.PathUnescape(v); err == nil {
		v = u
	}
	v = strings.ToValidUTF8(v, "")
	v = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, v)
	return strings.TrimSpace(strings.TrimSuffix(v, "/"))
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// dedupe merges devices by endpoint reference (by first XAddr when a device
// sends none): a camera answers once per interface it hears the probe on,
// possibly with different XAddrs each time.
func dedupe(devs []Device) []Device {
	var out []Device
	index := map[string]int{}
	for _, d := range devs {
		key := d.EndpointRef
		if key == "" && len(d.XAddrs) > 0 {
			key = d.XAddrs[0]
		}
		i, seen := index[key]
		if !seen || key == "" {
			index[key] = len(out)
			out = append(out, d)
			continue
		}
		out[i].XAddrs = union(out[i].XAddrs, d.XAddrs)
		out[i].Scopes = union(out[i].Scopes, d.Scopes)
	}
	return out
}

// union appends the elements of b missing from a. A set keeps this linear:
// a hostile reply can carry thousands of scopes.
func union(a, b []string) []string {
	seen := make(map[string]bool, len(a))
	for _, s := range a {
		seen[s] = true
	}
	for _, s := range b {
		if !seen[s] {
			seen[s] = true
			a = append(a, s)
		}
	}
	return a
}
