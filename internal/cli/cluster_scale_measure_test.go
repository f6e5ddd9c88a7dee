package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/cluster"
)

// scaleFigures are one window's measurements.
type scaleFigures struct {
	window     time.Duration
	alerts     int       // alert rows inserted in the window
	rowLatency []float64 // seconds, event raise → PostgreSQL row
	sseLatency []float64 // seconds, event raise → SSE message received
	maxLag     uint64    // consumer pending + ack pending, summed over streams
	endLag     uint64
	maxLagBy   map[string]uint64 // the same, per stream
	procs      []procFigures
	workerFPS  map[string][]float64 // node → analysed fps of each camera it kept all window
	unplaced   int                  // cameras without a node at the end
	moved      int                  // cameras whose node changed in the window
}

// procFigures are one process's CPU and memory, with its ffmpeg children.
type procFigures struct {
	name              string
	cores, childCores float64
	rssMiB, childMiB  float64
	children          int
}

// measure samples everything over the window.
func (r *scaleRun) measure(t *testing.T, window time.Duration) scaleFigures {
	ctx := context.Background()
	st0 := r.status(t)
	frames0 := r.frames()
	cpu0 := r.cpu()
	r.sse.reset()
	var start time.Time
	require.NoError(t, r.db.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&start))
	f := scaleFigures{window: window, maxLagBy: map[string]uint64{}}
	for deadline := time.Now().Add(window); time.Now().Before(deadline); {
		time.Sleep(2 * time.Second) // the sampling period
		f.endLag = r.lag(t, f.maxLagBy)
		f.maxLag = max(f.maxLag, f.endLag)
	}
	var end time.Time
	require.NoError(t, r.db.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&end))
	f.window = end.Sub(start)
	f.sseLatency = r.sse.latencies()
	f.procs = r.procFigures(cpu0, f.window)
	st1 := r.status(t)
	f.workerFPS, f.moved = keptFPS(frames0, r.frames(), st0.Cameras, st1.Cameras, f.window)
	for _, node := range st1.Cameras {
		if node == "" {
			f.unplaced++
		}
	}
	f.alerts, f.rowLatency = r.rowLatencies(t, start, end)
	return f
}

// lag sums pending and unacknowledged messages over the api consumers,
// keeping each stream's largest in maxBy.
func (r *scaleRun) lag(t *testing.T, maxBy map[string]uint64) uint64 {
	st := r.status(t)
	var lag uint64
	for stream, c := range st.Consumers {
		n := c.Pending + uint64(max(c.AckPending, 0))
		lag += n
		maxBy[stream] = max(maxBy[stream], n)
	}
	return lag
}

// status reads the cluster status, retried: on a busy box a JetStream
// call may exceed its timeout.
func (r *scaleRun) status(t *testing.T) cluster.Status {
	var st cluster.Status
	retry(t, "cluster status", func(ctx context.Context) error {
		var err error
		st, err = r.obs.Status(ctx)
		return err
	})
	return st
}

// rowLatencies reads the alerts inserted in [start, end) and their delay
// from the event's raise time (its camera clock, the frame's wall time).
func (r *scaleRun) rowLatencies(t *testing.T, start, end time.Time) (int, []float64) {
	rows, err := r.db.Query(context.Background(),
		`SELECT extract(epoch FROM bench_at - (event_json->>'at')::timestamptz) FROM alerts
		 WHERE bench_at >= $1 AND bench_at < $2 AND event_json ? 'at'`, start, end)
	require.NoError(t, err)
	defer rows.Close()
	var out []float64
	for rows.Next() {
		var s float64
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	var n int
	require.NoError(t, r.db.QueryRow(context.Background(),
		`SELECT count(*) FROM alerts WHERE bench_at >= $1 AND bench_at < $2`, start, end).Scan(&n))
	return n, out
}

// frames reads every worker's analysed-frame counter per camera.
func (r *scaleRun) frames() map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	for _, w := range r.workers {
		out[w.node] = analysedFrames(w.addr)
	}
	return out
}

