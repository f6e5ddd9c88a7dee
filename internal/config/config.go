// Package config reads vigil.yaml, the service configuration of `vigil
// serve`: where to listen, which store, the detector, media retention and
// the cameras. Validation is strict and every error names file:line:column
// and the field, so a deployer fixes a file in one round.
package config

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"

	"github.com/vigil-cctv/vigil/internal/camurl"
	"github.com/vigil-cctv/vigil/internal/detect"
	"github.com/vigil-cctv/vigil/internal/ingest"
	"github.com/vigil-cctv/vigil/internal/yamlguard"
)

// Version is the only config version this build reads.
const Version = 1

// maxLanes bounds detector.lanes and its default, one lane per CPU: each
// lane holds its own sessions, about 100 MiB with yolov8n.
const maxLanes = 32

// Config is vigil.yaml.
type Config struct {
	Version  int      `yaml:"version"`
	Listen   string   `yaml:"listen"`
	DataDir  string   `yaml:"data_dir"`
	Store    Store    `yaml:"store"`
	Detector Detector `yaml:"detector"`
	Media    Media    `yaml:"media"`
	Cameras  []Camera `yaml:"cameras"`
	Live     LiveView `yaml:"live"`
	Anomaly  Anomaly  `yaml:"anomaly"`
	Feedback Feedback `yaml:"feedback"`
	Sources  Sources  `yaml:"sources"`
	HTTP     HTTP     `yaml:"http"`
	Limits   Limits   `yaml:"limits"`
	Cluster  *Cluster `yaml:"cluster"` // nil: one process, no broker
	// Incidents: protocols, destinations and delivery (incidents.go).
	Incidents Incidents `yaml:"incidents"`
	Auth      Auth      `yaml:"auth"`
	// MonitorListen, when set, serves /metrics, /healthz and /readyz on
	// this host:port only (and not on Listen).
	MonitorListen string `yaml:"monitor_listen"`
	file          string // the path it was read from
}

// Store selects the database.
type Store struct {
	Driver string `yaml:"driver"` // sqlite (default) or postgres
	DSN    string `yaml:"dsn"`    // sqlite: file (default <data_dir>/vigil.db); postgres: URL
}

// modelSizes are the cached models detector.model_size and --model-size
// name: the file is yolov8<size>.onnx.
var modelSizes = []string{"n", "s", "m", "n-int8"}

// Detector configures the shared detector.
type Detector struct {
	Model string `yaml:"model"`
	// ModelSize names a model of make setup's cache when Model is unset:
	// n (default), s, m, or n-int8 — yolov8n quantised to int8 at setup,
	// about a third cheaper to run on a CPU at the float model's accuracy
	// (README, "The int8 model").
	ModelSize string `yaml:"model_size"`
	ORTLib    string `yaml:"ort_lib"`
	// Threads are each lane's intra-op threads (default 1).
	Threads int `yaml:"threads"`
	// Lanes are the detector sessions inferring in parallel, each its own
	// ONNX Runtime session run by one goroutine (default: one per CPU).
	// One single-threaded session per core infers 1.4× (whole frames) to
	// 1.9× (crops) more per second on 2 cores than one session with 2
	// threads: a small model's operators scale poorly across threads.
	Lanes     int     `yaml:"lanes"`
	InputSize string  `yaml:"input_size"` // auto or WxH
	Conf      float32 `yaml:"conf"`
	NMSIoU    float64 `yaml:"nms_iou"`
	// EveryFrame detects the whole of every analysed frame of a live
	// camera instead of following the detection plan (regions around
	// motion and tracks, frames carried by the tracker; issue 14).
	EveryFrame bool `yaml:"every_frame"`
	// RegionSize is the input side of the region detector (default 320;
	// -1: no region detector, the plan detects whole frames or carries).
	RegionSize int `yaml:"region_size"`
	// Recorded, when set, replaces the model by recorded detections: a
	// MOTChallenge file or `vigil analyze --jsonl` output, frame n of every
	// camera getting the file's frame n (class person for MOT rows). For
	// replay cameras in tests and benchmarks: the analysis chain runs in
	// full, nothing is inferred.
	Recorded string `yaml:"recorded"`
	// ReIDModel, when set, is the OSNet re-identification model (e.g.
	// ../shared/models/osnet_x0_25_msmt17.dynbatch.onnx) that embeds each
	// person track's best crops for "more like this" in suspect search;
	// unset, search filters and ranks by attributes only.
	ReIDModel string `yaml:"reid_model"`
}

