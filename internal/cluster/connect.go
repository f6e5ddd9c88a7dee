package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// NATSOptions say how to reach the brokers. Passwords come from a file or
// an environment variable, never from the command line or the config text.
type NATSOptions struct {
	URLs         []string
	CredsFile    string
	User         string
	PasswordFile string
	PasswordEnv  string
	CAFile       string
	// Name is the client connection name shown by the server (the node).
	Name string
	// Timeout bounds the first connection and the JetStream check
	// (default 5 s): a wrong URL or credentials fail within it.
	Timeout time.Duration
}

// Connect dials NATS and checks JetStream answers. It fails fast, with an
// error that says whether the servers could not be reached, refused the
// credentials, or have no JetStream; once connected, the client
// reconnects on its own for as long as the process lives.
func Connect(ctx context.Context, o NATSOptions) (*nats.Conn, error) {
	if len(o.URLs) == 0 {
		return nil, errors.New("cluster: no NATS URL configured")
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	opts, err := o.natsOptions()
	if err != nil {
		return nil, err
	}
	where := strings.Join(o.URLs, ",")
	nc, err := nats.Connect(where, opts...)
	if err != nil {
		switch {
		case errors.Is(err, nats.ErrAuthorization), errors.Is(err, nats.ErrAuthExpired),
			strings.Contains(strings.ToLower(err.Error()), "authorization"):
			return nil, fmt.Errorf("cluster: NATS at %s refused the credentials%s: %w", where, o.who(), err)
		case errors.Is(err, nats.ErrNoServers):
			return nil, fmt.Errorf("cluster: cannot reach any NATS server at %s (check cluster.nats.urls and that the servers run): %w", where, err)
		}
		return nil, fmt.Errorf("cluster: connect to NATS at %s: %w", where, err)
	}
	js, err := jetstream.New(nc)
	if err == nil {
		cctx, cancel := context.WithTimeout(ctx, o.Timeout)
		_, err = js.AccountInfo(cctx)
		cancel()
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("cluster: NATS at %s has no JetStream for this account (enable jetstream on the servers): %w", nc.ConnectedUrlRedacted(), err)
	}
	return nc, nil
}

func (o NATSOptions) who() string {
	if o.User != "" {
		return fmt.Sprintf(" for user %q", o.User)
	}
	if o.CredsFile != "" {
		return fmt.Sprintf(" in %s", o.CredsFile)
	}
	return " (none configured)"
}

func (o NATSOptions) natsOptions() ([]nats.Option, error) {
	opts := []nats.Option{
		nats.Name(o.Name),
		nats.Timeout(o.Timeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond),
		nats.RetryOnFailedConnect(false),
	}
	switch {
	case o.CredsFile != "":
		if _, err := os.Stat(o.CredsFile); err != nil {
			return nil, fmt.Errorf("cluster: NATS creds_file: %w", err)
		}
		opts = append(opts, nats.UserCredentials(o.CredsFile))
	case o.User != "":
		pw, err := o.password()
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.UserInfo(o.User, pw))
	}
	if o.CAFile != "" {
		opts = append(opts, nats.RootCAs(o.CAFile))
	}
	return opts, nil
}

// password reads the user's password from its file or variable.
func (o NATSOptions) password() (string, error) {
	if o.PasswordFile != "" {
		b, err := os.ReadFile(o.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("cluster: NATS password_file: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	pw, ok := os.LookupEnv(o.PasswordEnv)
	if !ok || pw == "" {
		return "", fmt.Errorf("cluster: NATS password_env: variable %s is not set", o.PasswordEnv)
	}
	return pw, nil
}
