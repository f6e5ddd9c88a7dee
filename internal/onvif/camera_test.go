package onvif

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeCamera is an in-test ONVIF device: device service at
// /onvif/device_service, Media1 at /onvif/Media, Media2 at /onvif/Media2.
// It checks UsernameToken digests the way cameras do and answers with XML
// shaped like real firmware output.
type fakeCamera struct {
	camConfig
	srv    *httptest.Server
	mu     sync.Mutex
	calls  map[string]int // "path op" -> count
	nonces map[string]bool
}

type camConfig struct {
	user, pass string
	skew       time.Duration // device clock minus real clock
	rtsp       string        // stream URI, already XML-escaped

	media2        bool // advertise Media2 in GetServices
	media2Broken  bool // advertise Media2 but fault on every Media2 call
	noGetServices bool // old firmware: GetServices is ActionNotSupported
	echoPassword  bool // put the expected password into fault reasons
	httpDigest    bool // demand HTTP Digest (RFC 7616, MD5, qop=auth) instead of WS-Security
}

func newFakeCamera(t *testing.T, cfg camConfig) *fakeCamera {
	t.Helper()
	cam := &fakeCamera{camConfig: cfg}
	if cam.rtsp == "" {
		cam.rtsp = "rtsp://192.0.2.10:554/Streaming/Channels/101?transportmode=unicast&amp;profile=Profile_1"
	}
	cam.calls = map[string]int{}
	cam.nonces = map[string]bool{}
	cam.srv = httptest.NewServer(http.HandlerFunc(cam.serve))
	t.Cleanup(cam.srv.Close)
	return cam
}

func (cam *fakeCamera) endpoint() string { return cam.srv.URL + "/onvif/device_service" }

func (cam *fakeCamera) count(key string) int {
	cam.mu.Lock()
	defer cam.mu.Unlock()
	return cam.calls[key]
}

// request is the server's view of an incoming envelope, with namespaces
// checked strictly: a client using the wrong WS-Security namespaces would be
// rejected by real cameras, so it must be rejected here too.
type request struct {
	XMLName xml.Name `xml:"http://www.w3.org/2003/05/soap-envelope Envelope"`
	Header  struct {
		Security struct {
			Token *tokenXML `xml:"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd UsernameToken"`
		} `xml:"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd Security"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Header"`
	Body struct {
		Op struct {
			XMLName xml.Name
			Inner   string `xml:",innerxml"`
		} `xml:",any"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Body"`
}

type tokenXML struct {
	Username string `xml:"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd Username"`
	Password struct {
		Type  string `xml:"Type,attr"`
		Value string `xml:",chardata"`
	} `xml:"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd Password"`
	Nonce   string `xml:"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd Nonce"`
	Created string `xml:"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd Created"`
}

const envelopeHead = `<?xml version="1.0" encoding="UTF-8"?>
<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:soapenc="http://www.w3.org/2003/05/soap-encoding" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" xmlns:tr2="http://www.onvif.org/ver20/media/wsdl" xmlns:ter="http://www.onvif.org/ver10/error" xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"><env:Header></env:Header><env:Body>`

const envelopeTail = `</env:Body></env:Envelope>`

func (cam *fakeCamera) reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/soap+xml; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, envelopeHead+body+envelopeTail)
}

func (cam *fakeCamera) fault(w http.ResponseWriter, status int, subcodes []string, reason string) {
	sub := ""
	for i := len(subcodes) - 1; i >= 0; i-- {
		sub = `<env:Subcode><env:Value>` + subcodes[i] + `</env:Value>` + sub + `</env:Subcode>`
	}
	cam.reply(w, status, `<env:Fault><env:Code><env:Value>env:Sender</env:Value>`+sub+
		`</env:Code><env:Reason><env:Text xml:lang="en">`+reason+`</env:Text></env:Reason></env:Fault>`)
}

func (cam *fakeCamera) serve(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/soap+xml") {
		http.Error(w, "SOAP 1.2 expected, got "+ct, http.StatusUnsupportedMediaType)
		return
	}
	var req request
	if err := xml.NewDecoder(r.Body).Decode(&req); err != nil {
		cam.fault(w, 400, []string{"ter:WellFormed"}, "bad XML: "+xmlEscape(err.Error()))
		return
	}
	op := req.Body.Op.XMLName
	cam.mu.Lock()
	cam.calls[r.URL.Path+" "+op.Local]++
	cam.mu.Unlock()

	if op.Space == nsDevice && op.Local == "GetSystemDateAndTime" {
		cam.dateTime(w) // PRE_AUTH: no token needed
		return
	}
	if cam.httpDigest {
		if !cam.digestOK(r) {
			w.Header().Set("WWW-Authenticate", `Digest realm="IP Camera(21A88)", qop="auth", nonce="4e6b4d3a5f2b", opaque="c0ffee", algorithm=MD5`)
			http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
			return
		}
		cam.dispatch(w, r.URL.Path, op, req.Body.Op.Inner)
		return
	}
	if reason := cam.authenticate(&req); reason != "" {
		cam.fault(w, 400, []string{"ter:NotAuthorized"}, reason)
		return
	}
	cam.dispatch(w, r.URL.Path, op, req.Body.Op.Inner)
}