// Media bounds what snapshots and clips may use on disk.
type Media struct {
	MaxAge   Duration `yaml:"max_age"`
	MaxBytes int64    `yaml:"max_bytes"`
	// MinFreeBytes is the free space the janitor keeps on the media disk,
	// deleting the oldest media below it; /readyz fails while it cannot
	// (default 1 GiB; 0 in the file means the default, -1 none).
	MinFreeBytes int64    `yaml:"min_free_bytes"`
	PreRoll      Duration `yaml:"pre_roll"`
	PostRoll     Duration `yaml:"post_roll"`
	// NoClips turns alert clips off (snapshots stay): each clip is an
	// ffmpeg encoder, the largest per-alert cost of a node.
	NoClips bool `yaml:"no_clips"`
	// Recording keeps RTSP and ONVIF cameras' compressed video on disk,
	// so that any track — one found by the suspect search that raised no
	// alert — has its clip.
	Recording Recording `yaml:"recording"`
}

// Recording bounds the cameras' recordings (<data_dir>/recordings/<camera>).
// They are the first video to give way: a recording pauses while the disk
// has less free than media.min_free_bytes, so alert evidence keeps room.
type Recording struct {
	Off      bool     `yaml:"off"`
	Retain   Duration `yaml:"retain"`    // default 24h
	MaxBytes int64    `yaml:"max_bytes"` // per camera; default 2 GiB
}

// LiveView tunes the MJPEG streams.
type LiveView struct {
	FPS     float64 `yaml:"fps"`
	Quality int     `yaml:"quality"`
	// Debug draws the detection plan's decision on the live views: the
	// mode, its reason and the crops detected.
	Debug bool `yaml:"debug"`
}

// Camera is one source.
type Camera struct {
	ID        string  `yaml:"id"`
	Name      string  `yaml:"name"`
	URL       string  `yaml:"url"` // rtsp://, a file, an image directory, or onvif http(s)://
	Transport string  `yaml:"transport"`
	Loop      bool    `yaml:"loop"`
	FPS       float64 `yaml:"fps"`
	ImageFPS  float64 `yaml:"image_fps"`
	Scene     string  `yaml:"scene"`
	Classes   string  `yaml:"classes"`
	Disabled  bool    `yaml:"disabled"`
	Profile   string  `yaml:"onvif_profile"`
	// StartTime is the wall-clock time of a recorded file's first frame
	// (RFC 3339): the camera clock that rule schedules and hour-of-week
	// learning read. Without it a file camera's clock starts when it does.
	StartTime string `yaml:"start_time"`
	// Recorded, when set, makes this a replay camera: its frames get the
	// file's recorded detections (as detector.recorded does for every
	// camera) while the node's model detects its other cameras. Files
	// only: a replay camera's frame n is the file's frame n.
	Recorded string `yaml:"recorded"`
}

// Epoch is the parsed StartTime (zero when unset).
func (cam Camera) Epoch() time.Time {
	t, _ := time.Parse(time.RFC3339, cam.StartTime)
	return t
}

// Anomaly configures the per-camera learned baseline (internal/baseline).
type Anomaly struct {
	// Disabled turns anomaly alerts off; the baseline is then not learned.
	Disabled bool `yaml:"disabled"`
	// Warmup is the streaming time a camera observes before its first
	// anomaly alert.
	Warmup Duration `yaml:"warmup"`
	// BudgetPerHour is the target number of anomaly alerts per camera-hour
	// the thresholds are calibrated to.
	BudgetPerHour float64 `yaml:"budget_per_hour"`
	// HalfLife is how fast old observations fade.
	HalfLife Duration `yaml:"half_life"`
	// SaveEvery is how often each camera's baseline is persisted.
	SaveEvery Duration `yaml:"save_every"`
	// MotionDisabled turns off the motion cue: strong motion, unusual for
	// the place, that no track explains (optical flow on every analysed
	// frame, about 6 ms at 768×576).
	MotionDisabled bool `yaml:"motion_disabled"`
}

// Feedback configures what operators' verdicts do.
type Feedback struct {
	// SuppressFor is how long a dismissed situation stays suppressed.
	SuppressFor Duration `yaml:"suppress_for"`
}

