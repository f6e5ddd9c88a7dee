package onvif

import (
	"context"
	"encoding/xml"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// probeMatch is a ProbeMatches reply shaped like a real camera's.
func probeMatch(relatesTo, uuid, xaddr string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>` +
		`<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl" xmlns:tds="http://www.onvif.org/ver10/device/wsdl">` +
		`<SOAP-ENV:Header><wsa:MessageID>uuid:3fa0c2de-0001-4000-8000-000000000001</wsa:MessageID>` +
		`<wsa:RelatesTo>` + relatesTo + `</wsa:RelatesTo>` +
		`<wsa:To SOAP-ENV:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:To>` +
		`<wsa:Action SOAP-ENV:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsa:Action></SOAP-ENV:Header>` +
		`<SOAP-ENV:Body><d:ProbeMatches><d:ProbeMatch>` +
		`<wsa:EndpointReference><wsa:Address>urn:uuid:` + uuid + `</wsa:Address></wsa:EndpointReference>` +
		`<d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types>` +
		`<d:Scopes>onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/Profile/Streaming onvif://www.onvif.org/Profile/T ` +
		`onvif://www.onvif.org/name/Gate%20North onvif://www.onvif.org/hardware/DS-2CD2143G2-I ` +
		`onvif://www.onvif.org/location/city/Lyon onvif://www.onvif.org/location/street/Rue%20de%20la%20Gare</d:Scopes>` +
		`<d:XAddrs>` + xaddr + `</d:XAddrs><d:MetadataVersion>10</d:MetadataVersion>` +
		`</d:ProbeMatch></d:ProbeMatches></SOAP-ENV:Body></SOAP-ENV:Envelope>`
}

// udpResponder answers each Probe for NetworkVideoTransmitter with two
// copies of one camera's ProbeMatch (as a camera on two interfaces would),
// plus a reply to some other probe that must be ignored.
func udpResponder(t *testing.T) string {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatalf("no UDP on localhost: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	go respond(conn, testUUID)
	return conn.LocalAddr().String()
}

const testUUID = "4419b3a6-1dd2-11b2-a105-000000000001"

// respond answers probes on conn as a camera with the given uuid would.
func respond(conn *net.UDPConn, uuid string) {
	buf := make([]byte, 64<<10)
	for {
		n, from, err := conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		var probe struct {
			MessageID string `xml:"Header>MessageID"`
			Types     string `xml:"Body>Probe>Types"`
		}
		if xml.Unmarshal(buf[:n], &probe) != nil || !strings.Contains(probe.Types, "NetworkVideoTransmitter") {
			continue
		}
		for _, reply := range []string{
			"garbage that is not XML",
			probeMatch("urn:uuid:00000000-0000-4000-8000-000000000000", "other-vms-camera", "http://192.0.2.99/onvif/device_service"),
			probeMatch(probe.MessageID, uuid, "http://192.0.2.10/onvif/device_service"),
			probeMatch(probe.MessageID, uuid, "http://198.51.100.10/onvif/device_service http://192.0.2.10/onvif/device_service"),
		} {
			conn.WriteToUDP([]byte(reply), from)
		}
	}
}

// discoverUntil probes with a listening window of 300 ms, doubling it until
// the answer is complete: a busy machine may not run the responder within
// any fixed window, so the test waits for the condition, not a duration.
// Every partial answer must still be right. It returns the complete answer.
func discoverUntil(t *testing.T, complete func([]Device) bool, discover func(time.Duration) ([]Device, error)) []Device {
	t.Helper()
	for window := 300 * time.Millisecond; ; window *= 2 {
		devs, err := discover(window)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range devs {
			if strings.Contains(d.EndpointRef, "other-vms-camera") {
				t.Fatalf("reply to another probe accepted: %+v", d)
			}
		}
		if complete(devs) {
			return devs
		}
		if window > 30*time.Second {
			t.Fatalf("no complete answer in a %v window: %+v", window, devs)
		}
		t.Logf("partial answer in a %v window, probing again: %+v", window, devs)
	}
}

// checkTestCamera checks the device parsed from the responder's replies,
// merged from its two copies.
func checkTestCamera(t *testing.T, d Device, uuid string) {
	t.Helper()
	if d.EndpointRef != "urn:uuid:"+uuid {
		t.Fatalf("endpoint = %q", d.EndpointRef)
	}
	wantX := []string{"http://192.0.2.10/onvif/device_service", "http://198.51.100.10/onvif/device_service"}
	if !slices.Equal(d.XAddrs, wantX) {
		t.Fatalf("xaddrs = %v, want %v", d.XAddrs, wantX)
	}
	if d.Name != "Gate North" || d.Hardware != "DS-2CD2143G2-I" || d.Location != "city/Lyon, street/Rue de la Gare" {
		t.Fatalf("scopes parsed as name=%q hardware=%q location=%q", d.Name, d.Hardware, d.Location)
	}
	if !slices.Contains(d.Types, "dn:NetworkVideoTransmitter") || len(d.Scopes) != 7 {
		t.Fatalf("types=%v scopes=%v", d.Types, d.Scopes)
	}
}

func TestDiscoverAt(t *testing.T) {
	addr := udpResponder(t)
	devs := discoverUntil(t, func(devs []Device) bool {
		return len(devs) == 1 && len(devs[0].XAddrs) == 2
	}, func(window time.Duration) ([]Device, error) {
		return DiscoverAt(context.Background(), addr, window)
	})
	checkTestCamera(t, devs[0], testUUID)
}

// TestDiscoverMulticast sends the probe the way a real discovery does, to
// the WS-Discovery group from a non-loopback interface, with a camera that
// joined the group on that interface (the kernel loops multicast back to
// local members). Other WS-Discovery listeners on the network may answer
// too; the test looks for its own camera, named by a fresh uuid.
func TestDiscoverMulticast(t *testing.T) {
	ifi := multicastInterface(t)
	conn, err := net.ListenMulticastUDP("udp4", ifi, wsDiscovery)
	if err != nil {
		t.Fatalf("join %v on %s: %v", wsDiscovery, ifi.Name, err)
	}
	t.Cleanup(func() { conn.Close() })
	uuid, err := newUUID()
	if err != nil {
		t.Fatal(err)
	}
	uuid = strings.TrimPrefix(uuid, "urn:uuid:")
	go respond(conn, uuid)
	ours := func(devs []Device) int {
		return slices.IndexFunc(devs, func(d Device) bool { return d.EndpointRef == "urn:uuid:"+uuid })
	}
	devs := discoverUntil(t, func(devs []Device) bool {
		i := ours(devs)
		return i >= 0 && len(devs[i].XAddrs) == 2
	}, func(window time.Duration) ([]Device, error) {
		return Discover(context.Background(), ifi.Name, window)
	})
	checkTestCamera(t, devs[ours(devs)], uuid)
}

// multicastInterface picks the first up, multicast-capable, non-loopback
// interface with an IPv4 address, as Discover would.
func multicastInterface(t *testing.T) *net.Interface {
	t.Helper()
	all, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, ifi := range all {
		if ifi.Flags&net.FlagUp == 0 || ifi.Flags&net.FlagMulticast == 0 || ifi.Flags&net.FlagLoopback != 0 {
			continue
		}
		if ips, err := localIPv4s(ifi.Name); err == nil && ips[0] != nil {
			return &ifi
		}
	}
	t.Skip("no up multicast IPv4 interface besides loopback: multicast discovery cannot be exercised here")
	return nil
}

func TestDiscoverAtCancel(t *testing.T) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}) // never answers
	if err != nil {
		t.Fatalf("no UDP on localhost: %v", err)
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		// An hour's window: only the cancellation can end this probe.
		_, err := DiscoverAt(ctx, conn.LocalAddr().String(), time.Hour)
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
}

