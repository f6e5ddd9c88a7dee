package onvif

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// XML namespaces, spelled exactly as the specifications define them.
const (
	nsSOAP12     = "http://www.w3.org/2003/05/soap-envelope"
	nsWSSE       = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
	nsWSU        = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
	nsDevice     = "http://www.onvif.org/ver10/device/wsdl"
	nsMedia1     = "http://www.onvif.org/ver10/media/wsdl"
	nsMedia2     = "http://www.onvif.org/ver20/media/wsdl"
	nsSchema     = "http://www.onvif.org/ver10/schema"
	digestType   = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
	base64Binary = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)

// maxResponse caps how much of a reply is read: an NVR's GetProfiles with
// dozens of channels is a few hundred KiB, and a broken or hostile device
// must not make us buffer without bound.
const maxResponse = 8 << 20

// skewThreshold is how far a fresh clock sync must move the offset before a
// rejected request is retried. GetSystemDateAndTime has 1 s resolution, so
// smaller moves are noise, and retrying a plain wrong password would only
// bring the camera's lockout closer.
const skewThreshold = 2 * time.Second

// usernameToken is a WS-Security UsernameToken with a PasswordDigest.
type usernameToken struct {
	Username, Digest, Nonce, Created string
}

// newToken builds a token for the given moment (already corrected to the
// device's clock). The nonce is fresh for every request because cameras
// may reject replayed nonces.
func newToken(user, pass string, at time.Time) (usernameToken, error) {
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return usernameToken{}, fmt.Errorf("nonce: %w", err)
	}
	created := at.UTC().Format(time.RFC3339) // no fractional seconds: some firmware rejects them
	return usernameToken{
		Username: user,
		Digest:   passwordDigest(nonce, created, pass),
		Nonce:    base64.StdEncoding.EncodeToString(nonce),
		Created:  created,
	}, nil
}

