package ingest

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// Issue 16 item 5: an unreachable ONVIF camera stayed "connecting /
// resolving the stream address" forever, with no retry and no log line.
// Resolution now runs in the supervisor on every attempt, with the
// streams' backoff, and each failure shows as a state reason and a log
// line, redacted.
func TestResolveIsRetriedWithBackoff(t *testing.T) {
	clip := shortFile(t, 1)
	const devicePass = "Dev1cePass"
	var calls atomic.Int32
	cam := Camera{ID: "onvif", URL: "http://admin:" + devicePass + "@10.9.9.9/onvif/device_service",
		Resolve: func(ctx context.Context) (string, error) {
			_, hasDeadline := ctx.Deadline()
			require.True(t, hasDeadline, "bounded by ConnectTimeout")
			if calls.Add(1) < 3 {
				return "", errors.New("onvif GetStreamUri http://admin:" + devicePass + "@10.9.9.9: connection refused")
			}
			return clip, nil
		}}
	h := startCamera(t, cam, testOptions())
	h.waitFor("end of input", func() bool { return h.in(StateStopped) })
	states, frames := h.snapshot()
	require.NotEmpty(t, frames, "streams once resolved")
	require.EqualValues(t, 3, calls.Load())

	var reasons []string
	for _, c := range states {
		reasons = append(reasons, string(c.State)+": "+c.Reason)
	}
	want := []string{
		"connecting: resolving the stream address (attempt 1)",
		"failed: resolving the stream address (attempt 1): onvif GetStreamUri http://admin:xxxxx@10.9.9.9: connection refused",
		"connecting: resolving the stream address (attempt 2)",
		"failed: resolving the stream address (attempt 2): onvif GetStreamUri http://admin:xxxxx@10.9.9.9: connection refused",
		"connecting: resolving the stream address (attempt 3)",
		"streaming: ",
		"stopped: end of input",
	}
	require.Equal(t, want, reasons)
	logs := h.logs.String()
	require.NotContains(t, logs, devicePass)
	require.Equal(t, 2, strings.Count(logs, "reconnecting after backoff"), "each failure waits a backoff")
	require.Contains(t, logs, `state=failed reason="resolving the stream address (attempt 2): onvif`)
	require.Contains(t, logs, "level=WARN")
}

// A resolved URL's own secrets (a camera that hands out rtsp URLs with a
// password or token) are scrubbed too, and an unusable URL is a failed
// attempt, not a crash.
func TestResolvedURLSecretsAreScrubbed(t *testing.T) {
	const token = "T0kenValue"
	cam := Camera{ID: "onvif", URL: "http://10.9.9.9/onvif/device_service",
		Resolve: func(context.Context) (string, error) {
			return "rtsp://user:p#" + token + "@10.9.9.9/live?token=" + token, nil
		}}
	h := startCamera(t, cam, testOptions())
	h.waitFor("a failed attempt", func() bool { return h.in(StateFailed) })
	h.stop()
	states, _ := h.snapshot()
	var text strings.Builder
	for _, c := range states {
		text.WriteString(c.Reason + "\n")
	}
	text.WriteString(h.logs.String())
	require.NotContains(t, text.String(), token)
	require.Contains(t, text.String(), "percent-encode it")
}
