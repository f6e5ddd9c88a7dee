package httpapi

import (
	"context"
	"maps"
	"net/http"
	"strings"

	"github.com/vigil-cctv/vigil/internal/cluster"
)

// ClusterStatus reads the cluster as this node sees it: live nodes with
// their roles, capacity and cameras, where each camera runs, the api
// consumer's lag per stream and the dead letters (what `vigil cluster
// status` prints).
type ClusterStatus interface {
	Status(ctx context.Context) (cluster.Status, error)
}

// getCluster answers GET /api/v1/cluster: every node's state and health
// in one place. A user limited to camera groups sees only their cameras'
// placement and dead letters.
func (a *api) getCluster(w http.ResponseWriter, r *http.Request) error {
	if a.deps.Cluster == nil {
		return unavailable("this server is not part of a cluster")
	}
	st, err := a.deps.Cluster.Status(r.Context())
	if err != nil {
		return unavailable("cluster status: %v", err)
	}
	ctx := r.Context()
	maps.DeleteFunc(st.Cameras, func(camera, _ string) bool { return !canSee(ctx, camera) })
	maps.DeleteFunc(st.DeadBySubject, func(subject string, _ uint64) bool {
		return !canSee(ctx, subject[strings.LastIndexByte(subject, '.')+1:])
	})
	writeJSON(w, http.StatusOK, st)
	return nil
}
