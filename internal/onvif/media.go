package onvif

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Profile is a media profile: the unit a camera streams.
type Profile struct {
	Token string
	Name  string
	// Encoding of the video encoder (H264, H265, JPEG, MPEG4); empty when
	// the profile has no video encoder configuration.
	Encoding      string
	Width, Height int
}

type videoEncoderXML struct {
	Encoding string `xml:"Encoding"`
	Width    string `xml:"Resolution>Width"`
	Height   string `xml:"Resolution>Height"`
}

type getProfilesResponse struct {
	XMLName  xml.Name `xml:"GetProfilesResponse"`
	Profiles []struct {
		Token  string           `xml:"token,attr"`
		Name   string           `xml:"Name"`
		Media1 *videoEncoderXML `xml:"VideoEncoderConfiguration"`
		Media2 *videoEncoderXML `xml:"Configurations>VideoEncoder"`
	} `xml:"Profiles"`
}

// getStreamURIResponse covers both versions: Media1 nests the URI in
// MediaUri, Media2 returns it directly.
type getStreamURIResponse struct {
	XMLName  xml.Name `xml:"GetStreamUriResponse"`
	MediaURI string   `xml:"MediaUri>Uri"`
	URI      string   `xml:"Uri"`
}

// GetProfiles lists the device's media profiles.
func (c *Client) GetProfiles(ctx context.Context) ([]Profile, error) {
	var out []Profile
	err := c.withMedia(ctx, func(m mediaService) (err error) {
		out, err = c.profiles(ctx, m)
		return err
	})
	return out, c.wrap("GetProfiles", err)
}

// GetStreamURI returns the RTSP URI (RTP unicast over RTSP) of a profile,
// exactly as the device reports it.
func (c *Client) GetStreamURI(ctx context.Context, profileToken string) (string, error) {
	var uri string
	err := c.withMedia(ctx, func(m mediaService) (err error) {
		uri, err = c.streamURI(ctx, m, profileToken)
		return err
	})
	return uri, c.wrap("GetStreamUri", err)
}

// StreamURI returns the RTSP URI of a profile, given by token or by name;
// an empty profile picks the first profile with video. The URI carries no
// credentials; see StreamURIWithCredentials.
func (c *Client) StreamURI(ctx context.Context, profile string) (string, error) {
	uri, err := c.pickStreamURI(ctx, profile)
	return uri, c.wrap("StreamURI", err)
}

// StreamURIWithCredentials is StreamURI with the client's username and
// password inserted into the URI, for the many cameras whose RTSP server
// requires them. Treat the result as a secret: do not log it.
func (c *Client) StreamURIWithCredentials(ctx context.Context, profile string) (string, error) {
	uri, err := c.pickStreamURI(ctx, profile)
	if err == nil {
		user, pass := c.credentials()
		uri, err = InjectCredentials(uri, user, pass)
	}
	return uri, c.wrap("StreamURI", err)
}

func (c *Client) pickStreamURI(ctx context.Context, want string) (string, error) {
	var uri string
	err := c.withMedia(ctx, func(m mediaService) error {
		profiles, err := c.profiles(ctx, m)
		if err != nil {
			return err
		}
		p, err := pickProfile(profiles, want)
		if err != nil {
			return err
		}
		uri, err = c.streamURI(ctx, m, p.Token)
		return err
	})
	return uri, err
}

// withMedia runs fn against the preferred media service, falling back to
// the next one when the device refuses: some cameras advertise Media2 but
// implement it badly.
func (c *Client) withMedia(ctx context.Context, fn func(mediaService) error) error {
	services, err := c.mediaServices(ctx)
	if err != nil {
		return err
	}
	for i, m := range services {
		err = fn(m)
		if err == nil || i == len(services)-1 || !deviceRefused(err) {
			break
		}
	}
	return err
}

