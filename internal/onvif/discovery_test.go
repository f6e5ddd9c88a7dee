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
		t.Skipf("no UDP on localhost: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	go func() {
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
				probeMatch(probe.MessageID, "4419b3a6-1dd2-11b2-a105-000000000001", "http://192.0.2.10/onvif/device_service"),
				probeMatch(probe.MessageID, "4419b3a6-1dd2-11b2-a105-000000000001", "http://198.51.100.10/onvif/device_service http://192.0.2.10/onvif/device_service"),
			} {
				conn.WriteToUDP([]byte(reply), from)
			}
		}
	}()
	return conn.LocalAddr().String()
}

func TestDiscoverAt(t *testing.T) {
	addr := udpResponder(t)
	devs, err := DiscoverAt(context.Background(), addr, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 1 {
		t.Fatalf("devices = %+v, want exactly one", devs)
	}
	d := devs[0]
	if d.EndpointRef != "urn:uuid:4419b3a6-1dd2-11b2-a105-000000000001" {
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

func TestDiscoverAtCancel(t *testing.T) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}) // never answers
	if err != nil {
		t.Skipf("no UDP on localhost: %v", err)
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err = DiscoverAt(ctx, conn.LocalAddr().String(), time.Minute)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("cancellation did not stop the probe")
	}
}

func TestDiscoverUnknownInterface(t *testing.T) {
	if _, err := Discover(context.Background(), "no-such-if0", 10*time.Millisecond); err == nil {
		t.Fatal("want error for an unknown interface")
	}
}

func TestDiscoverMulticastSmoke(t *testing.T) {
	// Multicast may be unavailable in a sandbox; this only checks that a
	// short probe on every interface finishes without hanging.
	devs, err := Discover(context.Background(), "", 200*time.Millisecond)
	t.Logf("multicast discovery: %d devices, err=%v", len(devs), err)
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
