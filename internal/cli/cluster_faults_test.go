package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/cluster"
	"github.com/vigil-cctv/vigil/internal/cluster/clustertest"
	"github.com/vigil-cctv/vigil/internal/config"
)

const (
	faultCameras = 9 // replay cameras in the fault test
	// faultTTL is its node and leader TTL: long, so that no worker loses
	// its cameras to a heartbeat missed on a loaded machine while the
	// faults go on.
	faultTTL = 10 * time.Second
)

// TestClusterFaultsCoordinatorNATSPostgres runs real `vigil serve`
// processes (three workers, two coordinator-only nodes, one api node
// whose PostgreSQL is reached through a proxy the test cuts) and puts
// three faults on one run of replay cameras while they play:
//
//   - one of the three NATS servers is shut down once the cameras are
//     placed, for the rest of the run: their alerts are published
//     without it;
//   - PostgreSQL goes away (the proxy cuts every connection and refuses
//     new ones) until the coordinator fault is over: alerts wait in the
//     stream and land once it is back;
//   - the coordinator process is killed with -9: the other one is
//     elected, places a camera added afterwards, and no camera moves
//     while its node lives (assignment nodes and revisions unchanged).
//
// Then every camera's alerts in PostgreSQL are the scenario's, by
// deterministic key, each exactly once.
func TestClusterFaultsCoordinatorNATSPostgres(t *testing.T) {
	c := newProcCluster(t, faultTTL)
	grey := greyFrames(t, failoverFrames, 48, 32)
	tracks := absPath(t, failoverScenario+"/tracks.txt")
	scene := absPath(t, failoverScenario+"/scene.yaml")
	wantPerCamera := scenarioAlerts(t, float64(failoverFrames-1)/failoverFPS)
	u, err := url.Parse(c.dsn)
	require.NoError(t, err)
	proxy := clustertest.StartProxy(t, u.Host)
	u.Host = proxy.Addr()

	var cams strings.Builder
	var ids []string
	frames := map[string]int{}
	for i := range faultCameras {
		id := fmt.Sprintf("rep-%02d", i+1)
		ids, frames[id] = append(ids, id), failoverFrames
		cams.WriteString(replayCamera(id, grey, scene, tracks))
	}
	workers := []string{"w1", "w2", "w3"}
	for _, n := range workers {
		c.start(n, nodeOpts{roles: "[worker]", detector: "detector: {recorded: " + tracks + "}"})
	}
	c.start("c1", nodeOpts{roles: "[coordinator]"})
	waitFor(t, "c1 elected coordinator", 2*time.Minute, func() bool { return c.status().Coordinator == "c1" })
	c.start("c2", nodeOpts{roles: "[coordinator]"})
	waitFor(t, "three workers and c2 live", 2*time.Minute, func() bool {
		live := liveNodes(t, c.obs)
		return slices.Contains(live, "c2") && slices.Contains(live, "w1") && slices.Contains(live, "w2") && slices.Contains(live, "w3")
	})
	c.start("api", nodeOpts{roles: "[api]", store: fmt.Sprintf("store: {driver: postgres, dsn: %q}", u.String()), cameras: cams.String()})
	c.waitPlaced(ids, workers...)
	before, err := c.obs.Assignments(context.Background())
	require.NoError(t, err)

	// One NATS server goes down for the rest of the run, as the cameras
	// start: their alerts are published without it.
	early := c.status().Consumers["VIGIL_EVENTS"].Messages
	c.nats.Stop(2)

	// PostgreSQL goes away; alerts wait in the stream.
	proxy.SetDown(true)
	cutAt := time.Now()
	stored := alertCount(t, c.db)
	waitFor(t, "alerts waiting in the stream while PostgreSQL is down", 3*time.Minute, func() bool {
		lag := c.status().Consumers["VIGIL_EVENTS"]
		return lag.Pending > 0 || lag.AckPending > 0
	})
	require.Equal(t, stored, alertCount(t, c.db), "nothing reached PostgreSQL through the cut")

	added := c.requireCoordinatorTakesOver(before, grey)

	// PostgreSQL comes back.
	proxy.SetDown(false)
	t.Logf("PostgreSQL cut for %v", time.Since(cutAt).Round(time.Millisecond))

	frames[added] = failoverFrames
	c.waitFinished(append(ids, added), frames, finishLimit, func(got map[string][]clusterAlert) string {
		for _, id := range ids {
			if len(got[id]) < wantPerCamera {
				return fmt.Sprintf("%s has %d of %d alerts", id, len(got[id]), wantPerCamera)
			}
		}
		return ""
	})
	got := clusterAlertsByCamera(t, c.db)
	require.Empty(t, got[added], "the added camera has no scene, so no rules")
	total := 0
	for _, id := range ids {
		require.Len(t, got[id], wantPerCamera, "camera %s raised the scenario's alerts", id)
		requireSameAlerts(t, got, id, ids[0])
		total += len(got[id])
	}
	c.requireNoDuplicates(total)
	require.Zero(t, c.status().DeadLetters, "nothing was dead-lettered by the outage")
	t.Logf("%d alerts over %d cameras, each once (%d published before NATS server n3 went down): %v", total, len(ids), early, tuples(got[ids[0]]))
}

// requireCoordinatorTakesOver kills the coordinator c1 with -9 and checks
// that c2 is elected, places a camera added afterwards (returned), and
// leaves every other assignment as it was (node and revision).
func (c *procCluster) requireCoordinatorTakesOver(before map[string]cluster.Placed, frames string) string {
	c.t.Helper()
	killedAt := c.kill("c1")
	waitFor(c.t, "c2 elected coordinator", 2*time.Minute, func() bool { return c.status().Coordinator == "c2" })
	c.t.Logf("coordinator c1 killed; c2 elected after %v (leader TTL %v)", time.Since(killedAt).Round(time.Millisecond), c.ttl)
	added := addCamera(c.t, c.obs, "rep-added", frames)
	waitFor(c.t, "the new coordinator places a camera added after the election", 2*time.Minute, func() bool {
		a, err := c.obs.Assignments(context.Background())
		return err == nil && a[added].Node != ""
	})
	after, err := c.obs.Assignments(context.Background())
	require.NoError(c.t, err)
	for cam, p := range before {
		require.Equal(c.t, p, after[cam], "camera %s did not move while its node lives", cam)
	}
	return added
}

// addCamera configures a replay camera without a scene straight in the
// config bucket (as the api node does for a camera made through the API).
func addCamera(t *testing.T, obs *cluster.Cluster, id, frames string) string {
	t.Helper()
	spec, err := json.Marshal(config.Camera{ID: id, URL: frames, FPS: 10, ImageFPS: 10, Transport: "tcp",
		StartTime: "2026-01-05T12:00:00Z"})
	require.NoError(t, err)
	_, err = obs.Config().PutCamera(context.Background(), cluster.CameraConfig{ID: id, FPS: 10, Spec: spec})
	require.NoError(t, err)
	return id
}
