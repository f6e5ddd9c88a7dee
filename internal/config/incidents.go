package config

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"time"

	"github.com/vigil-cctv/vigil/internal/decode"
	"github.com/vigil-cctv/vigil/internal/deliver"
	"github.com/vigil-cctv/vigil/internal/scene"
)

// Incidents configures the operator queue and where incidents are sent:
//
//	incidents:
//	  protocols: configs/protocols.yaml   # default: the built-in set
//	  tick: 5s                            # escalation and auto-close check
//	  destinations:
//	    - name: police-cad
//	      type: webhook                   # or mqtt
//	      url: https://cad.example/hooks/vigil
//	      format: json                    # json or cap (CAP 1.2 XML)
//	      secret_env: VIGIL_POLICE_CAD_SECRET
//	    - name: city-mqtt
//	      type: mqtt
//	      url: mqtt://broker.example:1883
//	      username: vigil
//	      password_env: VIGIL_MQTT_PASSWORD
//	  delivery: {base_delay: 1s, max_delay: 5m, max_attempts: 40, keep: 168h}
//
// Secrets are never written in the file: secret_env and password_env name
// environment variables that hold them. A URL may still carry a token or
// user:password (some receivers want that); it is never logged or shown.
type Incidents struct {
	Protocols    string        `yaml:"protocols"`
	Tick         Duration      `yaml:"tick"`
	Destinations []Destination `yaml:"destinations"`
	Delivery     Delivery      `yaml:"delivery"`
}

// Destination is one receiver of incidents and events.
type Destination struct {
	Name        string   `yaml:"name"`
	Type        string   `yaml:"type"` // webhook or mqtt
	URL         string   `yaml:"url"`
	Format      string   `yaml:"format"`       // webhook: json (default) or cap
	SecretEnv   string   `yaml:"secret_env"`   // webhook: HMAC key
	CAPSender   string   `yaml:"cap_sender"`   // webhook, cap: the CAP sender
	Username    string   `yaml:"username"`     // mqtt
	PasswordEnv string   `yaml:"password_env"` // mqtt
	TopicPrefix string   `yaml:"topic_prefix"` // mqtt, default vigil
	ClientID    string   `yaml:"client_id"`    // mqtt, default vigil-<name>
	Timeout     Duration `yaml:"timeout"`
}

// Delivery tunes the outbox worker's retries.
type Delivery struct {
	BaseDelay   Duration `yaml:"base_delay"`
	MaxDelay    Duration `yaml:"max_delay"`
	MaxAttempts int      `yaml:"max_attempts"`
	Keep        Duration `yaml:"keep"` // delivered messages are kept this long
}

func (in *Incidents) defaults() {
	if in.Tick == 0 {
		in.Tick = Duration(5 * time.Second)
	}
	d := &in.Delivery
	if d.BaseDelay == 0 {
		d.BaseDelay = Duration(time.Second)
	}
	if d.MaxDelay == 0 {
		d.MaxDelay = Duration(5 * time.Minute)
	}
	if d.MaxAttempts == 0 {
		d.MaxAttempts = 40
	}
	if d.Keep == 0 {
		d.Keep = Duration(7 * 24 * time.Hour)
	}
	for i := range in.Destinations {
		ds := &in.Destinations[i]
		if ds.Format == "" && ds.Type == "webhook" {
			ds.Format = "json"
		}
		if ds.Timeout == 0 {
			ds.Timeout = Duration(10 * time.Second)
		}
	}
}