// keptFPS is each worker's analysed fps per camera over the window, for
// the cameras it held at both ends; moved counts the others.
func keptFPS(before, after map[string]map[string]float64, placed0, placed1 map[string]string, window time.Duration) (map[string][]float64, int) {
	out := map[string][]float64{}
	moved := 0
	for cam, node := range placed1 {
		if placed0[cam] != node || node == "" {
			moved++
			continue
		}
		n0, ok0 := before[node][cam]
		n1, ok1 := after[node][cam]
		if !ok0 || !ok1 || n1 < n0 {
			moved++
			continue
		}
		out[node] = append(out[node], (n1-n0)/window.Seconds())
	}
	return out, moved
}

var analysedMetric = regexp.MustCompile(`^vigil_frames_total\{camera="([^"]+)",stage="analysed"\} (\S+)`)

// analysedFrames reads a node's analysed-frame counters by camera.
func analysedFrames(addr string) map[string]float64 {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil // not serving yet
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if m := analysedMetric.FindStringSubmatch(sc.Text()); m != nil {
			out[m[1]], _ = strconv.ParseFloat(m[2], 64)
		}
	}
	return out
}

// procCPU is CPU seconds by pid: a process's own and its children's.
type procCPU map[int][2]float64

func (r *scaleRun) pids() map[string]int {
	out := map[string]int{"bench (NATS ×3)": os.Getpid()}
	for _, p := range append(append([]*vigilProc{}, r.workers...), r.api) {
		out[p.node] = p.cmd.Process.Pid
	}
	return out
}

func (r *scaleRun) cpu() procCPU {
	out := procCPU{}
	for _, pid := range r.pids() {
		out[pid] = [2]float64{procStat(pid).cpu, ffmpegOf(pid).cpu}
	}
	return out
}

// procFigures turns CPU seconds into cores over the window, with RSS now.
func (r *scaleRun) procFigures(cpu0 procCPU, window time.Duration) []procFigures {
	var out []procFigures
	for name, pid := range r.pids() {
		own, kids := procStat(pid), ffmpegOf(pid)
		out = append(out, procFigures{name: name,
			cores:      (own.cpu - cpu0[pid][0]) / window.Seconds(),
			childCores: (kids.cpu - cpu0[pid][1]) / window.Seconds(),
			rssMiB:     own.rssMiB, childMiB: kids.rssMiB, children: kids.n})
	}
	return out
}

// procInfo is what /proc says of a process (or a sum of them).
type procInfo struct {
	ppid   int
	cpu    float64 // user + system seconds
	reaped float64 // user + system seconds of its children that ended
	rssMiB float64
	n      int
}

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

// procStat reads /proc/<pid>/stat and status; zero when it is gone.
func procStat(pid int) procInfo {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return procInfo{}
	}
	// Fields after the command name, which may hold spaces: state, ppid,
	// ... utime is the 14th field of the line, stime the 15th, cutime and
	// cstime (children waited for) the 16th and 17th.
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 15 {
		return procInfo{}
	}
	ppid, _ := strconv.Atoi(f[1])
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	cut, _ := strconv.ParseFloat(f[13], 64)
	cst, _ := strconv.ParseFloat(f[14], 64)
	return procInfo{ppid: ppid, cpu: (ut + st) / clockTicks, reaped: (cut + cst) / clockTicks, rssMiB: vmRSS(pid), n: 1}
}

