package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/auth"
	"github.com/vigil-cctv/vigil/internal/deliver"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/incident"
	"github.com/vigil-cctv/vigil/internal/protocol"
	"github.com/vigil-cctv/vigil/internal/store"
	"github.com/vigil-cctv/vigil/internal/store/sqlite"
)

const testProtocols = `version: 1
protocols:
  - name: ramp
    match: {rules: [wrong_way]}
    priority: critical
    unit: police
    notify: [cad]
    group_window: 10m
`

// verdictRecorder is the Feedback fake: which alerts got which verdict.
type verdictRecorder struct {
	mu     sync.Mutex
	alerts map[int64]store.AlertState
	by     []string
}

func (v *verdictRecorder) Verdict(_ context.Context, a store.Alert, by string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.alerts[a.ID] = a.State
	v.by = append(v.by, by)
	return nil
}

func (v *verdictRecorder) Lift(context.Context, int64) error { return nil }

type incidentHarness struct {
	t         *testing.T
	st        *sqlite.Store
	eng       *incident.Engine
	h         http.Handler
	fb        *verdictRecorder
	broker    *fakeBroker
	redeliver int
	logs      *syncBuffer
}

// newIncidentHarness serves the incident API with real accounts; requests
// come from a trusted proxy (httptest's peer 192.0.2.1) that names the
// user in X-Forwarded-User: ana, ben and fuzzer are operators, sup a
// supervisor, and an unnamed request is the viewer "viewer".
func newIncidentHarness(t *testing.T) *incidentHarness {
	st, err := sqlite.Open(context.Background(), ":memory:")
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	known := func(n string) bool { return n == "cad" || n == "bus" }
	set, err := protocol.Parse([]byte(testProtocols), "p.yaml", protocol.Options{Destination: known})
	require.NoError(t, err)
	ih := &incidentHarness{t: t, st: st, fb: &verdictRecorder{alerts: map[int64]store.AlertState{}}, broker: &fakeBroker{}, logs: &syncBuffer{}}
	ih.eng = incident.NewEngine(st, set, testProtocols, incident.Options{Destination: known})
	ta := newTestAuth(t, st)
	sys := auth.Actor{Name: "system", Via: auth.ViaSystem, Addr: "local"}
	for name, role := range map[string]auth.Role{"ana": auth.Operator, "ben": auth.Operator, "fuzzer": auth.Operator, "sup": auth.Supervisor} {
		_, err := ta.svc.CreateUser(context.Background(), sys, auth.NewUser{Name: name, Role: role, Password: testPassword})
		require.NoError(t, err)
	}
	// nora is an operator limited to another camera.
	_, err = ta.svc.PutGroup(context.Background(), sys, auth.CameraGroup{Name: "elsewhere", Cameras: []string{"gate"}})
	require.NoError(t, err)
	_, err = ta.svc.CreateUser(context.Background(), sys, auth.NewUser{Name: "nora", Role: auth.Operator, Groups: []string{"elsewhere"}, Password: testPassword})
	require.NoError(t, err)
	ih.h = New(Deps{Store: st, Incidents: ih.eng, Outbox: st, Feedback: ih.fb, Broker: ih.broker, Auth: ta.svc,
		Redeliver: func() { ih.redeliver++ }, Logger: newTestLogger(ih.logs)},
		Options{Now: func() time.Time { return time.Date(2026, 3, 1, 12, 5, 0, 0, time.UTC) },
			TrustedProxies: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, ProxyUserHeader: proxyUser})
	return ih
}

func (ih *incidentHarness) do(method, path, body, user string) *httptest.ResponseRecorder {
	p, q, _ := strings.Cut(path, "?")
	req := httptest.NewRequest(method, p, strings.NewReader(body))
	req.URL.RawQuery = q
	if body != "" {
		ct := "application/json"
		if strings.HasPrefix(path, "/api/v1/protocols") {
			ct = "application/yaml"
		}
		req.Header.Set("Content-Type", ct)
	}
	if user == "" {
		user = "viewer"
	}
	req.Header.Set(proxyUser, user)
	w := httptest.NewRecorder()
	ih.h.ServeHTTP(w, req)
	return w
}