func TestDiscoverUnknownInterface(t *testing.T) {
	if _, err := Discover(context.Background(), "no-such-if0", 10*time.Millisecond); err == nil {
		t.Fatal("want error for an unknown interface")
	}
}

func TestProbeMessage(t *testing.T) {
	var env struct {
		Action    string `xml:"Header>Action"`
		MessageID string `xml:"Header>MessageID"`
		Body      struct {
			Probe struct {
				Types string `xml:"http://schemas.xmlsoap.org/ws/2005/04/discovery Types"`
			} `xml:"http://schemas.xmlsoap.org/ws/2005/04/discovery Probe"`
		} `xml:"http://www.w3.org/2003/05/soap-envelope Body"`
	}
	if err := xml.Unmarshal(probeMessage("urn:uuid:x"), &env); err != nil {
		t.Fatal(err)
	}
	if env.MessageID != "urn:uuid:x" || env.Body.Probe.Types != "dn:NetworkVideoTransmitter" ||
		env.Action != nsDiscovery+"/Probe" {
		t.Fatalf("probe = %+v", env)
	}
	id, _ := newUUID()
	if len(id) != len("urn:uuid:")+36 || id[len("urn:uuid:")+14] != '4' {
		t.Fatalf("uuid = %s", id)
	}
}

func TestParseScopes(t *testing.T) {
	tests := []struct {
		scopes              []string
		name, hardware, loc string
	}{
		{[]string{"onvif://www.onvif.org/name/AXIS%20P1346", "onvif://www.onvif.org/hardware/P1346"}, "AXIS P1346", "P1346", ""},
		{[]string{"ONVIF://WWW.ONVIF.ORG/Name/Upper", "onvif://www.onvif.org/name/second"}, "Upper", "", ""},
		{[]string{"onvif://www.onvif.org/location/country/china", "onvif://www.onvif.org/location/"}, "", "", "country/china"},
		{[]string{"onvif://www.onvif.org/name/bad%zzescape/"}, "bad%zzescape", "", ""},
		{[]string{"onvif://www.onvif.org/name/evil%0Alog%1b[31m"}, "evillog[31m", "", ""},
		{[]string{"http://example.com/name/x", "onvif://www.onvif.org/name", "onvif://www.onvif.org/"}, "", "", ""},
	}
	for _, tt := range tests {
		n, h, l := parseScopes(tt.scopes)
		if n != tt.name || h != tt.hardware || l != tt.loc {
			t.Errorf("parseScopes(%q) = %q, %q, %q; want %q, %q, %q", tt.scopes, n, h, l, tt.name, tt.hardware, tt.loc)
		}
	}
}

func TestParseProbeMatchesRelatesTo(t *testing.T) {
	msg := []byte(probeMatch("urn:uuid:a", "u", "http://x/onvif/device_service"))
	if _, err := parseProbeMatches(msg, "urn:uuid:b"); err == nil {
		t.Fatal("reply to another probe accepted")
	}
	devs, err := parseProbeMatches([]byte(strings.Replace(string(msg), "<wsa:RelatesTo>urn:uuid:a</wsa:RelatesTo>", "", 1)), "urn:uuid:b")
	if err != nil || len(devs) != 1 {
		t.Fatalf("reply without RelatesTo: %v, %v", devs, err)
	}
}
