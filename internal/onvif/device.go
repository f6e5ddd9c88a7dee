package onvif

import (
	"context"
	"encoding/xml"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Service is one entry of GetServices: a service namespace and its address.
type Service struct {
	Namespace    string
	XAddr        string
	Major, Minor int
}

// Capabilities holds the service addresses from GetCapabilities; an empty
// string means the device did not report that service.
type Capabilities struct {
	Device, Media, Events, PTZ, Imaging, Analytics string
}

type dateTimeXML struct {
	Time struct{ Hour, Minute, Second int } `xml:"Time"`
	Date struct{ Year, Month, Day int }     `xml:"Date"`
}

type getSystemDateAndTimeResponse struct {
	XMLName xml.Name     `xml:"GetSystemDateAndTimeResponse"`
	UTC     *dateTimeXML `xml:"SystemDateAndTime>UTCDateTime"`
}

type getServicesResponse struct {
	XMLName  xml.Name `xml:"GetServicesResponse"`
	Services []struct {
		Namespace string `xml:"Namespace"`
		XAddr     string `xml:"XAddr"`
		Major     string `xml:"Version>Major"`
		Minor     string `xml:"Version>Minor"`
	} `xml:"Service"`
}

type getCapabilitiesResponse struct {
	XMLName xml.Name `xml:"GetCapabilitiesResponse"`
	Caps    struct {
		Device    string `xml:"Device>XAddr"`
		Media     string `xml:"Media>XAddr"`
		Events    string `xml:"Events>XAddr"`
		PTZ       string `xml:"PTZ>XAddr"`
		Imaging   string `xml:"Imaging>XAddr"`
		Analytics string `xml:"Analytics>XAddr"`
	} `xml:"Capabilities"`
}

// GetSystemDateAndTime returns the device's UTC clock. It is sent without
// authentication, which the ONVIF Core spec allows for exactly this call so
// that clients can fix their clock offset before authenticating.
func (c *Client) GetSystemDateAndTime(ctx context.Context) (time.Time, error) {
	t, err := c.deviceTime(ctx)
	return t, c.wrap("GetSystemDateAndTime", err)
}

func (c *Client) deviceTime(ctx context.Context) (time.Time, error) {
	dev, err := c.deviceURL()
	if err != nil {
		return time.Time{}, err
	}
	body := `<tds:GetSystemDateAndTime/>`
	data, status, err := c.post(ctx, dev.String(), nsDevice+"/GetSystemDateAndTime", buildEnvelope(nil, body))
	if err != nil {
		return time.Time{}, err
	}
	resp, err := decodeResponse[getSystemDateAndTimeResponse](data, status)
	if err != nil {
		return time.Time{}, err
	}
	if resp.UTC == nil {
		return time.Time{}, errors.New("device did not report UTCDateTime")
	}
	d, t := resp.UTC.Date, resp.UTC.Time
	if d.Month < 1 || d.Month > 12 || d.Day < 1 || d.Day > 31 || t.Hour > 23 || t.Minute > 59 || t.Second > 60 {
		return time.Time{}, errors.New("device reported an invalid UTCDateTime")
	}
	return time.Date(d.Year, time.Month(d.Month), d.Day, t.Hour, t.Minute, t.Second, 0, time.UTC), nil
}

func (c *Client) clockOffset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}

// syncClock measures device clock minus local clock, stores and returns it.
// The device's answer is taken to describe the middle of the round trip.
func (c *Client) syncClock(ctx context.Context) (time.Duration, error) {
	start := c.now()
	dev, err := c.deviceTime(ctx)
	if err != nil {
		return 0, err
	}
	mid := start.Add(c.now().Sub(start) / 2)
	off := dev.Sub(mid)
	c.mu.Lock()
	c.offset = off
	c.mu.Unlock()
	return off, nil
}

// GetServices lists the device's services (without capabilities).
func (c *Client) GetServices(ctx context.Context) ([]Service, error) {
	s, err := c.services(ctx)
	return s, c.wrap("GetServices", err)
}