// authenticate returns why the token is refused, or "" to accept it.
func (cam *fakeCamera) authenticate(req *request) string {
	tok := req.Header.Security.Token
	if tok == nil {
		return "Sender not Authorized"
	}
	if tok.Password.Type != digestType {
		return "PasswordDigest required"
	}
	nonce, err := base64.StdEncoding.DecodeString(tok.Nonce)
	if err != nil || len(nonce) == 0 {
		return "bad nonce"
	}
	h := sha1.New()
	h.Write(nonce)
	h.Write([]byte(tok.Created))
	h.Write([]byte(cam.pass))
	if tok.Username != cam.user || base64.StdEncoding.EncodeToString(h.Sum(nil)) != tok.Password.Value {
		if cam.echoPassword {
			return "Sender not Authorized (expected " + xmlEscape(cam.pass) + ")"
		}
		return "Sender not Authorized"
	}
	created, err := time.Parse(time.RFC3339, tok.Created)
	if err != nil || absDuration(created.Sub(time.Now().Add(cam.skew))) > 5*time.Second {
		return "Sender not Authorized" // real firmware gives no hint about the clock
	}
	cam.mu.Lock()
	defer cam.mu.Unlock()
	if cam.nonces[tok.Nonce] {
		return "nonce replayed"
	}
	cam.nonces[tok.Nonce] = true
	return ""
}

func xmlEscape(s string) string { return esc(s) }

func (cam *fakeCamera) dispatch(w http.ResponseWriter, path string, op xml.Name, inner string) {
	switch {
	case path == "/onvif/device_service" && op.Local == "GetServices" && !cam.noGetServices:
		cam.reply(w, 200, cam.services())
	case path == "/onvif/device_service" && op.Local == "GetCapabilities":
		cam.reply(w, 200, cam.capabilities())
	case path == "/onvif/Media" && op.Space == nsMedia1 && op.Local == "GetProfiles":
		cam.reply(w, 200, media1Profiles)
	case path == "/onvif/Media2" && op.Space == nsMedia2 && op.Local == "GetProfiles" && !cam.media2Broken:
		cam.reply(w, 200, media2Profiles)
	case path == "/onvif/Media" && op.Space == nsMedia1 && op.Local == "GetStreamUri":
		if !strings.Contains(inner, "RTP-Unicast") || !strings.Contains(inner, "RTSP") {
			cam.fault(w, 400, []string{"ter:InvalidArgVal", "ter:InvalidStreamSetup"}, "StreamSetup")
			return
		}
		cam.streamURI(w, inner, `<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>%s</tt:Uri>`+
			`<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>`+
			`<tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetStreamUriResponse>`)
	case path == "/onvif/Media2" && op.Space == nsMedia2 && op.Local == "GetStreamUri" && !cam.media2Broken:
		cam.streamURI(w, inner, `<tr2:GetStreamUriResponse><tr2:Uri>%s</tr2:Uri></tr2:GetStreamUriResponse>`)
	default:
		cam.fault(w, 400, []string{"ter:ActionNotSupported"}, "Optional Action Not Implemented")
	}
}

func (cam *fakeCamera) streamURI(w http.ResponseWriter, inner, tmpl string) {
	for _, tok := range []string{"Profile_1", "Profile_2"} {
		if strings.Contains(inner, ">"+tok+"<") {
			uri := strings.Replace(cam.rtsp, "Profile_1", tok, 1)
			cam.reply(w, 200, fmt.Sprintf(tmpl, uri))
			return
		}
	}
	cam.fault(w, 400, []string{"ter:InvalidArgVal", "ter:NoProfile"}, "The requested profile token ProfileToken does not exist.")
}

func (cam *fakeCamera) dateTime(w http.ResponseWriter) {
	now := time.Now().Add(cam.skew).UTC()
	cam.reply(w, 200, fmt.Sprintf(`<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>`+
		`<tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>`+
		`<tt:TimeZone><tt:TZ>CST-8</tt:TZ></tt:TimeZone>`+
		`<tt:UTCDateTime><tt:Time><tt:Hour>%d</tt:Hour><tt:Minute>%d</tt:Minute><tt:Second>%d</tt:Second></tt:Time>`+
		`<tt:Date><tt:Year>%d</tt:Year><tt:Month>%d</tt:Month><tt:Day>%d</tt:Day></tt:Date></tt:UTCDateTime>`+
		`</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`,
		now.Hour(), now.Minute(), now.Second(), now.Year(), int(now.Month()), now.Day()))
}