func (ih *incidentHarness) event(t *testing.T, track int, at time.Time) incident.Result {
	r, err := ih.eng.Handle(context.Background(), event.Event{Camera: "ramp", Rule: "wrong_way", Lane: "exit",
		Tracks: []int{track}, Severity: event.High, Explanation: "against the lane", Snapshot: "s.jpg"}, at)
	require.NoError(t, err)
	return r
}

var tAPI = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// proxyUser is the trusted proxy's user header in these tests.
const proxyUser = "X-Forwarded-User"

func TestIncidentQueueAndVerdict(t *testing.T) {
	ih := newIncidentHarness(t)
	var alerts []int64
	for i := range 3 {
		r := ih.event(t, i, tAPI.Add(time.Duration(i)*time.Second))
		alerts = append(alerts, r.Alert)
	}
	w := ih.do("GET", "/api/v1/incidents?state=new,acknowledged", "", "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var list struct {
		Incidents []incidentView `json:"incidents"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &list))
	require.Len(t, list.Incidents, 1, "three events, one queue item")
	in := list.Incidents[0]
	require.Equal(t, 3, in.Count)
	require.Equal(t, fmt.Sprintf("/api/v1/alerts/%d/snapshot", in.Best), in.Links.Snapshot)
	path := fmt.Sprintf("/api/v1/incidents/%d", in.ID)

	w = ih.do("GET", path, "", "")
	require.Equal(t, http.StatusOK, w.Code)
	var full incidentView
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &full))
	require.Len(t, full.Events, 3, "the timeline")

	// Who comes from the session: without one, 401; a "by" in the body is
	// not a field.
	require.Equal(t, http.StatusForbidden, ih.do("POST", path+"/transition", `{"to":"acknowledged"}`, "").Code, "a viewer changes nothing")
	w = ih.do("POST", path+"/transition", `{"to":"acknowledged","by":"mallory"}`, "ana")
	require.Equal(t, http.StatusBadRequest, w.Code)
	require.Contains(t, w.Body.String(), `unknown field \"by\"`)

	w = ih.do("POST", path+"/transition", `{"to":"dispatched","unit_type":"police","unit_id":"PC-12","note":"on the way"}`, "ana")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var moved incidentView
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &moved))
	require.Equal(t, incident.Dispatched, moved.State)
	require.Equal(t, "ana", moved.History[0].By)
	require.Equal(t, "PC-12", moved.UnitID)
	require.Len(t, ih.broker.published, 1)
	require.Equal(t, MessageIncident, ih.broker.published[0].Type)

	w = ih.do("POST", path+"/transition", `{"to":"new"}`, "ana")
	require.Equal(t, http.StatusConflict, w.Code)
	require.Contains(t, w.Body.String(), "allowed: on_scene, resolved, false_alarm")
	w = ih.do("POST", path+"/transition", `{"to":"on_scene","unit_type":"fire"}`, "ana")
	require.Equal(t, http.StatusBadRequest, w.Code)
	require.Contains(t, w.Body.String(), "only when dispatching")

	// The verdict judges each grouped event and feeds the verdict loop.
	w = ih.do("POST", path+"/transition", `{"to":"false_alarm","note":"a reflection"}`, "ben")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Len(t, ih.fb.alerts, 3)
	for _, id := range alerts {
		require.Equal(t, store.StateFalseAlarm, ih.fb.alerts[id], "alert %d", id)
		a, err := ih.st.GetAlert(context.Background(), id)
		require.NoError(t, err)
		require.Equal(t, store.StateFalseAlarm, a.State)
	}
	require.Equal(t, []string{"ben", "ben", "ben"}, ih.fb.by)

	require.Equal(t, http.StatusNotFound, ih.do("GET", "/api/v1/incidents/999", "", "").Code)
	require.Equal(t, http.StatusBadRequest, ih.do("GET", "/api/v1/incidents?state=lost", "", "").Code)
	require.Equal(t, http.StatusBadRequest, ih.do("GET", "/api/v1/incidents?priority=urgent", "", "").Code)
}

