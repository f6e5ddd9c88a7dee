package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Cluster is the optional `cluster:` section. Without it `vigil serve`
// runs every role in one process with no broker (the embedded mode); with
// it the node joins a NATS JetStream cluster under Node with the given
// Roles (internal/cluster).
type Cluster struct {
	// Node names this node: unique in the cluster, a NATS subject token
	// and KV key (same alphabet as camera ids).
	Node string `yaml:"node"`
	// Roles are any of worker (runs cameras), api (HTTP API, console,
	// store writer) and coordinator (places cameras).
	Roles []string `yaml:"roles"`
	NATS  NATS     `yaml:"nats"`
	// CapacityFPS is how many analysed frames per second this node
	// sustains (the capacity measurement); 0 leaves it to the service,
	// which measures it. A camera at 5 fps needs 5.
	CapacityFPS float64 `yaml:"capacity_fps"`
	// Replicas of every stream, bucket and object store: 3 for a 3-server
	// NATS cluster (the default), 1 for a single server.
	Replicas int `yaml:"replicas"`
	// NodeTTL is how long a node's heartbeat lives: a node silent for this
	// long is dead and its cameras move. LeaderTTL is the coordinator's
	// lease.
	NodeTTL   Duration `yaml:"node_ttl"`
	LeaderTTL Duration `yaml:"leader_ttl"`
	// RebalanceQuiet is how long placement must rest before the
	// coordinator moves cameras onto a worker that joined late (0: the
	// node TTL); NoRebalance keeps placement as it is while nodes live.
	RebalanceQuiet Duration `yaml:"rebalance_quiet"`
	NoRebalance    bool     `yaml:"no_rebalance"`
}

// NATS says how to reach the brokers. Credentials come from files or the
// environment, never from the config text or the command line: a
// password inline in a URL is rejected.
type NATS struct {
	URLs []string `yaml:"urls"`
	// CredsFile is a NATS .creds file (JWT + nkey seed).
	CredsFile string `yaml:"creds_file"`
	// User with a password read from PasswordFile or from the environment
	// variable named by PasswordEnv.
	User         string `yaml:"user"`
	PasswordFile string `yaml:"password_file"`
	PasswordEnv  string `yaml:"password_env"`
	// CAFile verifies tls:// servers signed by a private CA.
	CAFile string `yaml:"ca_file"`
}

// Cluster roles.
const (
	RoleWorker      = "worker"
	RoleAPI         = "api"
	RoleCoordinator = "coordinator"
)

var knownRoles = []string{RoleWorker, RoleAPI, RoleCoordinator}

// HasRole reports whether the node holds role r.
func (c *Cluster) HasRole(r string) bool { return slices.Contains(c.Roles, r) }

func (c *Cluster) defaults() {
	if c.Replicas == 0 {
		c.Replicas = 3
	}
	if c.NodeTTL == 0 {
		c.NodeTTL = Duration(10 * time.Second)
	}
	if c.LeaderTTL == 0 {
		c.LeaderTTL = Duration(10 * time.Second)
	}
}

func (c *Cluster) validate(add func(path, format string, args ...any)) {
	if !idPattern.MatchString(c.Node) {
		add("$.cluster.node", "node name %q must be 1-64 of a-z, 0-9, '-', '_' (starting with a letter or digit)", c.Node)
	}
	if len(c.Roles) == 0 {
		add("$.cluster.roles", "name at least one of %s", strings.Join(knownRoles, ", "))
	}
	seen := map[string]bool{}
	for i, r := range c.Roles {
		switch {
		case !slices.Contains(knownRoles, r):
			add(fmt.Sprintf("$.cluster.roles[%d]", i), "unknown role %q (known: %s)", r, strings.Join(knownRoles, ", "))
		case seen[r]:
			add(fmt.Sprintf("$.cluster.roles[%d]", i), "duplicate role %q", r)
		}
		seen[r] = true
	}
	if c.CapacityFPS < 0 {
		add("$.cluster.capacity_fps", "must not be negative, got %v", c.CapacityFPS)
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		add("$.cluster.replicas", "must be 1..5, got %d", c.Replicas)
	}
	if c.NodeTTL < Duration(time.Second) {
		add("$.cluster.node_ttl", "must be at least 1s, got %v", time.Duration(c.NodeTTL))
	}
	if c.RebalanceQuiet != 0 && c.RebalanceQuiet < Duration(time.Second) {
		add("$.cluster.rebalance_quiet", "must be at least 1s (or 0: the node TTL), got %v", time.Duration(c.RebalanceQuiet))
	}
	if c.LeaderTTL < Duration(time.Second) {
		add("$.cluster.leader_ttl", "must be at least 1s, got %v", time.Duration(c.LeaderTTL))
	}
	c.NATS.validate(add)
}

func (n *NATS) validate(add func(path, format string, args ...any)) {
	if len(n.URLs) == 0 {
		add("$.cluster.nats.urls", "name at least one server (nats://host:4222)")
	}
	for i, u := range n.URLs {
		if err := ValidateNATSURL(u); err != nil {
			add(fmt.Sprintf("$.cluster.nats.urls[%d]", i), "%v", err)
		}
	}
	switch {
	case n.CredsFile != "" && n.User != "":
		add("$.cluster.nats.creds_file", "use either creds_file or user with a password, not both")
	case n.User != "" && (n.PasswordFile == "") == (n.PasswordEnv == ""):
		add("$.cluster.nats.user", "user needs exactly one of password_file or password_env")
	case n.User == "" && (n.PasswordFile != "" || n.PasswordEnv != ""):
		add("$.cluster.nats.user", "a password needs a user")
	}
}

// ValidateNATSURL accepts nats://, tls://, ws:// and wss:// host:port
// URLs without credentials; errors never echo a password.
func ValidateNATSURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a URL (want nats://host:4222)")
	}
	if u.User != nil {
		return fmt.Errorf("NATS URL %s carries credentials: put them in creds_file, or user with password_file/password_env", u.Redacted())
	}
	switch u.Scheme {
	case "nats", "tls", "ws", "wss":
	default:
		return fmt.Errorf("NATS URL %q: scheme must be nats, tls, ws or wss", s)
	}
	if u.Host == "" || u.Port() == "" {
		return fmt.Errorf("NATS URL %q: want scheme://host:port", s)
	}
	return nil
}