// Service addresses name the camera's LAN address, as cameras behind NAT
// do; the client must reach them through the endpoint's host instead.
func (cam *fakeCamera) services() string {
	s := `<tds:GetServicesResponse>` +
		`<tds:Service><tds:Namespace>http://www.onvif.org/ver10/device/wsdl</tds:Namespace><tds:XAddr>http://192.0.2.10/onvif/device_service</tds:XAddr><tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>` +
		`<tds:Service><tds:Namespace>http://www.onvif.org/ver10/media/wsdl</tds:Namespace><tds:XAddr>http://192.0.2.10/onvif/Media</tds:XAddr><tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>` +
		`<tds:Service><tds:Namespace>http://www.onvif.org/ver10/events/wsdl</tds:Namespace><tds:XAddr>http://192.0.2.10/onvif/Events</tds:XAddr><tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>`
	if cam.media2 || cam.media2Broken {
		s += `<tds:Service><tds:Namespace>http://www.onvif.org/ver20/media/wsdl</tds:Namespace><tds:XAddr>http://192.0.2.10/onvif/Media2</tds:XAddr><tds:Version><tt:Major>17</tt:Major><tt:Minor>12</tt:Minor></tds:Version></tds:Service>`
	}
	return s + `</tds:GetServicesResponse>`
}

func (cam *fakeCamera) capabilities() string {
	return `<tds:GetCapabilitiesResponse><tds:Capabilities>` +
		`<tt:Analytics><tt:XAddr>http://192.0.2.10/onvif/Analytics</tt:XAddr><tt:RuleSupport>true</tt:RuleSupport><tt:AnalyticsModuleSupport>true</tt:AnalyticsModuleSupport></tt:Analytics>` +
		`<tt:Device><tt:XAddr>http://192.0.2.10/onvif/device_service</tt:XAddr><tt:Network><tt:IPFilter>true</tt:IPFilter></tt:Network></tt:Device>` +
		`<tt:Events><tt:XAddr>http://192.0.2.10/onvif/Events</tt:XAddr><tt:WSSubscriptionPolicySupport>true</tt:WSSubscriptionPolicySupport></tt:Events>` +
		`<tt:Imaging><tt:XAddr>http://192.0.2.10/onvif/Imaging</tt:XAddr></tt:Imaging>` +
		`<tt:Media><tt:XAddr>http://192.0.2.10/onvif/Media</tt:XAddr><tt:StreamingCapabilities><tt:RTPMulticast>true</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>` +
		`</tds:Capabilities></tds:GetCapabilitiesResponse>`
}

// media1Profiles starts with an audio-only profile, which an empty profile
// request must skip.
const media1Profiles = `<trt:GetProfilesResponse>` +
	`<trt:Profiles token="AudioOnly" fixed="false"><tt:Name>audio</tt:Name></trt:Profiles>` +
	`<trt:Profiles token="Profile_1" fixed="true"><tt:Name>mainStream</tt:Name>` +
	`<tt:VideoSourceConfiguration token="VideoSourceToken"><tt:Name>VideoSourceConfig</tt:Name><tt:UseCount>2</tt:UseCount><tt:SourceToken>VideoSource_1</tt:SourceToken><tt:Bounds x="0" y="0" width="2560" height="1440"></tt:Bounds></tt:VideoSourceConfiguration>` +
	`<tt:VideoEncoderConfiguration token="VideoEncoderToken_1"><tt:Name>VideoEncoder_1</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>` +
	`<tt:Resolution><tt:Width>2560</tt:Width><tt:Height>1440</tt:Height></tt:Resolution><tt:Quality>3.000000</tt:Quality>` +
	`<tt:RateControl><tt:FrameRateLimit>25</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>4096</tt:BitrateLimit></tt:RateControl>` +
	`<tt:H264><tt:GovLength>50</tt:GovLength><tt:H264Profile>Main</tt:H264Profile></tt:H264></tt:VideoEncoderConfiguration></trt:Profiles>` +
	`<trt:Profiles token="Profile_2" fixed="true"><tt:Name>subStream</tt:Name>` +
	`<tt:VideoEncoderConfiguration token="VideoEncoderToken_2"><tt:Name>VideoEncoder_2</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>` +
	`<tt:Resolution><tt:Width>640</tt:Width><tt:Height>360</tt:Height></tt:Resolution></tt:VideoEncoderConfiguration></trt:Profiles>` +
	`</trt:GetProfilesResponse>`

const media2Profiles = `<tr2:GetProfilesResponse>` +
	`<tr2:Profiles token="Profile_1" fixed="true"><tr2:Name>mainStream</tr2:Name><tr2:Configurations>` +
	`<tr2:VideoSource token="VideoSourceToken"><tt:Name>VideoSourceConfig</tt:Name><tt:UseCount>2</tt:UseCount><tt:SourceToken>VideoSource_1</tt:SourceToken><tt:Bounds x="0" y="0" width="3840" height="2160"></tt:Bounds></tr2:VideoSource>` +
	`<tr2:VideoEncoder token="VideoEncoderToken_1" GovLength="50" Profile="Main"><tt:Name>VideoEncoder_1</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H265</tt:Encoding>` +
	`<tt:Resolution><tt:Width>3840</tt:Width><tt:Height>2160</tt:Height></tt:Resolution><tt:RateControl ConstantBitRate="false"><tt:FrameRateLimit>25</tt:FrameRateLimit><tt:BitrateLimit>8192</tt:BitrateLimit></tt:RateControl><tt:Quality>3</tt:Quality></tr2:VideoEncoder>` +
	`</tr2:Configurations></tr2:Profiles></tr2:GetProfilesResponse>`