func (c *Client) services(ctx context.Context) ([]Service, error) {
	dev, err := c.deviceURL()
	if err != nil {
		return nil, err
	}
	body := `<tds:GetServices><tds:IncludeCapability>false</tds:IncludeCapability></tds:GetServices>`
	resp, err := call[getServicesResponse](ctx, c, dev.String(), nsDevice+"/GetServices", body)
	if err != nil {
		return nil, err
	}
	out := make([]Service, 0, len(resp.Services))
	for _, s := range resp.Services {
		out = append(out, Service{
			Namespace: strings.TrimSpace(s.Namespace),
			XAddr:     strings.TrimSpace(s.XAddr),
			Major:     atoi(s.Major),
			Minor:     atoi(s.Minor),
		})
	}
	return out, nil
}

// GetCapabilities returns the service addresses of the older,
// pre-GetServices discovery call, which every ONVIF device supports.
func (c *Client) GetCapabilities(ctx context.Context) (*Capabilities, error) {
	caps, err := c.capabilities(ctx)
	return caps, c.wrap("GetCapabilities", err)
}

func (c *Client) capabilities(ctx context.Context) (*Capabilities, error) {
	dev, err := c.deviceURL()
	if err != nil {
		return nil, err
	}
	body := `<tds:GetCapabilities><tds:Category>All</tds:Category></tds:GetCapabilities>`
	resp, err := call[getCapabilitiesResponse](ctx, c, dev.String(), nsDevice+"/GetCapabilities", body)
	if err != nil {
		return nil, err
	}
	r := resp.Caps
	t := strings.TrimSpace
	return &Capabilities{Device: t(r.Device), Media: t(r.Media), Events: t(r.Events),
		PTZ: t(r.PTZ), Imaging: t(r.Imaging), Analytics: t(r.Analytics)}, nil
}

// mediaService is a media service address and its version (1 or 2).
type mediaService struct {
	version int
	xaddr   string
}

// mediaServices returns the media services to try, Media2 first, resolving
// them once: GetServices is the only way to learn of Media2, and
// GetCapabilities is the fallback for firmware that lacks GetServices.
func (c *Client) mediaServices(ctx context.Context) ([]mediaService, error) {
	c.mu.Lock()
	cached := c.media
	c.mu.Unlock()
	if cached != nil {
		return cached, nil
	}
	found, err := c.resolveMedia(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.media = found
	c.mu.Unlock()
	return found, nil
}

func (c *Client) resolveMedia(ctx context.Context) ([]mediaService, error) {
	services, err := c.services(ctx)
	if err != nil && !deviceRefused(err) {
		return nil, err
	}
	var found []mediaService
	for _, ns := range []struct {
		uri     string
		version int
	}{{nsMedia2, 2}, {nsMedia1, 1}} {
		for _, s := range services {
			if s.Namespace == ns.uri && s.XAddr != "" {
				found = append(found, mediaService{ns.version, c.rewriteXAddr(s.XAddr)})
				break
			}
		}
	}
	if len(found) > 0 {
		return found, nil
	}
	caps, cerr := c.capabilities(ctx)
	if cerr != nil {
		return nil, cerr
	}
	if caps.Media == "" {
		return nil, ErrNoMediaService
	}
	return []mediaService{{1, c.rewriteXAddr(caps.Media)}}, nil
}

// deviceRefused reports whether err is the device declining a request
// (a non-auth fault or HTTP error), as opposed to a network or auth failure;
// only then is it worth trying an alternative call.
func deviceRefused(err error) bool {
	var f *Fault
	var h *HTTPError
	return (errors.As(err, &f) || errors.As(err, &h)) && !errors.Is(err, ErrNotAuthorized)
}

// rewriteXAddr keeps the path of a service address the device reported but
// points it at the host and port we reached the device on. Cameras report
// their own LAN address, which is wrong behind NAT or a port forward, and in
// practice all of a device's services share its host.
func (c *Client) rewriteXAddr(xaddr string) string {
	dev, err := c.deviceURL()
	if err != nil {
		return xaddr
	}
	u, err := url.Parse(strings.TrimSpace(xaddr))
	if err != nil || u.Path == "" {
		return dev.String()
	}
	u.Scheme, u.Host, u.User = dev.Scheme, dev.Host, nil
	return u.String()
}

// atoi parses a decimal integer leniently (0 on failure): a camera with an
// odd version or resolution field should still yield its stream.
func atoi(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0
	}
	return n
}
