// Package layers declares how Vigil's packages stack: each sits on a
// level, and a package may import only packages on lower levels, so the
// domain packages never reach up into the service, the API or the command
// line. The test in this package checks every internal import against
// the table; a new package must be given its level here.
package layers

// Levels maps each package under internal/ to its level (0 is the
// bottom).
var Levels = map[string]int{
	// Plain data, maths and leaf adapters.
	"geom": 0, "event": 0, "assign": 0, "motion": 0, "onvif": 0, "videoout": 0, "camurl": 0, "yamlguard": 0,
	"secrets": 0, "search": 0, "httpserver": 0, "ingest/rtsptest": 0, "cluster/clustertest": 0, "layers": 0,
	// Domain vocabulary on top of those.
	"decode": 1, "detect": 1, "motfile": 1, "footpath": 1, "store": 1, "eventeval": 1, "detplan": 1, "deliver": 1,
	"sourcepolicy": 1, "spool": 1,
	"ingest": 2, "media/segring": 2, "media/segring/segringtest": 2, "media/record": 3, "live": 2, "render": 2, "live/livetest": 3, "scene": 2, "track": 2, "moteval": 2, "suppress": 2, "detect/onnx": 2, "capacity": 2, "reid": 3, "reideval": 4,
	// Build and CI tools (make test's skip checker, the CI scripts' tests).
	"tools/testskips": 0, "tools/citest": 0, "tools/int8calib": 3, "trafficref": 2,
	// What turns tracks into events; configuration; alert protocols.
	"scenedraw": 3, "attrs": 3, "rules": 3, "baseline": 3, "config": 3, "protocol": 3, "auth": 3, "web": 4,
	// The one per-camera analysis chain, the pictures of its events, the
	// operator queue (incidents), the city-scale cluster.
	"analysis": 4, "snapshot": 4, "incident": 4, "cluster": 4,
	// The stores implement the domain packages' storage interfaces.
	"store/internal/sqlstore": 5, "store/sqlite": 6, "store/postgres": 6, "store/storetest": 6,
	// Running the chain: media around it, the file pipeline, file outputs.
	"media": 5, "pipeline": 5, "output": 6, "cluster/replay": 5,
	// The HTTP API, the service that runs cameras, the command line.
	"httpapi": 7, "service": 8, "cli": 9,
}