// Duration reads Go duration strings ("30s", "168h").
type Duration time.Duration

// UnmarshalYAML parses a duration string.
func (d *Duration) UnmarshalYAML(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"'`)
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q (use e.g. 30s, 15m, 168h)", s)
	}
	*d = Duration(v)
	return nil
}

// limits bound the YAML before it is decoded (see package yamlguard): a
// config nests four levels deep and is a few kilobytes even with hundreds
// of cameras.
var limits = yamlguard.Limits{MaxBytes: 4 << 20, MaxDepth: 32, MaxAliases: 10000, MaxExpanded: 1_000_000}

// Load reads and validates a config file.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, int64(limits.MaxBytes)+1))
	if err != nil {
		return nil, err
	}
	return Parse(data, path)
}

// Parse decodes and validates; errors are file:line:column: field: message.
// A file too large, too deeply nested or expanding too far through aliases
// is refused before it is decoded.
func Parse(data []byte, name string) (*Config, error) {
	if err := guard(data); err != nil {
		return nil, fmt.Errorf("%s:%v", name, err)
	}
	var c Config
	if err := yaml.UnmarshalWithOptions(data, &c, yaml.DisallowUnknownField(), yaml.Strict()); err != nil {
		return nil, fmt.Errorf("%s:%s", name, oneLine(yaml.FormatError(err, false, false)))
	}
	c.file = name
	c.defaults()
	if errs := c.validate(); len(errs) > 0 {
		return nil, locate(data, name, errs)
	}
	return &c, nil
}

// guard applies limits to the text, then to what its aliases expand to.
func guard(data []byte) error {
	if err := yamlguard.Scan(data, limits); err != nil {
		return err
	}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil // the decoder reports syntax errors with their position
	}
	for _, doc := range f.Docs {
		if err := yamlguard.Expansion(doc, limits.MaxExpanded); err != nil {
			return err
		}
	}
	return nil
}

// oneLine keeps goccy's "[line:col] message" without the source excerpt.
func oneLine(s string) string {
	first := strings.SplitN(strings.TrimSpace(s), "\n", 2)[0]
	first = strings.TrimPrefix(first, "[")
	if i := strings.Index(first, "] "); i >= 0 {
		return first[:i] + ": " + first[i+2:]
	}
	return " " + first
}

func (c *Config) defaults() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if c.DataDir == "" {
		c.DataDir = "data"
	}
	if c.Store.Driver == "" {
		c.Store.Driver = "sqlite"
	}
	if c.Detector.Threads == 0 {
		c.Detector.Threads = 1
	}
	if c.Detector.Lanes == 0 {
		c.Detector.Lanes = min(runtime.NumCPU(), maxLanes)
	}
	if c.Detector.ModelSize == "" {
		c.Detector.ModelSize = "n"
	}
	if c.Detector.InputSize == "" {
		c.Detector.InputSize = "auto"
	}
	if c.Detector.Conf == 0 {
		c.Detector.Conf = 0.1
	}
	if c.Detector.NMSIoU == 0 {
		c.Detector.NMSIoU = 0.6
	}
	if c.Media.MaxAge == 0 {
		c.Media.MaxAge = Duration(7 * 24 * time.Hour)
	}
	if c.Media.MaxBytes == 0 {
		c.Media.MaxBytes = 10 << 30
	}
	if c.Media.MinFreeBytes == 0 {
		c.Media.MinFreeBytes = 1 << 30
	}
	if c.Media.PreRoll == 0 {
		c.Media.PreRoll = Duration(3 * time.Second)
	}
	if c.Media.PostRoll == 0 {
		c.Media.PostRoll = Duration(3 * time.Second)
	}
	if c.Media.Recording.Retain == 0 {
		c.Media.Recording.Retain = Duration(24 * time.Hour)
	}
	if c.Media.Recording.MaxBytes == 0 {
		c.Media.Recording.MaxBytes = 2 << 30
	}
	if c.Live.FPS == 0 {
		c.Live.FPS = 5
	}
	if c.Live.Quality == 0 {
		c.Live.Quality = 70
	}
	c.Anomaly.defaults()
	c.HTTP.defaults()
	c.Limits.defaults()
	if c.Cluster != nil {
		c.Cluster.defaults()
	}
	c.Incidents.defaults()
	c.Auth.defaults()
	if c.Feedback.SuppressFor == 0 {
		c.Feedback.SuppressFor = Duration(24 * time.Hour)
	}
	for i := range c.Cameras {
		cam := &c.Cameras[i]
		if cam.Name == "" {
			cam.Name = cam.ID
		}
		if cam.Transport == "" {
			cam.Transport = "tcp"
		}
		if cam.Classes == "" {
			cam.Classes = "all"
		}
	}
}

