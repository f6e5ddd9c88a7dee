package service

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/cluster"
	"github.com/vigil-cctv/vigil/internal/cluster/clustertest"
	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/search"
	"github.com/vigil-cctv/vigil/internal/secrets"
	"github.com/vigil-cctv/vigil/internal/store"
)

const lineCrossing = "../../testdata/scenarios/line-crossing"

// greyFrames writes n identical small PNG frames (hard links of one):
// the recorded detections keep the scene's own coordinates.
func greyFrames(t *testing.T, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "frames")
	require.NoError(t, os.Mkdir(dir, 0o755))
	first := filepath.Join(dir, "f0001.png")
	f, err := os.Create(first)
	require.NoError(t, err)
	require.NoError(t, png.Encode(f, image.NewGray(image.Rect(0, 0, 48, 32))))
	require.NoError(t, f.Close())
	for i := 2; i <= n; i++ {
		require.NoError(t, os.Link(first, filepath.Join(dir, fmt.Sprintf("f%04d.png", i))))
	}
	return dir
}

// TestClusterAllRolesInOneNode runs `vigil serve` as a one-node cluster
// (api, worker and coordinator over one NATS server): the config file's
// camera is published to the config bucket and placed on the node, its
// alerts travel worker → JetStream → store writer → store → SSE, scene
// and camera changes made through the API land in the bucket, and the
// stopped camera's baseline and motion model are in the handover store.
func TestClusterAllRolesInOneNode(t *testing.T) {
	nc := clustertest.Start(t, 1, clustertest.Options{})
	model, err := NewRecordedModel(filepath.Join(lineCrossing, "tracks.txt"))
	require.NoError(t, err)
	sceneFile, err := filepath.Abs(filepath.Join(lineCrossing, "scene.yaml"))
	require.NoError(t, err)
	dir := t.TempDir()
	frames := greyFrames(t, 301)
	kr, err := secrets.NewKeyring("test", secrets.NewKey())
	require.NoError(t, err)
	base, svc, stop := startServiceOn(t, fmt.Sprintf(`version: 1
listen: "127.0.0.1:0"
data_dir: %s
cluster:
  node: solo
  roles: [api, worker, coordinator]
  replicas: 1
  nats: {urls: [%q]}
cameras:
  - {id: gate-1, url: %s, loop: false, fps: 10, image_fps: 10, scene: %s, start_time: "2026-01-05T12:00:00Z"}
`, dir, nc.URLs()[0], frames, sceneFile), Deps{Model: model, Secrets: kr}, nil)
	events := subscribe(t, base)
	for range 4 { // the scenario's four crossings
		e := waitFor(t, events, func(e sseEvent) bool { return e.typ == "alert" }, hangTimeout)
		require.Contains(t, e.data, `"camera":"gate-1"`)
	}

	conn, err := cluster.Connect(context.Background(), cluster.NATSOptions{URLs: nc.URLs()})
	require.NoError(t, err)
	defer conn.Close()
	obs, err := cluster.Open(context.Background(), conn, cluster.Options{Node: "observer"})
	require.NoError(t, err)
	st, err := obs.Status(context.Background())
	require.NoError(t, err)
	require.Equal(t, "solo", st.Cameras["gate-1"], "the camera was placed on the node")
	// The console reads the same status through the API.
	resp, err := http.Get(base + "/api/v1/cluster")
	require.NoError(t, err)
	var seen cluster.Status
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&seen))
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "solo", seen.Cameras["gate-1"])
	require.Len(t, seen.Nodes, 1)
	require.ElementsMatch(t, []string{"api", "worker", "coordinator"}, seen.Nodes[0].Roles)
	// The bucket holds the camera's URL sealed; the worker opened it.
	raw, _, err := obs.Config().Get(context.Background(), cluster.ConfigCamera, "gate-1")
	require.NoError(t, err)
	require.NotContains(t, string(raw), frames, "the URL is not in the bucket in clear")
	require.Contains(t, string(raw), secrets.Prefix)
	requireCameraNamesItsScene(t, obs, "gate-1")

	// A described track goes worker → JetStream → store with its
	// appearance, and into the api node's search index, once.
	red := &search.Appearance{Upper: []string{"red"}, Embedding: []float32{1, 0, 0}}
	t0 := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	described := store.TrackSummary{Camera: "gate-1", TrackID: 99, Class: "person", Start: t0, End: t0.Add(time.Second), Appearance: red}
	_, local := svc.resultStore().(store.SearchStore)
	require.False(t, local, "a worker's described tracks are published, not stored where it runs")
	for range 2 {
		require.NoError(t, svc.resultStore().AddTrack(context.Background(), described))
	}
	require.Eventually(t, func() bool {
		res, err := svc.index.Search(search.Query{Upper: []string{"red"}})
		return err == nil && len(res.Hits) == 1
	}, hangTimeout, 50*time.Millisecond)
	recs, err := svc.store.(store.SearchStore).SearchRecords(context.Background(), 0, 100)
	require.NoError(t, err)
	coloured := 0
	for _, r := range recs {
		if r.Upper != 0 {
			coloured++
		}
	}
	require.Equal(t, 1, coloured, "stored with its appearance, once")
	require.Greater(t, len(recs), 1, "the chain's own summaries arrive described too")

	// A scene saved through the API goes to the bucket.
	scene, err := os.ReadFile(sceneFile)
	require.NoError(t, err)
	edited := string(scene) + "\n# edited through the API\n"
	req, err := http.NewRequest(http.MethodPut, base+"/api/v1/cameras/gate-1/scene", strings.NewReader(edited))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/yaml")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	got, _, err := obs.Config().Get(context.Background(), cluster.ConfigScene, "gate-1")
	require.NoError(t, err)
	require.Equal(t, edited, string(got))
	requireCameraNamesItsScene(t, obs, "gate-1")

	// Disabling the camera through the API disables it in the bucket, and
	// the coordinator takes it off the node.
	req, err = http.NewRequest(http.MethodPut, base+"/api/v1/cameras/gate-1", strings.NewReader(`{"enabled":false}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	raw, _, err = obs.Config().Get(context.Background(), cluster.ConfigCamera, "gate-1")
	require.NoError(t, err)
	var cc cluster.CameraConfig
	require.NoError(t, json.Unmarshal(raw, &cc))
	require.True(t, cc.Disabled)
	require.Eventually(t, func() bool {
		st, err := obs.Status(context.Background())
		return err == nil && st.Cameras["gate-1"] == ""
	}, hangTimeout, 50*time.Millisecond)
	// Stopping it handed what it learned over, for its next owner.
	require.Eventually(t, func() bool {
		ho, _, err := obs.Handover().Load(context.Background(), "gate-1")
		return err == nil && len(ho.Baseline) > 0 && len(ho.Motion) > 0
	}, hangTimeout, 50*time.Millisecond)
	require.NoError(t, stop())
}

// requireCameraNamesItsScene checks that a camera's entry in the config
// bucket names its scene entry's revision: what a worker waits to read
// before it starts the camera.
func requireCameraNamesItsScene(t *testing.T, obs *cluster.Cluster, id string) {
	t.Helper()
	_, rev, err := obs.Config().Get(context.Background(), cluster.ConfigScene, id)
	require.NoError(t, err)
	raw, _, err := obs.Config().Get(context.Background(), cluster.ConfigCamera, id)
	require.NoError(t, err)
	var cc cluster.CameraConfig
	require.NoError(t, json.Unmarshal(raw, &cc))
	require.Equal(t, rev, cc.SceneRev, "camera %s's entry names its scene's revision", id)
}

// TestClusterLiveRelay: the console on an api node shows a camera that a
// worker elsewhere runs: its snapshot and live view are relayed over NATS
// from that worker.
func TestClusterLiveRelay(t *testing.T) {
	nc := clustertest.Start(t, 1, clustertest.Options{})
	frame := []byte("\xff\xd8relayed-frame\xff\xd9")
	assigned := make(chan cluster.Lease, 1)
	worker, err := cluster.Start(context.Background(), cluster.NodeConfig{
		Options: cluster.Options{Node: "remote"}, NATS: cluster.NATSOptions{URLs: nc.URLs()},
		Roles: []string{cluster.RoleWorker}, Capacity: func() float64 { return 50 },
		Worker: cluster.WorkerCallbacks{OnAssign: func(l cluster.Lease) { assigned <- l }, OnRevoke: func(cluster.Lease) {}},
		Frame: func(camera string) ([]byte, error) {
			if camera != "yard" {
				return nil, fmt.Errorf("camera %s is not running", camera)
			}
			return frame, nil
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = worker.Close() })

	dir := t.TempDir()
	base, stop := startService(t, nil, fmt.Sprintf(`version: 1
listen: "127.0.0.1:0"
data_dir: %s
cluster:
  node: console
  roles: [api, coordinator]
  replicas: 1
  nats: {urls: [%q]}
cameras:
  - {id: yard, url: %s, fps: 5}
`, dir, nc.URLs()[0], filepath.Join(dir, "yard.mp4")))
	select {
	case l := <-assigned:
		require.Equal(t, "yard", l.Camera)
	case <-time.After(hangTimeout):
		t.Fatal("camera not placed on the worker")
	}

	resp, err := http.Get(base + "/api/v1/cameras/yard/snapshot.jpg")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	require.Equal(t, frame, body)

	resp, err = http.Get(base + "/api/v1/cameras/yard/live.mjpeg")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	buf := make([]byte, 0, 4096)
	for !strings.Contains(string(buf), "relayed-frame") {
		chunk := make([]byte, 512)
		n, err := resp.Body.Read(chunk)
		require.NoError(t, err)
		buf = append(buf, chunk[:n]...)
	}
	resp.Body.Close()
	require.NoError(t, stop())
}

// TestClusterWorkerHeartbeatCarriesMeasuredCapacity: a worker without a
// configured capacity_fps times its detector before it joins, and its
// heartbeat carries what that sustains (one whole frame ≥ 20 ms here, so
// at most 50 fps less the headroom), not 0.
func TestClusterWorkerHeartbeatCarriesMeasuredCapacity(t *testing.T) {
	nc := clustertest.Start(t, 1, clustertest.Options{})
	_, stop := startService(t, slowModel{d: 20 * time.Millisecond}, fmt.Sprintf(`version: 1
listen: "127.0.0.1:0"
data_dir: %s
cluster:
  node: measured
  roles: [worker]
  replicas: 1
  nats: {urls: [%q]}
`, t.TempDir(), nc.URLs()[0]))
	conn, err := cluster.Connect(context.Background(), cluster.NATSOptions{URLs: nc.URLs()})
	require.NoError(t, err)
	defer conn.Close()
	obs, err := cluster.Open(context.Background(), conn, cluster.Options{Node: "observer"})
	require.NoError(t, err)
	var fps float64
	require.Eventually(t, func() bool {
		st, err := obs.Status(context.Background())
		if err != nil || len(st.Nodes) != 1 {
			return false
		}
		fps = st.Nodes[0].CapacityFPS
		return true
	}, hangTimeout, 50*time.Millisecond)
	require.Greater(t, fps, 0.0, "the heartbeat carries a measured capacity")
	require.LessOrEqual(t, fps, 50*(1-capacityHeadroom))
	require.NoError(t, stop())
}

// A node whose keyring lacks the key a camera URL was sealed with cannot
// run the camera, and its error says what to do without the sealed value
// or the URL; a node with the key opens it.
func TestClusterSpecNeedsTheSealingKey(t *testing.T) {
	api, err := secrets.NewKeyring("test", secrets.NewKey())
	require.NoError(t, err)
	other, err := secrets.NewKeyring("other", secrets.NewKey())
	require.NoError(t, err)
	const url = "rtsp://admin:hunter2@10.0.0.7/stream1"
	sealed, err := (&Service{secrets: api}).sealClusterURL("gate-1", url)
	require.NoError(t, err)
	spec, err := json.Marshal(config.Camera{ID: "gate-1", URL: sealed})
	require.NoError(t, err)
	raw, err := json.Marshal(cluster.CameraConfig{ID: "gate-1", Spec: spec})
	require.NoError(t, err)

	got, err := (&Service{secrets: api}).clusterSpec("gate-1", raw)
	require.NoError(t, err)
	require.Equal(t, url, got.URL)

	for _, s := range []*Service{{secrets: other}, {}} {
		_, err = s.clusterSpec("gate-1", raw)
		require.Error(t, err)
		require.NotContains(t, err.Error(), "hunter2")
		require.NotContains(t, err.Error(), sealed)
	}
	_, err = (&Service{secrets: other}).clusterSpec("gate-1", raw)
	require.ErrorContains(t, err, secrets.EnvKey)
	_, err = (&Service{secrets: api}).clusterSpec("gate-2", raw)
	require.Error(t, err, "a sealed URL cannot be moved to another camera")
}

// TestClusterWorkerRetriesACameraWhoseConfigIsLate: an assignment can
// reach a worker before the camera's config is readable where the worker
// reads it (a KV read may be answered by a replica that has not seen the
// put yet; here the config is simply written later). The worker shows
// the camera as unstarted, retries while the lease lasts, and runs it
// once the config is there: a leased camera is never silently idle.
func TestClusterWorkerRetriesACameraWhoseConfigIsLate(t *testing.T) {
	nc := clustertest.Start(t, 1, clustertest.Options{})
	model, err := NewRecordedModel(filepath.Join(lineCrossing, "tracks.txt"))
	require.NoError(t, err)
	base, svc, stop := startServiceOn(t, fmt.Sprintf(`version: 1
listen: "127.0.0.1:0"
data_dir: %s
cluster:
  node: late
  roles: [worker]
  replicas: 1
  nats: {urls: [%q]}
`, t.TempDir(), nc.URLs()[0]), Deps{Model: model}, nil)
	conn, err := cluster.Connect(context.Background(), cluster.NATSOptions{URLs: nc.URLs()})
	require.NoError(t, err)
	defer conn.Close()
	obs, err := cluster.Open(context.Background(), conn, cluster.Options{Node: "observer"})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		st, err := obs.Status(context.Background())
		return err == nil && len(st.Nodes) == 1
	}, hangTimeout, 50*time.Millisecond, "the worker's heartbeat")

	// The camera is assigned (as a coordinator would) before its config
	// exists.
	js, err := jetstream.New(conn)
	require.NoError(t, err)
	assign, err := js.KeyValue(context.Background(), cluster.BucketAssign)
	require.NoError(t, err)
	_, err = assign.Put(context.Background(), "gate-1", []byte(`{"node":"late"}`))
	require.NoError(t, err)
	const unstarted = `vigil_cluster_camera_unstarted{camera="gate-1"} 1`
	require.Eventually(t, func() bool { return strings.Contains(scrape(t, base), unstarted) },
		hangTimeout, 50*time.Millisecond, "the camera shown as leased but not started")
	require.Empty(t, svc.running())

	spec, err := json.Marshal(config.Camera{ID: "gate-1", URL: greyFrames(t, 31), FPS: 10, ImageFPS: 10})
	require.NoError(t, err)
	_, err = obs.Config().PutCamera(context.Background(), cluster.CameraConfig{ID: "gate-1", Spec: spec})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return len(svc.running()) == 1 && !strings.Contains(scrape(t, base), "vigil_cluster_camera_unstarted")
	}, hangTimeout, 50*time.Millisecond, "the camera started once its config was readable")
	require.NoError(t, stop())
}

func scrape(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(body)
}

// TestClusterOperatorVerdictsReachTheWorker: operators' verdicts are
// taken on an api node, but the alerts they act on are raised on the
// worker that runs the camera. A dismissal's suppression reaches the
// worker through the config bucket, and lifting it on the api node lifts
// it there too; a verdict on an anomaly alert is relayed to the worker's
// baseline.
func TestClusterOperatorVerdictsReachTheWorker(t *testing.T) {
	nc := clustertest.Start(t, 1, clustertest.Options{})
	model, err := NewRecordedModel(filepath.Join(lineCrossing, "tracks.txt"))
	require.NoError(t, err)
	node := func(name, roles string) (*Service, func() error) {
		_, svc, stop := startServiceOn(t, fmt.Sprintf(`version: 1
listen: "127.0.0.1:0"
data_dir: %s
cluster:
  node: %s
  roles: %s
  replicas: 1
  nats: {urls: [%q]}
`, t.TempDir(), name, roles, nc.URLs()[0]), Deps{Model: model}, nil)
		return svc, stop
	}
	worker, stopWorker := node("w1", "[worker]")
	api, stopAPI := node("console", "[api]") // no coordinator: the test places the camera itself

	ev := event.Event{Rule: "line_crossing", Name: "gate", Camera: "gate-1", Class: "person", Tracks: []int{3}, Start: 12, End: 12}
	require.Empty(t, worker.supp.Covering(ev))
	require.NoError(t, api.Verdict(context.Background(), store.Alert{ID: 7, State: store.StateFalseAlarm, Event: ev}, "otto"))
	ids := api.supp.Covering(ev)
	require.Len(t, ids, 1, "in force where it was taken")
	require.Eventually(t, func() bool { return slices.Equal(worker.supp.Covering(ev), ids) },
		hangTimeout, 20*time.Millisecond, "in force on the worker")

	require.NoError(t, api.Lift(context.Background(), ids[0]))
	require.Eventually(t, func() bool { return len(worker.supp.Covering(ev)) == 0 },
		hangTimeout, 20*time.Millisecond, "lifted on the worker")

	// An entry whose delete never happened (the api node that put it
	// restarted in between, forgetting what it had put) is deleted by the
	// next reconcile of any api node: the store, not memory, decides.
	require.NoError(t, api.Verdict(context.Background(), store.Alert{ID: 8, State: store.StateFalseAlarm, Event: ev}, "otto"))
	ids = api.supp.Covering(ev)
	require.Len(t, ids, 1)
	require.Eventually(t, func() bool { return slices.Equal(worker.supp.Covering(ev), ids) },
		hangTimeout, 20*time.Millisecond, "in force on the worker")
	require.Eventually(t, func() bool { return api.bucketSuppressions()[ids[0]] }, hangTimeout, 20*time.Millisecond,
		"the api node's watch saw its own entry")
	api.clu.sharing.Lock()
	clear(api.clu.shared) // as after a restart
	api.clu.sharing.Unlock()
	require.NoError(t, api.store.DeleteSuppression(context.Background(), ids[0]))
	api.shareSuppressions(context.Background())
	require.Eventually(t, func() bool { return len(worker.supp.Covering(ev)) == 0 },
		hangTimeout, 20*time.Millisecond, "a stale entry is deleted")

	// A verdict on an anomaly alert goes to the baseline that raised it,
	// on the worker the camera is assigned to: the worker's answer comes
	// back (here: the camera has not started there, having no config).
	anomaly := store.Alert{ID: 9, State: store.StateConfirmed, Event: event.Event{Rule: "anomaly", Name: "speed", Camera: "gate-1"}}
	err = api.Verdict(context.Background(), anomaly, "otto")
	require.ErrorIs(t, err, cluster.ErrNotRunning, "assigned to no node yet")
	conn, err := cluster.Connect(context.Background(), cluster.NATSOptions{URLs: nc.URLs()})
	require.NoError(t, err)
	defer conn.Close()
	js, err := jetstream.New(conn)
	require.NoError(t, err)
	assign, err := js.KeyValue(context.Background(), cluster.BucketAssign)
	require.NoError(t, err)
	_, err = assign.Put(context.Background(), "gate-1", []byte(`{"node":"w1"}`))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		err = api.Verdict(context.Background(), anomaly, "otto")
		return err != nil && strings.Contains(err.Error(), "node w1: ")
	}, hangTimeout, 20*time.Millisecond, "relayed to w1: %v", err)
	require.ErrorContains(t, err, "gate-1")
	require.NoError(t, stopAPI())
	require.NoError(t, stopWorker())
}

// A camera whose entry names a scene revision does not start until that
// revision of its scene, or a later one, can be read from the config
// bucket (the api node puts the scene first, but a read may reach a
// replica behind): it starts with its rules, never without them or with
// older ones. A camera whose entry names none starts without a scene. (CI
// once saw a replay camera play its whole file without rules, raising
// none of its alerts, when the worker's check looked for a scene path the
// api node never sends.)
func TestClusterWorkerStartsACameraWithItsScene(t *testing.T) {
	nc := clustertest.Start(t, 1, clustertest.Options{})
	model, err := NewRecordedModel(filepath.Join(lineCrossing, "tracks.txt"))
	require.NoError(t, err)
	_, svc, stop := startServiceOn(t, fmt.Sprintf(`version: 1
listen: "127.0.0.1:0"
data_dir: %s
cluster:
  node: w1
  roles: [worker]
  replicas: 1
  nats: {urls: [%q]}
`, t.TempDir(), nc.URLs()[0]), Deps{Model: model}, nil)
	yaml, err := os.ReadFile(filepath.Join(lineCrossing, "scene.yaml"))
	require.NoError(t, err)
	frames := greyFrames(t, 31)
	ctx := context.Background()
	require.Eventually(t, func() bool { return svc.clusterNode() != nil }, hangTimeout, 20*time.Millisecond, "joined")
	cfg := svc.clusterNode().Config()
	putCamera := func(id string, sceneRev uint64) cluster.Lease {
		spec, err := json.Marshal(config.Camera{ID: id, URL: frames, FPS: 10, ImageFPS: 10, Loop: true})
		require.NoError(t, err)
		_, err = cfg.PutCamera(ctx, cluster.CameraConfig{ID: id, Spec: spec, SceneRev: sceneRev})
		require.NoError(t, err)
		return cluster.Lease{Camera: id, Node: "w1", Fence: 1}
	}

	// No scene entry yet, one named: it waits.
	lease := putCamera("gate-1", 1)
	require.ErrorContains(t, svc.startLeased(ctx, lease), "scene is not readable yet")
	require.Empty(t, svc.running())

	// An older scene than the entry names: it waits.
	old, err := cfg.Put(ctx, cluster.ConfigScene, "gate-1", []byte(string(yaml)+"# old\n"))
	require.NoError(t, err)
	lease = putCamera("gate-1", old+2) // the scene put next
	require.ErrorContains(t, svc.startLeased(ctx, lease), fmt.Sprintf("revision %d read, %d written", old, old+2))
	require.Empty(t, svc.running())

	rev, err := cfg.Put(ctx, cluster.ConfigScene, "gate-1", yaml)
	require.NoError(t, err)
	require.Equal(t, old+2, rev)
	require.NoError(t, svc.startLeased(ctx, lease))
	require.Len(t, svc.running(), 1)
	v, err := svc.store.LatestScene(ctx, "gate-1")
	require.NoError(t, err)
	require.Equal(t, string(yaml), v.YAML, "started with its scene")

	// None named, none in the bucket: it starts without one.
	require.NoError(t, svc.startLeased(ctx, putCamera("gate-2", 0)))
	require.Len(t, svc.running(), 2)
	_, err = svc.store.LatestScene(ctx, "gate-2")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.NoError(t, stop())
}
