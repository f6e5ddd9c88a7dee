// Package clustertest starts real NATS JetStream servers in-process for
// tests: a cluster of n servers on random local ports, with file storage
// in the test's temporary directory, optionally with a user and password.
// Tests of internal/cluster and process-level tests of `vigil` use it.
package clustertest

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Options tune the servers.
type Options struct {
	User, Password string // required of clients when set
}

// Cluster is n running servers.
type Cluster struct {
	Servers []*server.Server
	opts    []*server.Options
}

// Start runs n servers forming one JetStream cluster (n = 1: a single
// JetStream server) and waits until JetStream has a meta leader. They are
// shut down when the test ends.
func Start(t testing.TB, n int, o Options) *Cluster {
	t.Helper()
	clientPorts, routePorts := freePorts(t, n), freePorts(t, n)
	var routes []string
	for _, p := range routePorts {
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
	}
	c := &Cluster{}
	for i := range n {
		so := &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1),
			Host:       "127.0.0.1",
			Port:       clientPorts[i],
			JetStream:  true,
			StoreDir:   t.TempDir(),
			NoSigs:     true,
			NoLog:      true,
			Username:   o.User,
			Password:   o.Password,
		}
		if n > 1 {
			so.Cluster = server.ClusterOpts{Name: "vigil-test", Host: "127.0.0.1", Port: routePorts[i]}
			so.Routes = server.RoutesFromStr(strings.Join(routes, ","))
		}
		c.opts = append(c.opts, so)
		c.Servers = append(c.Servers, c.run(t, so))
	}
	t.Cleanup(c.Shutdown)
	c.WaitReady(t)
	return c
}

func (c *Cluster) run(t testing.TB, so *server.Options) *server.Server {
	t.Helper()
	s, err := server.NewServer(so)
	if err != nil {
		t.Fatalf("clustertest: new server: %v", err)
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		t.Fatalf("clustertest: server %s not ready", so.ServerName)
	}
	return s
}

// WaitReady waits until the running servers agree on a JetStream meta
// leader, which is when streams can be created.
func (c *Cluster) WaitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		for _, s := range c.Servers {
			if s != nil && s.Running() && s.JetStreamIsLeader() {
				return
			}
		}
		time.Sleep(20 * time.Millisecond) // polling the servers' own state, not waiting for ours
	}
	t.Fatalf("clustertest: no JetStream meta leader within 60 s")
}

// URLs are the client URLs of the servers, without credentials.
func (c *Cluster) URLs() []string {
	var out []string
	for _, so := range c.opts {
		out = append(out, (&url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", so.Port)}).String())
	}
	return out
}

// Stop shuts server i down (it stays down).
func (c *Cluster) Stop(i int) {
	if s := c.Servers[i]; s != nil {
		s.Shutdown()
		s.WaitForShutdown()
	}
}

// Shutdown stops every server.
func (c *Cluster) Shutdown() {
	for i := range c.Servers {
		c.Stop(i)
	}
}

// freePorts reserves n free TCP ports by listening and closing; the
// servers bind them right after.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("clustertest: %v", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}