func (a *Anomaly) defaults() {
	if a.Warmup == 0 {
		a.Warmup = Duration(30 * time.Minute)
	}
	if a.BudgetPerHour == 0 {
		a.BudgetPerHour = 2
	}
	if a.HalfLife == 0 {
		a.HalfLife = Duration(7 * 24 * time.Hour)
	}
	if a.SaveEvery == 0 {
		a.SaveEvery = Duration(time.Minute)
	}
}

// fieldError is a validation problem at a YAML path such as
// "$.cameras[1].url".
type fieldError struct {
	path string
	msg  string
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

func (c *Config) validate() []fieldError {
	var errs []fieldError
	add := func(path, format string, args ...any) {
		errs = append(errs, fieldError{path: path, msg: fmt.Sprintf(format, args...)})
	}
	if c.Version != Version {
		add("$.version", "unsupported version %d (this build reads version %d)", c.Version, Version)
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		add("$.listen", "want host:port, got %q", c.Listen)
	}
	if c.Store.Driver != "sqlite" && c.Store.Driver != "postgres" {
		add("$.store.driver", "unknown driver %q (want sqlite or postgres)", c.Store.Driver)
	}
	if c.Store.Driver == "postgres" && c.Store.DSN == "" {
		add("$.store.dsn", "postgres needs a dsn (postgres://user:pass@host/db)")
	}
	if c.Detector.Threads < 1 || c.Detector.Threads > 64 {
		add("$.detector.threads", "must be 1..64, got %d", c.Detector.Threads)
	}
	if c.Detector.Lanes < 1 || c.Detector.Lanes > maxLanes {
		add("$.detector.lanes", "must be 1..%d, got %d", maxLanes, c.Detector.Lanes)
	}
	if !slices.Contains(modelSizes, c.Detector.ModelSize) {
		add("$.detector.model_size", "unknown size %q (want one of %s)", c.Detector.ModelSize, strings.Join(modelSizes, ", "))
	}
	if c.Detector.Conf <= 0 || c.Detector.Conf >= 1 {
		add("$.detector.conf", "must be in (0,1), got %v", c.Detector.Conf)
	}
	if c.Media.MinFreeBytes < -1 {
		add("$.media.min_free_bytes", "must be -1 (none) or more, got %d", c.Media.MinFreeBytes)
	}
	if c.Media.Recording.Retain < Duration(time.Minute) {
		add("$.media.recording.retain", "must be at least 1m, got %v", time.Duration(c.Media.Recording.Retain))
	}
	if c.Media.Recording.MaxBytes < 64<<20 {
		add("$.media.recording.max_bytes", "must be at least 64 MiB (67108864), got %d", c.Media.Recording.MaxBytes)
	}
	if c.Live.FPS <= 0 || c.Live.FPS > 30 {
		add("$.live.fps", "must be in (0,30], got %v", c.Live.FPS)
	}
	if c.Live.Quality < 1 || c.Live.Quality > 100 {
		add("$.live.quality", "must be 1..100, got %d", c.Live.Quality)
	}
	if c.Anomaly.Warmup < 0 {
		add("$.anomaly.warmup", "must not be negative")
	}
	if c.Anomaly.BudgetPerHour <= 0 || c.Anomaly.BudgetPerHour > 3600 {
		add("$.anomaly.budget_per_hour", "must be in (0,3600], got %v", c.Anomaly.BudgetPerHour)
	}
	if c.Anomaly.HalfLife < Duration(time.Hour) {
		add("$.anomaly.half_life", "must be at least 1h, got %v", time.Duration(c.Anomaly.HalfLife))
	}
	if c.Anomaly.SaveEvery < Duration(time.Second) {
		add("$.anomaly.save_every", "must be at least 1s, got %v", time.Duration(c.Anomaly.SaveEvery))
	}
	if c.Feedback.SuppressFor < Duration(time.Minute) {
		add("$.feedback.suppress_for", "must be at least 1m, got %v", time.Duration(c.Feedback.SuppressFor))
	}
	errs = append(errs, c.Sources.validate()...)
	errs = append(errs, c.HTTP.validate()...)
	errs = append(errs, c.Limits.validate()...)
	if c.Cluster != nil {
		c.Cluster.validate(add)
	}
	errs = append(errs, c.Incidents.validate()...)
	errs = append(errs, c.Auth.validate(c.Listen)...)
	if c.MonitorListen != "" {
		if _, _, err := net.SplitHostPort(c.MonitorListen); err != nil {
			add("$.monitor_listen", "want host:port, got %q", c.MonitorListen)
		} else if c.MonitorListen == c.Listen {
			add("$.monitor_listen", "must differ from listen")
		}
	}
	seen := map[string]bool{}
	for i, cam := range c.Cameras {
		errs = append(errs, cam.validate(fmt.Sprintf("$.cameras[%d]", i), seen)...)
	}
	return errs
}

func (cam Camera) validate(p string, seen map[string]bool) []fieldError {
	var errs []fieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, fieldError{path: p + field, msg: fmt.Sprintf(format, args...)})
	}
	switch {
	case !idPattern.MatchString(cam.ID):
		add(".id", "camera id %q must be 1-64 of a-z, 0-9, '-', '_' (starting with a letter or digit)", cam.ID)
	case seen[cam.ID]:
		add(".id", "duplicate camera id %q", cam.ID)
	}
	seen[cam.ID] = true
	if err := ValidateURL(cam.URL); err != nil {
		add(".url", "%v", err)
	}
	if cam.Transport != "tcp" && cam.Transport != "udp" {
		add(".transport", "want tcp or udp, got %q", cam.Transport)
	}
	if cam.FPS < 0 || cam.FPS > 60 {
		add(".fps", "must be 0 (native) to 60, got %v", cam.FPS)
	}
	if _, err := detect.ParseClassSet(cam.Classes); err != nil {
		add(".classes", "%v", err)
	}
	if cam.Recorded != "" && strings.Contains(cam.URL, "://") {
		add(".recorded", "is for recorded files; a stream's frames have no recorded detections")
	}
	if cam.StartTime != "" {
		if _, err := time.Parse(time.RFC3339, cam.StartTime); err != nil {
			add(".start_time", "want an RFC 3339 time such as 2026-03-01T23:00:00+01:00, got %q", cam.StartTime)
		} else if strings.Contains(cam.URL, "://") {
			add(".start_time", "is for recorded files; a stream's clock is the time its frames arrive")
		}
	}
	return errs
}

