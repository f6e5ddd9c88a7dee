package config

import (
	"fmt"
	"net/netip"

	"github.com/vigil-cctv/vigil/internal/sourcepolicy"
)

// Sources restricts the camera sources that may be added or changed
// through the API (cameras in this file are trusted). See package
// sourcepolicy for the rules.
type Sources struct {
	// AllowDirs are the folders file and image-directory sources may come
	// from; none means the API accepts no file sources.
	AllowDirs []string `yaml:"allow_dirs"`
	// AllowPrivateNetworks allows RFC 1918, carrier-grade NAT and IPv6
	// unique-local addresses, where cameras usually are (default true).
	AllowPrivateNetworks *bool `yaml:"allow_private_networks"`
	// AllowLoopback allows 127.0.0.0/8 and ::1 (default false).
	AllowLoopback bool `yaml:"allow_loopback"`
	// AllowLinkLocal allows 169.254.0.0/16 and fe80::/10 except cloud
	// metadata endpoints (default false).
	AllowLinkLocal bool `yaml:"allow_link_local"`
	// AllowNetworks are CIDR ranges allowed whatever else applies.
	AllowNetworks []string `yaml:"allow_networks"`
}

// PolicyOptions is the section as sourcepolicy options; the config has
// been validated, so the ranges parse.
func (s Sources) PolicyOptions() sourcepolicy.Options {
	o := sourcepolicy.Options{
		AllowDirs:      s.AllowDirs,
		AllowPrivate:   s.AllowPrivateNetworks == nil || *s.AllowPrivateNetworks,
		AllowLoopback:  s.AllowLoopback,
		AllowLinkLocal: s.AllowLinkLocal,
	}
	for _, n := range s.AllowNetworks {
		if p, err := netip.ParsePrefix(n); err == nil {
			o.AllowNetworks = append(o.AllowNetworks, p.Masked())
		}
	}
	return o
}

func (s Sources) validate() []fieldError {
	var errs []fieldError
	for i, d := range s.AllowDirs {
		if d == "" {
			errs = append(errs, fieldError{path: fmt.Sprintf("$.sources.allow_dirs[%d]", i), msg: "empty folder"})
		}
	}
	for i, n := range s.AllowNetworks {
		if _, err := netip.ParsePrefix(n); err != nil {
			errs = append(errs, fieldError{path: fmt.Sprintf("$.sources.allow_networks[%d]", i),
				msg: fmt.Sprintf("want a CIDR range such as 10.20.0.0/16, got %q", n)})
		}
	}
	return errs
}
