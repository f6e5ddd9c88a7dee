package onvif

import (
	"context"
	"fmt"
	"net/http"
)

// Resolver returns a function that asks the device at endpoint for the
// RTSP URI of profile, with the endpoint's credentials inserted, each time
// it is called: the shape of ingest.Camera.Resolve, so that a camera's
// supervisor retries an unreachable device with its usual backoff.
//
// hc carries every request (nil: a default client with a 20 s timeout);
// give it a policy-checked dialer (sourcepolicy.Policy.HTTPClient) for
// devices added through the API. check, when set, vets the URI the device
// answers with, since a device may point its stream anywhere
// (sourcepolicy.Policy.Check). Errors never hold the password.
func Resolver(endpoint, profile string, hc *http.Client, check func(context.Context, string) error) func(context.Context) (string, error) {
	c := &Client{Endpoint: endpoint, HTTP: hc}
	return func(ctx context.Context) (string, error) {
		uri, err := c.StreamURIWithCredentials(ctx, profile)
		if err != nil {
			return "", err
		}
		if check != nil {
			if err := check(ctx, uri); err != nil {
				return "", c.wrap("StreamURI", fmt.Errorf("the device's stream address is refused: %w", err))
			}
		}
		return uri, nil
	}
}

// ModelResolver is Resolver for a camera with no configured profile: each
// time it picks the profile to analyse with StreamForModel (the smallest
// H.264 stream covering a modelLong-pixel model input, usually the
// substream) and calls report with the choice (its URI holds the
// credentials: report must not log it), so the caller can say which
// stream was chosen and why.
func ModelResolver(endpoint string, modelLong int, hc *http.Client, check func(context.Context, string) error,
	report func(Choice)) func(context.Context) (string, error) {
	c := &Client{Endpoint: endpoint, HTTP: hc}
	return func(ctx context.Context) (string, error) {
		ch, err := c.StreamForModel(ctx, modelLong)
		if err != nil {
			return "", err
		}
		if check != nil {
			if err := check(ctx, ch.URI); err != nil {
				return "", c.wrap("StreamURI", fmt.Errorf("the device's stream address is refused: %w", err))
			}
		}
		if report != nil {
			report(ch)
		}
		return ch.URI, nil
	}
}