// ValidateURL accepts rtsp(s):// stream URLs, onvif device URLs
// (http(s)://), replay sources (replay:frames=N,…) and local paths;
// errors never echo a password.
func ValidateURL(u string) error {
	switch {
	case u == "":
		return errors.New("missing url")
	case strings.HasPrefix(u, "rtsp://"), strings.HasPrefix(u, "rtsps://"):
		return camurl.ValidateRTSP(u)
	case strings.HasPrefix(u, "http://"), strings.HasPrefix(u, "https://"):
		return nil // ONVIF device service; checked when connecting
	case strings.Contains(u, "://"):
		return fmt.Errorf("unsupported URL %s (want rtsp://, rtsps://, an ONVIF http(s):// address or a file path)", camurl.Redact(u))
	case ingest.IsReplay(u):
		_, err := ingest.ParseReplay(u) // frames made in process (package ingest)
		return err
	}
	return nil
}

// File is the path the config was read from.
func (c *Config) File() string { return c.file }

// locate turns field errors into "file:line:col: field: message" lines.
func locate(data []byte, name string, errs []fieldError) error {
	f, _ := parser.ParseBytes(data, 0)
	lines := make([]string, len(errs))
	for i, e := range errs {
		field := strings.TrimPrefix(e.path, "$.")
		pos := "1:1"
		if f != nil {
			if p, err := yaml.PathString(e.path); err == nil {
				if n, err := p.FilterFile(f); err == nil && n != nil {
					t := n.GetToken()
					pos = fmt.Sprintf("%d:%d", t.Position.Line, t.Position.Column)
				}
			}
		}
		lines[i] = fmt.Sprintf("%s:%s: %s: %s", name, pos, field, e.msg)
	}
	return errors.New(strings.Join(lines, "\n"))
}
