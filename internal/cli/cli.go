// Package cli is Vigil's command line: it parses flags, resolves files and
// wires the domain packages together. It holds no analysis logic itself.
package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"
)

// Version is set at build time with -ldflags "-X ...cli.Version=...".
var Version = "dev"

type root struct {
	LogLevel string `help:"Log level: debug, info, warn, error." default:"info" enum:"debug,info,warn,error"`

	Analyze     analyzeCmd      `cmd:"" help:"Detect and track people and vehicles in a video, image sequence or RTSP stream."`
	Eval        evalCmd         `cmd:"" help:"Score results against ground truth."`
	Serve       serveCmd        `cmd:"" help:"Run the always-on service: many cameras, alerts stored and served over HTTP."`
	Cameras     camerasCmd      `cmd:"" help:"Camera tools (ONVIF discovery)."`
	Scene       sceneCmd        `cmd:"" help:"Check and draw scene files (zones, lines, lanes, calibration, rules)."`
	Search      searchCmd       `cmd:"" help:"Suspect search: find stored tracks by colours, carried objects, heading, time and camera, or by likeness to a track."`
	Baseline    baselineCmd     `cmd:"" help:"Inspect a learned baseline: heatmaps and state."`
	Bench       benchCmd        `cmd:"" help:"Measure decode, detector, tracker and full-pipeline speed on one input."`
	Detplan     benchDetplanCmd `cmd:"" name:"bench-detplan" help:"Measure the detection policy: analysed fps per core and MOTA, every frame vs policy."`
	BenchSearch benchSearchCmd  `cmd:"" name:"bench-search" help:"Measure suspect search at scale: write realistic track records, build the index, time attribute and similarity queries on SQLite (and PostgreSQL)."`
	Secrets     secretsCmd      `cmd:"" help:"Manage the key that encrypts camera credentials at rest."`
	Cluster     clusterCmd      `cmd:"" help:"City-scale cluster tools (status)."`
	User        userCmd         `cmd:"" help:"Manage console users: add, passwd, disable, enable, list."`
	Token       tokenCmd        `cmd:"" help:"Manage API tokens for machine clients: create, revoke, list."`
	Version     versionCmd      `cmd:"" help:"Print the version."`
}

type evalCmd struct {
	MOT        evalMOTCmd        `cmd:"" name:"mot" help:"CLEAR-MOT, identity (IDF1) and HOTA metrics of a MOTChallenge track file."`
	ReID       evalReIDCmd       `cmd:"" name:"reid" help:"Re-identification rank-1 and mAP: segments of each ground-truth identity retrieved among the others."`
	Events     evalEventsCmd     `cmd:"" help:"Event-level precision, recall and F1 per rule."`
	Ped2       evalPed2Cmd       `cmd:"" name:"ped2" help:"Frame-level anomaly ROC AUC on UCSD Ped2 (learn on Train, score Test)."`
	Anomaly    evalAnomalyCmd    `cmd:"" help:"Learn a camera's baseline from replayed tracks; count anomaly alerts per camera-hour and on other footage."`
	Motion     evalMotionCmd     `cmd:"" help:"Loop normal footage with its tracks through the motion cue; count its alerts per camera-hour."`
	Attributes evalAttributesCmd `cmd:"" help:"Accuracy per attribute (clothing colours, carried objects) of the PETS09 identities against testdata/attributes."`
	Traffic    evalTrafficCmd    `cmd:"" help:"Score wrong-way alerts on the highway against hand-labelled vehicles."`
	Queue      evalQueueCmd      `cmd:"" help:"Replay each file camera of a config for hours through the analysis chain and the alert protocols; count events and queue items per camera-hour."`
}

type versionCmd struct{}

func (versionCmd) Run(e *env) error {
	fmt.Fprintln(e.stdout, "vigil", Version)
	return nil
}

// env carries what commands need instead of globals.
type env struct {
	ctx    context.Context
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
}

// Main runs the command line and returns the process exit code: 0 on
// success, 1 on a failed run, 2 on a usage error.
func Main(args []string, stdout, stderr io.Writer) (code int) {
	var cli root
	// kong exits the process after --help; turn that into a return so
	// Main stays testable and deferred cleanup runs.
	type exit struct{ code int }
	defer func() {
		if r := recover(); r != nil {
			ex, ok := r.(exit)
			if !ok {
				panic(r)
			}
			code = ex.code
		}
	}()
	parser, err := kong.New(&cli, kong.Name("vigil"),
		kong.Description("Vigil: CCTV video analytics — detection, tracking and alerts."),
		kong.Writers(stdout, stderr), kong.Exit(func(c int) { panic(exit{c}) }))
	if err != nil {
		fmt.Fprintln(stderr, "vigil:", err)
		return 2
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintln(stderr, "vigil:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{ctx: ctx, stdout: stdout, stderr: stderr, log: newLogger(stderr, cli.LogLevel)}
	if err := kctx.Run(e); err != nil {
		fmt.Fprintln(stderr, "vigil:", err)
		return 1
	}
	return 0
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// printJSON writes v as indented JSON: every --json report looks alike.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
