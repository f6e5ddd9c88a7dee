package onvif

import (
	"encoding/xml"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func FuzzParseStreamURI(f *testing.F) {
	f.Add([]byte(envelopeHead+`<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>rtsp://h/x?a=1&amp;b=2</tt:Uri></trt:MediaUri></trt:GetStreamUriResponse>`+envelopeTail), 200)
	f.Add([]byte(envelopeHead+`<tr2:GetStreamUriResponse><tr2:Uri>rtsp://h:554/s</tr2:Uri></tr2:GetStreamUriResponse>`+envelopeTail), 200)
	f.Add([]byte(envelopeHead+`<env:Fault><env:Code><env:Value>env:Sender</env:Value><env:Subcode><env:Value>ter:NotAuthorized</env:Value></env:Subcode></env:Code></env:Fault>`+envelopeTail), 400)
	f.Add([]byte(`<Envelope><Body><Fault><faultcode>x</faultcode></Fault></Body></Envelope>`), 500)
	f.Add([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?><Envelope><Body><GetStreamUriResponse><Uri>rtsp://a</Uri></GetStreamUriResponse></Body></Envelope>`), 200)
	f.Add([]byte("<html>"), 401)
	f.Fuzz(func(t *testing.T, data []byte, status int) {
		uri, err := parseStreamURI(data, status)
		if err == nil && (uri == "" || uri != strings.TrimSpace(uri)) {
			t.Fatalf("accepted bad URI %q", uri)
		}
		if err != nil {
			_ = err.Error() // Error methods must not panic either
		}
	})
}

func FuzzParseProbeMatches(f *testing.F) {
	f.Add([]byte(probeMatch("urn:uuid:a", "u", "http://x/onvif/device_service")), "urn:uuid:a")
	f.Add([]byte(`<Envelope><Body><ProbeMatches><ProbeMatch></ProbeMatch></ProbeMatches></Body></Envelope>`), "")
	f.Add([]byte(`<Envelope><Body><ProbeMatches><ProbeMatch><XAddrs>a b a</XAddrs></ProbeMatch><ProbeMatch><XAddrs>a c</XAddrs><Scopes>s</Scopes></ProbeMatch></ProbeMatches></Body></Envelope>`), "")
	f.Fuzz(func(t *testing.T, data []byte, msgID string) {
		devs, err := parseProbeMatches(data, msgID)
		if err != nil {
			return
		}
		once := dedupe(cloneDevices(devs))
		if again := dedupe(cloneDevices(once)); !reflect.DeepEqual(again, once) {
			t.Fatalf("dedupe is not idempotent:\n%+v\n%+v", once, again)
		}
		// A camera heard twice (two interfaces) is still one camera.
		twice := dedupe(cloneDevices(append(slices.Clone(devs), devs...)))
		if !reflect.DeepEqual(keyed(twice), keyed(once)) {
			t.Fatalf("duplicated replies changed the result:\n%+v\n%+v", once, twice)
		}
		seen := map[string]bool{}
		for _, d := range keyed(once) {
			if seen[deviceKey(d)] {
				t.Fatalf("two devices with key %q after dedupe: %+v", deviceKey(d), once)
			}
			seen[deviceKey(d)] = true
		}
		// Nothing is lost: each input device's addresses and scopes are in
		// the merged device of the same key.
		for _, d := range devs {
			if deviceKey(d) == "" {
				continue
			}
			i := slices.IndexFunc(once, func(o Device) bool { return deviceKey(o) == deviceKey(d) })
			for _, x := range d.XAddrs {
				if !slices.Contains(once[i].XAddrs, x) {
					t.Fatalf("XAddr %q lost by dedupe", x)
				}
			}
			for _, x := range d.Scopes {
				if !slices.Contains(once[i].Scopes, x) {
					t.Fatalf("scope %q lost by dedupe", x)
				}
			}
		}
	})
}

// FuzzProbeMatchesRelatesTo builds a reply to the probe relatesTo and
// parses it as the answer to probe msgID: a reply that names another probe
// must be an error; one that names ours, or none, must not.
func FuzzProbeMatchesRelatesTo(f *testing.F) {
	f.Add("urn:uuid:a", "urn:uuid:a")
	f.Add("urn:uuid:a", "urn:uuid:b")
	f.Add("", "urn:uuid:b")
	f.Add(" urn:uuid:a ", "urn:uuid:a")
	f.Add("urn:uuid:a", "")
	f.Fuzz(func(t *testing.T, relatesTo, msgID string) {
		if !printable(relatesTo) || !printable(msgID) {
			return // XML cannot carry control characters faithfully
		}
		var esc strings.Builder
		if err := xml.EscapeText(&esc, []byte(relatesTo)); err != nil {
			return
		}
		data := []byte(probeMatch(esc.String(), "u", "http://x/onvif/device_service"))
		_, err := parseProbeMatches(data, msgID)
		rel := strings.TrimSpace(relatesTo)
		mismatch := msgID != "" && rel != "" && rel != msgID
		if mismatch && err == nil {
			t.Fatalf("reply to probe %q accepted as the answer to %q", relatesTo, msgID)
		}
		if !mismatch && err != nil {
			t.Fatalf("reply to probe %q rejected as the answer to %q: %v", relatesTo, msgID, err)
		}
	})
}

func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) && r != ' ' || r == utf8.RuneError {
			return false
		}
	}
	return utf8.ValidString(s)
}

func deviceKey(d Device) string {
	if d.EndpointRef == "" && len(d.XAddrs) > 0 {
		return d.XAddrs[0]
	}
	return d.EndpointRef
}

// keyed drops the devices dedupe cannot merge (no endpoint, no address).
func keyed(devs []Device) []Device {
	var out []Device
	for _, d := range devs {
		if deviceKey(d) != "" {
			out = append(out, d)
		}
	}
	return out
}

func cloneDevices(devs []Device) []Device {
	out := make([]Device, len(devs))
	for i, d := range devs {
		d.XAddrs, d.Types, d.Scopes = slices.Clone(d.XAddrs), slices.Clone(d.Types), slices.Clone(d.Scopes)
		out[i] = d
	}
	return out
}

func FuzzParseScopes(f *testing.F) {
	f.Add("onvif://www.onvif.org/name/Gate%20North onvif://www.onvif.org/location/city/Lyon")
	f.Add("onvif://www.onvif.org/hardware/%ff%fe onvif://www.onvif.org/name/%0a%1b")
	f.Fuzz(func(t *testing.T, scopes string) {
		name, hw, loc := parseScopes(strings.Fields(scopes))
		for _, v := range []string{name, hw, loc} {
			if !utf8.ValidString(v) {
				t.Fatalf("invalid UTF-8 %q", v)
			}
			for _, r := range v {
				if !unicode.IsPrint(r) {
					t.Fatalf("unprintable %U in %q", r, v)
				}
			}
		}
	})
}