func TestProtocolsAPI(t *testing.T) {
	ih := newIncidentHarness(t)
	w := ih.do("GET", "/api/v1/protocols", "", "")
	require.Equal(t, http.StatusOK, w.Code)
	require.Equal(t, testProtocols, w.Body.String())

	bad := "version: 1\nprotocols:\n  - name: x\n    priority: urgent\n    notify: [pager]\n"
	w = ih.do("PUT", "/api/v1/protocols", bad, "sup")
	require.Equal(t, http.StatusUnprocessableEntity, w.Code)
	var body errorBody
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
	require.Equal(t, codeInvalidProtocols, body.Error.Code)
	require.Equal(t, []string{
		`protocols.yaml:4:15: protocols[0].priority: unknown priority "urgent" (known: low, medium, high, critical)`,
		`protocols.yaml:5:14: protocols[0].notify[0]: unknown destination "pager" (configure it under incidents.destinations)`,
	}, body.Error.Details)
	require.Equal(t, testProtocols, ih.do("GET", "/api/v1/protocols", "", "").Body.String(), "nothing changed")

	good := "version: 1\nprotocols:\n  - name: all\n    notify: [bus]\n"
	require.Equal(t, http.StatusForbidden, ih.do("PUT", "/api/v1/protocols", good, "ana").Code, "an operator edits no protocol")
	w = ih.do("PUT", "/api/v1/protocols", good, "sup")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.JSONEq(t, `{"version":1}`, w.Body.String())
	require.Equal(t, good, ih.do("GET", "/api/v1/protocols", "", "").Body.String())
	r := ih.event(t, 1, tAPI)
	require.Equal(t, "all", r.Protocol, "the new protocols are in force at once")

	// Kept across a restart.
	eng2 := incident.NewEngine(ih.st, nil, "", incident.Options{})
	require.NoError(t, eng2.LoadProtocols(context.Background()))
	_, y := eng2.Protocols()
	require.Equal(t, good, y)
}

func TestDeadLettersAPI(t *testing.T) {
	ih := newIncidentHarness(t)
	ctx := context.Background()
	require.NoError(t, ih.st.Enqueue(ctx, []deliver.Message{{ID: "incident-1-opened", Destination: "cad", Camera: "ramp",
		Kind: deliver.KindIncident, Payload: []byte(`{"secret":"payload"}`)}}))
	due, err := ih.st.Due(ctx, time.Now().Add(time.Hour), 10)
	require.NoError(t, err)
	require.NoError(t, ih.st.MarkFailed(ctx, due[0].Seq, 3, time.Now(), "receiver rejected the message with 400", true, time.Now()))

	w := ih.do("GET", "/api/v1/deliveries/dead", "", "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.NotContains(t, w.Body.String(), "payload", "payloads are not listed")
	var out struct {
		Dead    []deliver.Message `json:"dead_letters"`
		Backlog deliver.Backlog   `json:"backlog"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out))
	require.Len(t, out.Dead, 1)
	require.Equal(t, "incident-1-opened", out.Dead[0].ID)
	require.Equal(t, int64(1), out.Backlog.Dead)
	w = ih.do("GET", "/api/v1/deliveries/dead", "", "nora")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out))
	require.Empty(t, out.Dead, "another camera's dead letters are not listed")

	retry := fmt.Sprintf("/api/v1/deliveries/dead/%d/retry", due[0].Seq)
	require.Equal(t, http.StatusForbidden, ih.do("POST", retry, "", "ana").Code, "retrying a dead letter is a supervisor's")
	w = ih.do("POST", retry, "", "sup")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Contains(t, w.Body.String(), `"state":"pending"`)
	require.Equal(t, 1, ih.redeliver, "the worker is woken")
	require.Equal(t, http.StatusNotFound, ih.do("POST", retry, "", "sup").Code, "no longer dead")
	require.Contains(t, ih.logs.String(), "dead letter retried")
}

func TestResponseStatsAPI(t *testing.T) {
	ih := newIncidentHarness(t)
	r := ih.event(t, 1, tAPI)
	_, _, err := ih.eng.Transition(context.Background(), r.Incident.ID, incident.Change{To: incident.Acknowledged}, "ana", tAPI.Add(42*time.Second))
	require.NoError(t, err)
	w := ih.do("GET", "/api/v1/stats/response?since=2026-03-01T00:00:00Z&until=2026-03-02T00:00:00Z", "", "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var out struct {
		Groups []incident.ResponseStat `json:"groups"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out))
	require.Len(t, out.Groups, 1)
	require.Equal(t, incident.Quantiles{N: 1, Median: 42, P90: 42}, out.Groups[0].Stages["acknowledge"])
	require.Equal(t, "police", out.Groups[0].UnitType)
}

