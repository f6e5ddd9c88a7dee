package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestClusterSectionParses(t *testing.T) {
	c, err := Parse([]byte(`version: 1
cluster:
  node: worker-1
  roles: [worker, coordinator]
  capacity_fps: 120
  rebalance_quiet: 30s
  nats:
    urls: [nats://10.0.0.1:4222, tls://10.0.0.2:4222]
    user: vigil
    password_file: /etc/vigil/nats.pass
`), "v.yaml")
	require.NoError(t, err)
	require.NotNil(t, c.Cluster)
	require.True(t, c.Cluster.HasRole(RoleWorker))
	require.False(t, c.Cluster.HasRole(RoleAPI))
	require.Equal(t, 3, c.Cluster.Replicas)
	require.Equal(t, Duration(10*time.Second), c.Cluster.NodeTTL)
	require.Equal(t, Duration(30*time.Second), c.Cluster.RebalanceQuiet)
	require.False(t, c.Cluster.NoRebalance)

	single, err := Parse([]byte("version: 1\n"), "v.yaml")
	require.NoError(t, err)
	require.Nil(t, single.Cluster, "no cluster section: the embedded single-node mode")
}

func TestClusterSectionErrors(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"bad node", "cluster: {node: 'Bad Node', roles: [api], nats: {urls: ['nats://h:4222']}}", "cluster.node: node name"},
		{"no roles", "cluster: {node: a, nats: {urls: ['nats://h:4222']}}", "cluster.roles: name at least one"},
		{"unknown role", "cluster: {node: a, roles: [boss], nats: {urls: ['nats://h:4222']}}", `cluster.roles[0]: unknown role "boss"`},
		{"no urls", "cluster: {node: a, roles: [api]}", "cluster.nats.urls: name at least one"},
		{"password in url", "cluster: {node: a, roles: [api], nats: {urls: ['nats://u:hunter2@h:4222']}}", "carries credentials"},
		{"bad scheme", "cluster: {node: a, roles: [api], nats: {urls: ['http://h:4222']}}", "scheme must be"},
		{"user without password", "cluster: {node: a, roles: [api], nats: {urls: ['nats://h:4222'], user: u}}", "exactly one of password_file or password_env"},
		{"both creds", "cluster: {node: a, roles: [api], nats: {urls: ['nats://h:4222'], user: u, password_env: P, creds_file: /c}}", "either creds_file or user"},
		{"inline password field", "cluster: {node: a, roles: [api], nats: {urls: ['nats://h:4222'], user: u, password: x}}", `unknown field "password"`},
		{"short rebalance quiet", "cluster: {node: a, roles: [api], rebalance_quiet: 10ms, nats: {urls: ['nats://h:4222']}}", "cluster.rebalance_quiet: must be at least 1s"},
		{"short ttl", "cluster: {node: a, roles: [api], node_ttl: 100ms, nats: {urls: ['nats://h:4222']}}", "cluster.node_ttl: must be at least 1s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte("version: 1\n"+tc.yaml+"\n"), "v.yaml")
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.NotContains(t, err.Error(), "hunter2")
		})
	}
}
