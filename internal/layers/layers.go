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
	"geom": 0, "event": 0, "assign": 0, "motion": 0, "onvif": 0, "videoout": 0, "auth": 0, "web": 0,
	"decode": 0, "ingest/rtsptest": 0, "layers": 0,
	// Build and CI tools (make test's skip checker, the CI scripts' tests).
	"tools/testskips": 0, "tools/citest": 0,
	// Domain vocabulary on top of those.
	"detect": 1, "motfile": 1, "footpath": 1, "store": 1, "ingest": 1, "eventeval": 1, "trafficref": 1,
	"render": 2, "scene": 2, "track": 2, "moteval": 2, "suppress": 2, "config": 2, "detect/onnx": 2,
	"store/internal/sqlstore": 2, "store/storetest": 2,
	// What turns tracks into events, and the stores.
	"scenedraw": 3, "rules": 3, "baseline": 3, "store/sqlite": 3, "store/postgres": 3,
	// The one per-camera analysis chain, and the pictures of its events.
	"analysis": 4, "snapshot": 4,
	// Running the chain: media around it, the file pipeline, file outputs.
	"media": 5, "pipeline": 5, "output": 6,
	// The HTTP API, the service that runs cameras, the command line.
	"httpapi": 7, "service": 8, "cli": 9,
}