// passwordDigest is Base64(SHA1(nonce + created + password)), with the raw
// (decoded) nonce bytes, per the WS-Security UsernameToken Profile.
func passwordDigest(nonce []byte, created, password string) string {
	h := sha1.New()
	h.Write(nonce)
	h.Write([]byte(created))
	h.Write([]byte(password))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// esc escapes s for use as XML character data or an attribute value.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// buildEnvelope wraps body (which may use the tds, trt, tr2 and tt
// prefixes) in a SOAP 1.2 envelope, with a security header when tok is set.
func buildEnvelope(tok *usernameToken, body string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	b.WriteString(`<s:Envelope xmlns:s="` + nsSOAP12 + `" xmlns:tds="` + nsDevice +
		`" xmlns:trt="` + nsMedia1 + `" xmlns:tr2="` + nsMedia2 + `" xmlns:tt="` + nsSchema + `">`)
	if tok != nil {
		b.WriteString(`<s:Header><wsse:Security s:mustUnderstand="1" xmlns:wsse="` + nsWSSE + `" xmlns:wsu="` + nsWSU + `">`)
		b.WriteString(`<wsse:UsernameToken><wsse:Username>` + esc(tok.Username) + `</wsse:Username>`)
		b.WriteString(`<wsse:Password Type="` + digestType + `">` + tok.Digest + `</wsse:Password>`)
		b.WriteString(`<wsse:Nonce EncodingType="` + base64Binary + `">` + tok.Nonce + `</wsse:Nonce>`)
		b.WriteString(`<wsu:Created>` + tok.Created + `</wsu:Created></wsse:UsernameToken></wsse:Security></s:Header>`)
	}
	b.WriteString(`<s:Body>` + body + `</s:Body></s:Envelope>`)
	return b.Bytes()
}

// Fault is a SOAP fault returned by the device. Codes keep the prefix the
// device used (e.g. "ter:NotAuthorized"); compare them with Has.
type Fault struct {
	Code       string   // e.g. "env:Sender"
	Subcodes   []string // outermost first, e.g. ["ter:InvalidArgVal", "ter:NoProfile"]
	Reason     string
	HTTPStatus int
}

func (f *Fault) Error() string {
	codes := strings.Join(append([]string{f.Code}, f.Subcodes...), " / ")
	msg := "SOAP fault " + codes
	if f.Reason != "" {
		msg += ": " + f.Reason
	}
	if f.authFailure() {
		msg += " (check the username and password, and the camera's clock)"
	}
	return msg
}

// Has reports whether the fault code or a subcode has the local name
// code, ignoring namespace prefixes: devices pick their own prefixes.
func (f *Fault) Has(code string) bool {
	want := localName(code)
	for _, c := range append([]string{f.Code}, f.Subcodes...) {
		if strings.EqualFold(localName(c), want) {
			return true
		}
	}
	return false
}

// Is makes errors.Is(err, ErrNotAuthorized) true for authentication faults.
func (f *Fault) Is(target error) bool { return target == ErrNotAuthorized && f.authFailure() }

// authFailure recognises the spec's ter:NotAuthorized and the WS-Security
// codes some firmware sends instead (MessageExpired is the clock-skew one).
func (f *Fault) authFailure() bool {
	for _, c := range []string{"NotAuthorized", "FailedAuthentication", "InvalidSecurity", "InvalidSecurityToken", "MessageExpired"} {
		if f.Has(c) {
			return true
		}
	}
	return f.HTTPStatus == http.StatusUnauthorized
}

func localName(qname string) string {
	_, local, found := strings.Cut(strings.TrimSpace(qname), ":")
	if !found {
		return strings.TrimSpace(qname)
	}
	return local
}

// HTTPError is a non-200 reply that carried no SOAP fault.
type HTTPError struct {
	StatusCode int
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.StatusCode == http.StatusUnauthorized {
		msg += " (check the username and password)"
	}
	return msg
}

// Is makes errors.Is(err, ErrNotAuthorized) true for 401 and 403.
func (e *HTTPError) Is(target error) bool {
	return target == ErrNotAuthorized && (e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden)
}

// rawFault decodes both SOAP 1.2 and SOAP 1.1 faults: old firmware answers
// 1.2 requests with 1.1 faults.
type rawFault struct {
	Code struct {
		Value   string      `xml:"Value"`
		Subcode *rawSubcode `xml:"Subcode"`
	} `xml:"Code"`
	Reason struct {
		Text []string `xml:"Text"`
	} `xml:"Reason"`
	FaultCode   string `xml:"faultcode"`
	FaultString string `xml:"faultstring"`
}

type rawSubcode struct {
	Value   string      `xml:"Value"`
	Subcode *rawSubcode `xml:"Subcode"`
}

// maxSubcodes bounds how deep nested subcodes are followed.
const maxSubcodes = 8

func (r *rawFault) fault(status int) *Fault {
	f := &Fault{Code: strings.TrimSpace(r.Code.Value), HTTPStatus: status}
	for s := r.Code.Subcode; s != nil && len(f.Subcodes) < maxSubcodes; s = s.Subcode {
		f.Subcodes = append(f.Subcodes, strings.TrimSpace(s.Value))
	}
	if len(r.Reason.Text) > 0 {
		f.Reason = strings.TrimSpace(r.Reason.Text[0])
	}
	if f.Code == "" { // SOAP 1.1
		f.Code, f.Reason = strings.TrimSpace(r.FaultCode), strings.TrimSpace(r.FaultString)
	}
	return f
}

// newDecoder accepts any declared charset: ONVIF replies are ASCII in
// practice, and refusing a reply over an "ISO-8859-1" label helps nobody.
func newDecoder(data []byte) *xml.Decoder {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	return d
}

// decodeResponse decodes a SOAP reply whose body is a T (T's XMLName names
// the expected element) or a fault. Elements match by local name only, since
// devices differ in prefixes and, sometimes, in namespaces.
func decodeResponse[T any](data []byte, status int) (*T, error) {
	var env struct {
		XMLName xml.Name `xml:"Envelope"`
		Body    struct {
			Fault *rawFault `xml:"Fault"`
			Resp  *T        `xml:",any"`
		} `xml:"Body"`
	}
	if err := newDecoder(data).Decode(&env); err != nil {
		if status != http.StatusOK {
			return nil, &HTTPError{StatusCode: status}
		}
		return nil, fmt.Errorf("malformed SOAP response: %w", err)
	}
	switch {
	case env.Body.Fault != nil:
		return nil, env.Body.Fault.fault(status)
	case status != http.StatusOK:
		return nil, &HTTPError{StatusCode: status}
	case env.Body.Resp == nil:
		return nil, errors.New("SOAP response has an empty body")
	}
	return env.Body.Resp, nil
}

// post sends one SOAP request and returns the raw reply and HTTP status. A
// 401 with an HTTP Digest challenge is answered once (see digest.go).
func (c *Client) post(ctx context.Context, xaddr, action string, payload []byte) ([]byte, int, error) {
	send := func(auth string) (*http.Response, *http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, xaddr, bytes.NewReader(payload))
		if err != nil {
			return nil, nil, err
		}
		req.Header.Set("Content-Type", `application/soap+xml; charset=utf-8; action="`+action+`"`)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := c.httpClient().Do(req)
		return resp, req, err
	}
	resp, req, err := send("")
	if err != nil {
		return nil, 0, err
	}
	if auth, ok := c.digestRetry(resp, req); ok {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
		resp.Body.Close()
		if resp, _, err = send(auth); err != nil {
			return nil, 0, err
		}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, resp.StatusCode, fmt.Errorf("reading response: %w", err)
	}
	return data, resp.StatusCode, nil
}

// call performs an authenticated SOAP call of action (whose local name is
// the body element) and decodes the reply into a T. A rejected token is
// retried once if a clock sync shows the device's clock has moved.
func call[T any](ctx context.Context, c *Client, xaddr, action, body string) (*T, error) {
	offset := c.clockOffset()
	resp, err := roundTrip[T](ctx, c, xaddr, action, body, offset)
	user, pass := c.credentials()
	if err == nil || (user == "" && pass == "") || !errors.Is(err, ErrNotAuthorized) {
		return resp, err
	}
	synced, serr := c.syncClock(ctx)
	if serr != nil || absDuration(synced-offset) < skewThreshold {
		return nil, err // the original rejection is the useful error
	}
	return roundTrip[T](ctx, c, xaddr, action, body, synced)
}

func roundTrip[T any](ctx context.Context, c *Client, xaddr, action, body string, offset time.Duration) (*T, error) {
	var tok *usernameToken
	if user, pass := c.credentials(); user != "" || pass != "" {
		t, err := newToken(user, pass, c.now().Add(offset))
		if err != nil {
			return nil, err
		}
		tok = &t
	}
	data, status, err := c.post(ctx, xaddr, action, buildEnvelope(tok, body))
	if err != nil {
		return nil, err
	}
	resp, err := decodeResponse[T](data, status)
	var f *Fault
	if errors.As(err, &f) {
		f.Reason = c.redact(f.Reason) // a device may echo what it was sent
	}
	return resp, err
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