func (c *Client) profiles(ctx context.Context, m mediaService) ([]Profile, error) {
	body, action := `<trt:GetProfiles/>`, nsMedia1+"/GetProfiles"
	if m.version == 2 {
		// Without a Type, Media2 returns profiles stripped of configurations.
		body, action = `<tr2:GetProfiles><tr2:Type>All</tr2:Type></tr2:GetProfiles>`, nsMedia2+"/GetProfiles"
	}
	resp, err := call[getProfilesResponse](ctx, c, m.xaddr, action, body)
	if err != nil {
		return nil, err
	}
	out := make([]Profile, 0, len(resp.Profiles))
	for _, p := range resp.Profiles {
		prof := Profile{Token: strings.TrimSpace(p.Token), Name: strings.TrimSpace(p.Name)}
		if v := firstEncoder(p.Media2, p.Media1); v != nil {
			prof.Encoding = strings.TrimSpace(v.Encoding)
			prof.Width, prof.Height = atoi(v.Width), atoi(v.Height)
		}
		out = append(out, prof)
	}
	return out, nil
}

// firstEncoder returns the first non-nil encoder configuration.
func firstEncoder(a, b *videoEncoderXML) *videoEncoderXML {
	if a != nil {
		return a
	}
	return b
}

// pickProfile finds want by token, then by name (case-insensitively); an
// empty want picks the first profile with video, since audio-only and
// metadata-only profiles exist and cannot feed a video pipeline.
func pickProfile(profiles []Profile, want string) (Profile, error) {
	if len(profiles) == 0 {
		return Profile{}, ErrNoProfile
	}
	if want == "" {
		for _, p := range profiles {
			if p.Encoding != "" {
				return p, nil
			}
		}
		return profiles[0], nil
	}
	for _, p := range profiles {
		if p.Token == want {
			return p, nil
		}
	}
	for _, p := range profiles {
		if strings.EqualFold(p.Name, want) {
			return p, nil
		}
	}
	tokens := make([]string, len(profiles))
	for i, p := range profiles {
		tokens[i] = p.Token
	}
	return Profile{}, fmt.Errorf("%w: %q (device has %s)", ErrNoProfile, want, strings.Join(tokens, ", "))
}

func (c *Client) streamURI(ctx context.Context, m mediaService, token string) (string, error) {
	body := `<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream>` +
		`<tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup>` +
		`<trt:ProfileToken>` + esc(token) + `</trt:ProfileToken></trt:GetStreamUri>`
	action := nsMedia1 + "/GetStreamUri"
	if m.version == 2 {
		body = `<tr2:GetStreamUri><tr2:Protocol>RTSP</tr2:Protocol>` +
			`<tr2:ProfileToken>` + esc(token) + `</tr2:ProfileToken></tr2:GetStreamUri>`
		action = nsMedia2 + "/GetStreamUri"
	}
	resp, err := call[getStreamURIResponse](ctx, c, m.xaddr, action, body)
	if err != nil {
		return "", err
	}
	return validStreamURI(resp)
}

// parseStreamURI decodes a GetStreamUri reply (either media version).
func parseStreamURI(data []byte, status int) (string, error) {
	resp, err := decodeResponse[getStreamURIResponse](data, status)
	if err != nil {
		return "", err
	}
	return validStreamURI(resp)
}

func validStreamURI(resp *getStreamURIResponse) (string, error) {
	uri := strings.TrimSpace(resp.MediaURI)
	if uri == "" {
		uri = strings.TrimSpace(resp.URI)
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", errors.New("device returned no valid stream URI")
	}
	return uri, nil
}

// InjectCredentials returns uri with user and password set as its userinfo
// (escaped as URL userinfo), replacing any already there. With an empty
// user, uri is returned unchanged. Errors never contain the password.
func InjectCredentials(uri, user, password string) (string, error) {
	if user == "" {
		return uri, nil
	}
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" {
		// url.Parse's error quotes the URI; keep it out of logs.
		return "", errors.New("onvif: cannot add credentials: invalid stream URI")
	}
	u.User = url.UserPassword(user, password)
	return u.String(), nil
}
