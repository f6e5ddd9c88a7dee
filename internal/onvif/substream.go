package onvif

import (
	"context"
	"fmt"
	"strings"
)

// Choice is the stream picked for analysis and why, for the camera's
// status and the log.
type Choice struct {
	Profile Profile
	// URI carries the client's credentials: a secret, never logged.
	URI    string
	Reason string
}

// PickForModel chooses the profile to analyse: among H.264 profiles (the
// codec Vigil reads in-process), the one with the fewest pixels whose
// longer side still reaches the model input's longer side (modelLong, 640
// for Vigil's automatic input size), so the detector sees no upscaled
// picture and the decoder no wasted pixels — usually the camera's
// substream. When no H.264 profile is that large, the largest H.264
// profile; with no H.264 profile at all, an error naming what there is.
func PickForModel(profiles []Profile, modelLong int) (Profile, string, error) {
	var best, largest *Profile
	for i := range profiles {
		p := &profiles[i]
		if !strings.EqualFold(p.Encoding, "H264") || p.Width <= 0 || p.Height <= 0 {
			continue
		}
		if largest == nil || pixels(*p) > pixels(*largest) {
			largest = p
		}
		if max(p.Width, p.Height) >= modelLong && (best == nil || pixels(*p) < pixels(*best)) {
			best = p
		}
	}
	switch {
	case best != nil:
		return *best, fmt.Sprintf("%s: the smallest H.264 stream covering the %d-pixel model input (%s)", describe(*best), modelLong, others(profiles, *best)), nil
	case largest != nil:
		return *largest, fmt.Sprintf("%s: no H.264 stream reaches the %d-pixel model input; the largest is used (%s)", describe(*largest), modelLong, others(profiles, *largest)), nil
	}
	return Profile{}, "", fmt.Errorf("%w: no H.264 video profile (device has %s); Vigil reads H.264", ErrNoProfile, others(profiles, Profile{}))
}

func pixels(p Profile) int { return p.Width * p.Height }

func describe(p Profile) string {
	return fmt.Sprintf("profile %q (%s, %s %d×%d)", p.Name, p.Token, p.Encoding, p.Width, p.Height)
}

// others lists the profiles not chosen.
func others(profiles []Profile, chosen Profile) string {
	var parts []string
	for _, p := range profiles {
		if p.Token == chosen.Token {
			continue
		}
		if p.Encoding == "" {
			parts = append(parts, p.Token+": no video")
			continue
		}
		parts = append(parts, fmt.Sprintf("%s: %s %d×%d", p.Token, p.Encoding, p.Width, p.Height))
	}
	if len(parts) == 0 {
		return "no other profile"
	}
	return "others: " + strings.Join(parts, ", ")
}

// StreamForModel asks the camera for its profiles, picks one with
// PickForModel and returns its stream URI with the client's credentials.
func (c *Client) StreamForModel(ctx context.Context, modelLong int) (Choice, error) {
	var ch Choice
	err := c.withMedia(ctx, func(m mediaService) error {
		profiles, err := c.profiles(ctx, m)
		if err != nil {
			return err
		}
		if ch.Profile, ch.Reason, err = PickForModel(profiles, modelLong); err != nil {
			return err
		}
		ch.URI, err = c.streamURI(ctx, m, ch.Profile.Token)
		return err
	})
	if err == nil {
		user, pass := c.credentials()
		ch.URI, err = InjectCredentials(ch.URI, user, pass)
	}
	return ch, c.wrap("StreamForModel", err)
}