func (in *Incidents) validate() []fieldError {
	var errs []fieldError
	add := func(path, format string, args ...any) {
		errs = append(errs, fieldError{path: "$.incidents" + path, msg: fmt.Sprintf(format, args...)})
	}
	if in.Tick < Duration(100*time.Millisecond) || in.Tick > Duration(time.Minute) {
		add(".tick", "must be 100ms to 1m, got %v", time.Duration(in.Tick))
	}
	d := in.Delivery
	if d.BaseDelay < Duration(10*time.Millisecond) || d.MaxDelay < d.BaseDelay {
		add(".delivery", "need 10ms ≤ base_delay ≤ max_delay")
	}
	if d.MaxAttempts < 1 {
		add(".delivery.max_attempts", "must be at least 1")
	}
	if d.Keep < Duration(time.Hour) {
		add(".delivery.keep", "must be at least 1h")
	}
	seen := map[string]bool{}
	for i, ds := range in.Destinations {
		errs = append(errs, ds.validate(fmt.Sprintf("$.incidents.destinations[%d]", i), seen)...)
	}
	return errs
}

func (ds Destination) validate(p string, seen map[string]bool) []fieldError {
	var errs []fieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, fieldError{path: p + field, msg: fmt.Sprintf(format, args...)})
	}
	switch {
	case !scene.ValidName(ds.Name):
		add(".name", "destination name %q must be letters, digits, '-' or '_'", ds.Name)
	case seen[ds.Name]:
		add(".name", "duplicate destination %q", ds.Name)
	}
	seen[ds.Name] = true
	u, err := url.Parse(ds.URL)
	schemes := map[string][]string{"webhook": {"http", "https"}, "mqtt": {"mqtt", "mqtts", "tcp", "tls", "ssl"}}
	switch want, ok := schemes[ds.Type]; {
	case !ok:
		add(".type", "want webhook or mqtt, got %q", ds.Type)
	case err != nil || u.Host == "" || !slices.Contains(want, u.Scheme):
		add(".url", "a %s destination needs a %s:// URL, got %s", ds.Type, want[0], decode.RedactURL(ds.URL))
	}
	if ds.Type == "webhook" && ds.Format != "json" && ds.Format != "cap" {
		add(".format", "want json or cap, got %q", ds.Format)
	}
	if ds.Type != "webhook" && (ds.Format != "" || ds.SecretEnv != "" || ds.CAPSender != "") {
		add(".type", "format, secret_env and cap_sender are for webhooks")
	}
	if ds.Type != "mqtt" && (ds.Username != "" || ds.PasswordEnv != "" || ds.TopicPrefix != "" || ds.ClientID != "") {
		add(".type", "username, password_env, topic_prefix and client_id are for mqtt")
	}
	if ds.Timeout < Duration(100*time.Millisecond) || ds.Timeout > Duration(time.Minute) {
		add(".timeout", "must be 100ms to 1m")
	}
	return errs
}

// DestinationNames lists the configured destinations.
func (in Incidents) DestinationNames() []string {
	out := make([]string, len(in.Destinations))
	for i, d := range in.Destinations {
		out[i] = d.Name
	}
	return out
}

// Deliver builds the destinations with their secrets, read from the
// environment through getenv (os.Getenv when nil). A named variable that
// is unset or empty is an error: a webhook signed with an empty key, or
// an MQTT login without its password, would fail in a way only the
// receiver sees.
func (in Incidents) Deliver(getenv func(string) string) ([]deliver.Destination, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	out := make([]deliver.Destination, 0, len(in.Destinations))
	for _, ds := range in.Destinations {
		d := deliver.Destination{Name: ds.Name, Type: ds.Type, URL: ds.URL, Format: ds.Format, Sender: ds.CAPSender,
			Username: ds.Username, TopicPrefix: ds.TopicPrefix, ClientID: ds.ClientID, Timeout: time.Duration(ds.Timeout)}
		for env, dst := range map[string]*[]byte{ds.SecretEnv: &d.Secret, ds.PasswordEnv: &d.Password} {
			if env == "" {
				continue
			}
			v := getenv(env)
			if v == "" {
				return nil, fmt.Errorf("destination %q: environment variable %s is not set", ds.Name, env)
			}
			*dst = []byte(v)
		}
		out = append(out, d)
	}
	return out, nil
}
