package onvif

import (
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
	f.Fuzz(func(t *testing.T, data []byte, msgID string) {
		devs, err := parseProbeMatches(data, msgID)
		if err == nil {
			_ = dedupe(append(devs, devs...))
		}
	})
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
