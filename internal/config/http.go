package config

import (
	"fmt"
	"strings"
	"time"
)

// HTTP bounds the HTTP server and names the hosts it answers to.
type HTTP struct {
	// AllowedHosts are the DNS names (exact, or "*.example.org" for any
	// subdomain) the API and console are reached under. IP addresses and
	// localhost are always allowed; any other Host or Origin is refused
	// (DNS rebinding, cross-site requests).
	AllowedHosts []string `yaml:"allowed_hosts"`
	// ReadHeaderTimeout bounds reading a request's headers (default 10s).
	ReadHeaderTimeout Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request, body included, on every
	// route but the streams (default 30s).
	ReadTimeout Duration `yaml:"read_timeout"`
	// WriteTimeout bounds writing a response on every route but the
	// streams, whose every write has its own deadline (default 2m: a clip
	// over a slow link).
	WriteTimeout Duration `yaml:"write_timeout"`
	// IdleTimeout closes keep-alive connections idle this long (default 2m).
	IdleTimeout Duration `yaml:"idle_timeout"`
	// MaxHeaderBytes bounds a request's headers (default 32 KiB).
	MaxHeaderBytes int `yaml:"max_header_bytes"`
}

func (h *HTTP) defaults() {
	def := func(d *Duration, v time.Duration) {
		if *d == 0 {
			*d = Duration(v)
		}
	}
	def(&h.ReadHeaderTimeout, 10*time.Second)
	def(&h.ReadTimeout, 30*time.Second)
	def(&h.WriteTimeout, 2*time.Minute)
	def(&h.IdleTimeout, 2*time.Minute)
	if h.MaxHeaderBytes == 0 {
		h.MaxHeaderBytes = 32 << 10
	}
}

func (h HTTP) validate() []fieldError {
	var errs []fieldError
	for _, f := range []struct {
		name string
		d    Duration
	}{{"read_header_timeout", h.ReadHeaderTimeout}, {"read_timeout", h.ReadTimeout},
		{"write_timeout", h.WriteTimeout}, {"idle_timeout", h.IdleTimeout}} {
		if f.d < Duration(time.Second) {
			errs = append(errs, fieldError{path: "$.http." + f.name, msg: fmt.Sprintf("must be at least 1s, got %v", time.Duration(f.d))})
		}
	}
	if h.MaxHeaderBytes < 4<<10 || h.MaxHeaderBytes > 1<<20 {
		errs = append(errs, fieldError{path: "$.http.max_header_bytes", msg: fmt.Sprintf("must be 4096 to 1048576, got %d", h.MaxHeaderBytes)})
	}
	for i, host := range h.AllowedHosts {
		if host == "" || strings.ContainsAny(host, " /:@") || strings.Count(host, "*") > 1 ||
			(strings.Contains(host, "*") && !strings.HasPrefix(host, "*.")) {
			errs = append(errs, fieldError{path: fmt.Sprintf("$.http.allowed_hosts[%d]", i),
				msg: fmt.Sprintf("want a host name such as vigil.example.org or *.example.org, got %q", host)})
		}
	}
	return errs
}

// Limits cap what clients can make the server do.
type Limits struct {
	// MaxCameras bounds the cameras the API lets exist (default 1024).
	MaxCameras int `yaml:"max_cameras"`
	// MaxViewersPerCamera bounds live MJPEG viewers of one camera
	// (default 20); more get 429.
	MaxViewersPerCamera int `yaml:"max_viewers_per_camera"`
	// MaxViewers bounds live MJPEG viewers in all (default 200); more get 503.
	MaxViewers int `yaml:"max_viewers"`
	// MaxEventClients bounds event-stream (SSE) clients (default 100);
	// more get 503.
	MaxEventClients int `yaml:"max_event_clients"`
}

func (l *Limits) defaults() {
	for _, f := range []struct {
		v   *int
		def int
	}{{&l.MaxCameras, 1024}, {&l.MaxViewersPerCamera, 20}, {&l.MaxViewers, 200}, {&l.MaxEventClients, 100}} {
		if *f.v == 0 {
			*f.v = f.def
		}
	}
}

func (l Limits) validate() []fieldError {
	var errs []fieldError
	for _, f := range []struct {
		name string
		v    int
	}{{"max_cameras", l.MaxCameras}, {"max_viewers_per_camera", l.MaxViewersPerCamera},
		{"max_viewers", l.MaxViewers}, {"max_event_clients", l.MaxEventClients}} {
		if f.v < 1 || f.v > 100000 {
			errs = append(errs, fieldError{path: "$.limits." + f.name, msg: fmt.Sprintf("must be 1 to 100000, got %d", f.v)})
		}
	}
	return errs
}
