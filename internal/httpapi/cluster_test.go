package httpapi

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/auth"
	"github.com/vigil-cctv/vigil/internal/cluster"
)

type fakeCluster struct {
	st  cluster.Status
	err error
}

func (f fakeCluster) Status(context.Context) (cluster.Status, error) {
	// A fresh copy each time: the handler filters the maps it is given.
	st := f.st
	st.Cameras = map[string]string{}
	for k, v := range f.st.Cameras {
		st.Cameras[k] = v
	}
	st.DeadBySubject = map[string]uint64{}
	for k, v := range f.st.DeadBySubject {
		st.DeadBySubject[k] = v
	}
	return st, f.err
}

// GET /cluster shows every node's state to supervisors, 403 below them,
// 503 on a single node or when the cluster cannot be read; a user limited
// to camera groups sees only their cameras' placement and dead letters.
func TestClusterStatusRoute(t *testing.T) {
	hs := newHarness(t, Options{})
	requireError(t, hs.do("GET", "/api/v1/cluster", ""), http.StatusServiceUnavailable, codeUnavailable)

	f := fakeCluster{st: cluster.Status{Coordinator: "api-1",
		Nodes:         []cluster.NodeStatus{{NodeInfo: cluster.NodeInfo{Node: "w1", Roles: []string{"worker"}, CapacityFPS: 42, Cameras: 2}, Assigned: 2}},
		Cameras:       map[string]string{"north1": "w1", "south1": "w1"},
		Consumers:     map[string]cluster.ConsumerLag{"VIGIL_EVENTS": {Stream: "VIGIL_EVENTS", Pending: 3}},
		DeadLetters:   2,
		DeadBySubject: map[string]uint64{"vigil.dead.event.north1": 1, "vigil.dead.event.south1": 1}}}
	hs.h = New(Deps{Store: hs.store, Cameras: hs.cams, Auth: hs.auth.svc, Cluster: f}, Options{})
	got := readJSON[cluster.Status](t, hs.do("GET", "/api/v1/cluster", ""), http.StatusOK)
	require.Equal(t, f.st, got)
	for _, r := range []auth.Role{auth.Viewer, auth.Operator} {
		hs.role = r
		requireError(t, hs.do("GET", "/api/v1/cluster", ""), http.StatusForbidden, codeForbidden)
	}

	hs.role = auth.Admin
	for _, id := range []string{"north1", "south1"} {
		readJSON[cameraView](t, hs.do("POST", "/api/v1/cameras", `{"id":"`+id+`","url":"rtsp://h/`+id+`"}`), http.StatusCreated)
	}
	readJSON[auth.CameraGroup](t, hs.do("PUT", "/api/v1/groups/north", `{"cameras":["north1"]}`), http.StatusOK)
	readJSON[auth.User](t, hs.do("POST", "/api/v1/users", `{"name":"nora","role":"supervisor","groups":["north"],"password":"`+testPassword+`"}`), http.StatusCreated)
	sid, _, err := hs.auth.svc.Login(context.Background(), "nora", testPassword, "192.0.2.5:1", "")
	require.NoError(t, err)
	hs.auth.sessions[auth.Role(99)] = sid
	limited := readJSON[cluster.Status](t, hs.as(auth.Role(99)).do("GET", "/api/v1/cluster", ""), http.StatusOK)
	require.Equal(t, map[string]string{"north1": "w1"}, limited.Cameras)
	require.Equal(t, map[string]uint64{"vigil.dead.event.north1": 1}, limited.DeadBySubject)

	hs.h = New(Deps{Store: hs.store, Cameras: hs.cams, Auth: hs.auth.svc, Cluster: fakeCluster{err: errors.New("nats: timeout")}}, Options{})
	w := hs.do("GET", "/api/v1/cluster", "")
	requireError(t, w, http.StatusServiceUnavailable, codeUnavailable)
	require.Contains(t, w.Body.String(), "nats: timeout")
}
