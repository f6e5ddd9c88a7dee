// Package onvif is the minimal ONVIF client a VMS needs: turn a camera's
// ONVIF device-service address into the RTSP URI of one of its media
// profiles, and find cameras on the local network with WS-Discovery.
//
// It speaks SOAP 1.2 over HTTP with WS-Security UsernameToken
// PasswordDigest authentication, as the ONVIF Core specification requires.
// Cameras reject tokens whose Created time is far from their own clock, and
// camera clocks are often wrong, so a rejected token triggers one
// unauthenticated GetSystemDateAndTime and a retry using the device's clock.
// The Media2 service (ver20) is preferred when the camera advertises it,
// with a fallback to Media1 (ver10), which every Profile S camera has.
//
// Passwords never appear in errors: every error leaving a Client is
// scrubbed of the password, and stream URIs carry credentials only when
// the caller asks for them (StreamURIWithCredentials, InjectCredentials).
package onvif

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// ErrNotAuthorized matches (with errors.Is) every authentication failure:
// a ter:NotAuthorized or WS-Security fault, or an HTTP 401/403.
var ErrNotAuthorized = errors.New("onvif: not authorized")

// ErrNoMediaService is returned when the device advertises no media service.
var ErrNoMediaService = errors.New("onvif: device advertises no media service")

// ErrNoProfile is returned when the device has no media profile, or none
// matching the requested token or name.
var ErrNoProfile = errors.New("onvif: no such media profile")

// defaultHTTP bounds every exchange even when the caller's context has no
// deadline: a camera that accepts the connection and never answers must not
// hang a VMS worker forever.
var defaultHTTP = &http.Client{Timeout: 20 * time.Second}

// Client talks to one ONVIF device. Set the exported fields before first
// use and do not copy a Client after that; it is safe for concurrent use.
type Client struct {
	// Endpoint is the device service URL, e.g.
	// http://10.0.0.5/onvif/device_service. Credentials embedded in it
	// (http://user:pass@host/...) are used when Username and Password are
	// empty, and are never sent in the URL.
	Endpoint string
	// Username and Password authenticate with a UsernameToken digest.
	// With both empty, requests are sent unauthenticated.
	Username, Password string
	// HTTP is the client used for SOAP requests; nil means a default with
	// a 20 s timeout.
	HTTP *http.Client
	// Clock returns the local time; nil means time.Now.
	Clock func() time.Time

	mu     sync.Mutex
	offset time.Duration  // device clock minus local clock
	media  []mediaService // resolved media services, preferred first
}

// credentials returns the username and password to use: the explicit
// fields, else those embedded in Endpoint.
func (c *Client) credentials() (user, pass string) {
	if c.Username != "" || c.Password != "" {
		return c.Username, c.Password
	}
	u, err := url.Parse(c.Endpoint)
	if err != nil || u.User == nil {
		return "", ""
	}
	pass, _ = u.User.Password()
	return u.User.Username(), pass
}

// deviceURL is Endpoint validated and stripped of any userinfo.
func (c *Client) deviceURL() (*url.URL, error) {
	u, err := url.Parse(c.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// err quotes the endpoint, which may hold credentials: say less.
		return nil, errors.New("endpoint must be an http(s) URL with a host")
	}
	u.User = nil
	return u, nil
}

func (c *Client) now() time.Time {
	if c.Clock != nil {
		return c.Clock()
	}
	return time.Now()
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return defaultHTTP
}

// redact removes the password, in the encodings it could travel in, from s.
func (c *Client) redact(s string) string {
	_, pass := c.credentials()
	if pass == "" {
		return s
	}
	userinfo := strings.TrimPrefix(url.UserPassword("", pass).String(), ":")
	for _, p := range []string{pass, url.QueryEscape(pass), url.PathEscape(pass), userinfo} {
		s = strings.ReplaceAll(s, p, "***")
	}
	return s
}

// opError is what exported methods return: the operation and device host
// for context, a message scrubbed of the password, and the cause kept for
// errors.Is / errors.As.
type opError struct {
	msg string
	err error
}

func (e *opError) Error() string { return e.msg }
func (e *opError) Unwrap() error { return e.err }

// wrap turns an internal error into the error an exported method returns.
func (c *Client) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	host := "(invalid endpoint)"
	if u, uerr := c.deviceURL(); uerr == nil {
		host = u.Host
	}
	return &opError{msg: c.redact(fmt.Sprintf("onvif %s %s: %v", op, host, err)), err: err}
}