func TestIncidentsUnavailable(t *testing.T) {
	hs := newHarness(t, Options{})
	for _, p := range []string{"/api/v1/incidents", "/api/v1/protocols", "/api/v1/deliveries/dead", "/api/v1/stats/response"} {
		require.Equal(t, http.StatusServiceUnavailable, hs.do("GET", p, "").Code, p)
	}
}

// FuzzIncidentRequests: any incident query or transition body is a clean
// 4xx or a success, never a 5xx, and every error is JSON.
func FuzzIncidentRequests(f *testing.F) {
	for _, s := range []string{"", "state=new,acknowledged&priority=high", "state=,", "limit=0", "cursor=djE6LTE",
		`{"to":"dispatched","unit_type":"fire","unit_id":"E-1"}`, `{"to":"acknowledged","note":"\u0000"}`, `[]`, `{"to":7}`} {
		f.Add(s)
	}
	ih := newIncidentHarness(&testing.T{})
	f.Cleanup(func() { ih.st.Close() })
	r := ih.event(&testing.T{}, 1, tAPI)
	path := fmt.Sprintf("/api/v1/incidents/%d", r.Incident.ID)
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 4096 {
			return
		}
		checkResponse(t, ih.do("GET", "/api/v1/incidents?"+s, "", ""))
		checkResponse(t, ih.do("POST", path+"/transition", s, "fuzzer"))
	})
}

// TestIncidentAuditAndScope: each operator transition is in the audit log
// under the session's user with before → after, and a user limited to
// other cameras neither sees nor moves the incident.
func TestIncidentAuditAndScope(t *testing.T) {
	ih := newIncidentHarness(t)
	r := ih.event(t, 1, tAPI)
	path := fmt.Sprintf("/api/v1/incidents/%d", r.Incident.ID)

	var list struct {
		Incidents []incidentView `json:"incidents"`
	}
	w := ih.do("GET", "/api/v1/incidents", "", "nora")
	require.Equal(t, http.StatusOK, w.Code)
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &list))
	require.Empty(t, list.Incidents, "another camera's incident is not listed")
	require.Equal(t, http.StatusNotFound, ih.do("GET", path, "", "nora").Code)
	require.Equal(t, http.StatusNotFound, ih.do("POST", path+"/transition", `{"to":"acknowledged"}`, "nora").Code)

	for _, to := range []string{"acknowledged", "resolved"} {
		w = ih.do("POST", path+"/transition", `{"to":"`+to+`","note":"seen"}`, "ana")
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	}
	w = ih.do("GET", "/api/v1/audit?action=incident.transition", "", "sup")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var audit struct {
		Entries []auth.AuditEntry `json:"entries"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &audit))
	require.Len(t, audit.Entries, 2, "nora's refused move is not a change")
	obj := fmt.Sprintf("incident/%d", r.Incident.ID)
	for i, want := range [][2]string{{"acknowledged", "resolved"}, {"new", "acknowledged"}} { // newest first
		e := audit.Entries[i]
		require.Equal(t, "ana", e.Actor)
		require.Equal(t, obj, e.Object)
		require.JSONEq(t, `{"camera":"ramp","state":"`+want[0]+`"}`, string(e.Before))
		require.JSONEq(t, `{"camera":"ramp","state":"`+want[1]+`","note":"seen","unit_id":"","unit_type":""}`, string(e.After))
	}
}
