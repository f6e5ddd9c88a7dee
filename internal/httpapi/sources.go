package httpapi

import (
	"context"
	"net/http"
)

// SourceChecker vets a camera location sent through the API (package
// sourcepolicy implements it). Cameras from the config file never pass
// through it: they are trusted.
type SourceChecker interface {
	Check(ctx context.Context, loc string) error
}

const codeSourceRefused = "source_not_allowed"

// checkSource refuses a location the deployment does not allow, with 403
// and the policy's reason, which never says whether a path exists.
func (a *api) checkSource(ctx context.Context, loc string) error {
	if a.deps.Sources == nil {
		return nil
	}
	if err := a.deps.Sources.Check(ctx, loc); err != nil {
		return errorf(http.StatusForbidden, codeSourceRefused, "field \"url\": %s", scrub(err.Error(), loc))
	}
	return nil
}

// checkCameraLimit refuses a new camera once the store holds
// Options.MaxCameras (0: no limit).
func (a *api) checkCameraLimit(ctx context.Context) error {
	if a.opts.MaxCameras <= 0 {
		return nil
	}
	cams, err := a.deps.Store.ListCameras(ctx)
	if err != nil {
		return err
	}
	if len(cams) >= a.opts.MaxCameras {
		e := errorf(http.StatusTooManyRequests, codeLimit,
			"the server already has %d cameras, the most it is configured for (limits.max_cameras); delete one first", len(cams))
		return e
	}
	return nil
}