func vmRSS(pid int) float64 {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(raw)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// ffmpegOf sums a vigil process's children; the bench's own children
// are the vigil processes, reported on their own.
func ffmpegOf(pid int) procInfo {
	if pid == os.Getpid() {
		return procInfo{}
	}
	return childStats(pid)
}

// childStats sums the children of pid (a worker's ffmpeg decoders and
// clip encoders): CPU of those alive and of those that ended, RSS and
// count of those alive.
func childStats(pid int) procInfo {
	sum := procInfo{cpu: procStat(pid).reaped}
	for _, child := range childPIDs(pid) {
		p := procStat(child)
		sum.cpu += p.cpu
		sum.rssMiB += p.rssMiB
		sum.n++
	}
	return sum
}

// childPIDs lists the live children of pid.
func childPIDs(pid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range ents {
		if child, err := strconv.Atoi(e.Name()); err == nil && procStat(child).ppid == pid {
			out = append(out, child)
		}
	}
	return out
}

// sseWatch reads the api node's event stream and notes, per alert, the
// delay from its raise time to its arrival here.
type sseWatch struct {
	mu  sync.Mutex
	lat []float64
}

// watchSSE subscribes to /api/v1/events with the token until the test ends.
func watchSSE(t *testing.T, addr, token string) *sseWatch {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &sseWatch{}
	var resp *http.Response
	waitFor(t, "the api node's event stream", 2*time.Minute, func() bool {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/api/v1/events", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		require.Equal(t, http.StatusOK, resp.StatusCode, "GET /api/v1/events with the token")
		return true
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.read(resp)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return w
}

func (w *sseWatch) read(resp *http.Response) {
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<22)
	typ := ""
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "event: "); ok {
			typ = v
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || typ != "alert" {
			continue
		}
		var a struct {
			Event struct {
				At time.Time `json:"at"`
			} `json:"event"`
		}
		if json.Unmarshal([]byte(data), &a) == nil && !a.Event.At.IsZero() {
			w.mu.Lock()
			w.lat = append(w.lat, time.Since(a.Event.At).Seconds())
			w.mu.Unlock()
		}
	}
}

func (w *sseWatch) reset() {
	w.mu.Lock()
	w.lat = nil
	w.mu.Unlock()
}

func (w *sseWatch) latencies() []float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]float64(nil), w.lat...)
}

// report logs the figures, one block per run.
func (f scaleFigures) report(t *testing.T, n int) {
	secs := f.window.Seconds()
	t.Logf("=== %d replay cameras at %d fps, window %.0f s", n, scaleFPS, secs)
	t.Logf("alerts into PostgreSQL: %d (%.1f/s); event→row p50 %.3f s p95 %.3f s (%d rows with a raise time)",
		f.alerts, float64(f.alerts)/secs, pctl(f.rowLatency, 0.5), pctl(f.rowLatency, 0.95), len(f.rowLatency))
	t.Logf("event→SSE on the api node: %d alerts, p50 %.3f s p95 %.3f s", len(f.sseLatency), pctl(f.sseLatency, 0.5), pctl(f.sseLatency, 0.95))
	t.Logf("consumer lag (pending + ack pending): max %d, at the end %d; max by stream %v", f.maxLag, f.endLag, f.maxLagBy)
	slices.SortFunc(f.procs, func(a, b procFigures) int { return strings.Compare(a.name, b.name) })
	for _, p := range f.procs {
		t.Logf("process %-16s CPU %.2f cores, RSS %.0f MiB; children (ffmpeg): %d, CPU %.2f cores, RSS %.0f MiB",
			p.name, p.cores, p.rssMiB, p.children, p.childCores, p.childMiB)
	}
	for _, node := range slices.Sorted(maps.Keys(f.workerFPS)) {
		fps := f.workerFPS[node]
		kept := 0
		for _, x := range fps {
			if x >= 0.95*scaleFPS {
				kept++
			}
		}
		t.Logf("worker %s: %d cameras held all window, %d kept ≥ %.2f fps; analysed fps min %.2f p50 %.2f",
			node, len(fps), kept, 0.95*scaleFPS, pctl(fps, 0), pctl(fps, 0.5))
	}
	t.Logf("cameras not analysing on one node all window (moved, restarted or not started): %d; unplaced at the end: %d", f.moved, f.unplaced)
}
