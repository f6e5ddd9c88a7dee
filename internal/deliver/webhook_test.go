package deliver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/deliver"
	"github.com/vigil-cctv/vigil/internal/event"
)

// receiver is a real HTTP server that verifies signatures and dedupes by
// message id, as a control room's integration would.
type receiver struct {
	t      *testing.T
	secret []byte
	now    func() time.Time
	srv    *httptest.Server

	mu       sync.Mutex
	status   int // answer with this (0: 200)
	ids      []string
	seen     map[string]int
	bodies   map[string][]byte
	types    map[string]string
	received map[string]time.Time
	bad      []string
	// hook, when set, is called with the number of distinct messages
	// received so far before each request is handled.
	hook func(n int)
}

func newReceiver(t *testing.T, secret []byte) *receiver {
	r := &receiver{t: t, secret: secret, now: time.Now, seen: map[string]int{}, bodies: map[string][]byte{},
		types: map[string]string{}, received: map[string]time.Time{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	hook, n := r.hook, len(r.ids)
	r.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.status != 0 {
		w.WriteHeader(r.status)
		return
	}
	if err := deliver.Verify(r.secret, req.Header, body, r.now(), 5*time.Minute); err != nil {
		r.bad = append(r.bad, err.Error())
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	id := req.Header.Get(deliver.HeaderID)
	r.seen[id]++
	if r.seen[id] == 1 { // dedupe by id
		r.ids = append(r.ids, id)
		r.bodies[id] = body
		r.types[id] = req.Header.Get("Content-Type")
		r.received[id] = time.Now()
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) setStatus(c int) {
	r.mu.Lock()
	r.status = c
	r.mu.Unlock()
}

func (r *receiver) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ids)
}

func (r *receiver) redeliveries() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.seen {
		n += c - 1
	}
	return n
}

var tNotice = time.Date(2026, 3, 1, 22, 15, 30, 250_000_000, time.UTC)

func notice(id, typ, state string) deliver.Notice {
	return deliver.Notice{ID: id, Type: typ, Sent: tNotice, Camera: "ramp-north",
		Incident: &deliver.IncidentInfo{ID: 7, State: state, Priority: "critical", Protocol: "ramp-wrong-way",
			Rule: "wrong_way", Name: "ramp", Place: "exit-ramp", Class: "car", Severity: "high",
			Summary: "car 3 moved 14.2 m against lane 'exit-ramp' at 38 km/h", Unit: "police", Count: 2,
			Opened: tNotice.Add(-time.Minute)},
		Event: &event.Event{Rule: "wrong_way", Camera: "ramp-north", Severity: event.High}}
}

func message(t *testing.T, n deliver.Notice, dest string) deliver.Message {
	b, err := json.Marshal(n)
	require.NoError(t, err)
	return deliver.Message{ID: n.ID, Destination: dest, Camera: n.Camera, Kind: deliver.KindIncident, Subject: "wrong_way", Payload: b}
}

func TestWebhookSignedJSON(t *testing.T) {
	secret := []byte("s3cret-key")
	rcv := newReceiver(t, secret)
	wh, err := deliver.NewWebhook(deliver.Destination{Name: "cad", URL: rcv.srv.URL + "/hook", Secret: secret}, nil)
	require.NoError(t, err)
	m := message(t, notice("incident-7-opened", deliver.NoticeOpened, "new"), "cad")
	require.NoError(t, wh.Send(context.Background(), m))
	require.Equal(t, []string{"incident-7-opened"}, rcv.got())
	require.JSONEq(t, string(m.Payload), string(rcv.bodies["incident-7-opened"]))
	require.Equal(t, "application/json", rcv.types["incident-7-opened"])
}

func TestVerifyRejectsTamperingAndReplay(t *testing.T) {
	secret := []byte("k")
	body := []byte(`{"id":"x"}`)
	now := time.Unix(1_800_000_000, 0)
	h := http.Header{}
	h.Set(deliver.HeaderTimestamp, "1800000000")
	h.Set(deliver.HeaderSignature, deliver.Sign(secret, "1800000000", body))
	require.NoError(t, deliver.Verify(secret, h, body, now, 5*time.Minute))
	require.ErrorContains(t, deliver.Verify(secret, h, []byte(`{"id":"y"}`), now, 5*time.Minute), "signature mismatch")
	require.ErrorContains(t, deliver.Verify([]byte("other"), h, body, now, 5*time.Minute), "signature mismatch")
	require.ErrorContains(t, deliver.Verify(secret, h, body, now.Add(6*time.Minute), 5*time.Minute), "replay window",
		"a request replayed after the window fails")
	h.Set(deliver.HeaderTimestamp, "1800000001") // a moved timestamp breaks the signature
	require.ErrorContains(t, deliver.Verify(secret, h, body, now, 5*time.Minute), "signature mismatch")
	h.Del(deliver.HeaderTimestamp)
	require.ErrorContains(t, deliver.Verify(secret, h, body, now, 5*time.Minute), "malformed")
}

func TestWebhookStatusClasses(t *testing.T) {
	rcv := newReceiver(t, nil)
	wh, err := deliver.NewWebhook(deliver.Destination{Name: "cad", URL: rcv.srv.URL}, nil)
	require.NoError(t, err)
	m := message(t, notice("a", deliver.NoticeOpened, "new"), "cad")
	for code, permanent := range map[int]bool{500: false, 503: false, 429: false, 408: false, 400: true, 404: true, 401: true} {
		rcv.setStatus(code)
		err := wh.Send(context.Background(), m)
		require.Error(t, err, "%d", code)
		require.Equal(t, permanent, deliver.IsPermanent(err), "%d", code)
	}
}

// TestCredentialsNeverLogged is the acceptance test "a webhook URL with
// credentials is never logged": not in errors, not in the worker's log,
// not when the receiver is down, nor when it rejects.
func TestCredentialsNeverLogged(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens here: connection refused
	secretURL := "http://operator:hunter2@" + closed + "/hook?token=tok-SECRET-123"
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	wh, err := deliver.NewWebhook(deliver.Destination{Name: "cad", URL: secretURL, Secret: []byte("hmac-SECRET")}, nil)
	require.NoError(t, err)
	m := message(t, notice("a", deliver.NoticeOpened, "new"), "cad")
	sendErr := wh.Send(context.Background(), m)
	require.Error(t, sendErr)
	st := newStore(t)
	require.NoError(t, st.Enqueue(context.Background(), []deliver.Message{m}))
	clk := &fakeClock{t: time.Now().Add(time.Minute)}
	w := deliver.NewWorker(st, map[string]deliver.Transport{"cad": wh}, deliver.Options{Now: clk.now, Logger: log})
	_, err = w.Drain(context.Background())
	require.NoError(t, err)

	rej := newReceiver(t, nil)
	rej.setStatus(403)
	wh2, err := deliver.NewWebhook(deliver.Destination{Name: "cad2", URL: strings.Replace(rej.srv.URL, "http://", "http://operator:hunter2@", 1) + "?token=tok-SECRET-123"}, nil)
	require.NoError(t, err)
	rejErr := wh2.Send(context.Background(), m)
	require.Error(t, rejErr)
	_, err = deliver.NewWebhook(deliver.Destination{Name: "bad", URL: "ftp://operator:hunter2@x/?token=tok-SECRET-123"}, nil)
	require.Error(t, err)

	for _, s := range []string{sendErr.Error(), rejErr.Error(), err.Error(), logs.String()} {
		for _, secret := range []string{"hunter2", "tok-SECRET-123", "hmac-SECRET", "operator"} {
			require.NotContains(t, s, secret)
		}
	}
	require.Contains(t, logs.String(), "delivery failed", "the failure itself is logged")
	dead, err := st.DeadLetters(context.Background(), deliver.DeadFilter{})
	require.NoError(t, err)
	require.Empty(t, dead)
}

// TestCAPParseBack is the acceptance test: every element CAP 1.2 requires,
// with valid enumerations, parsed back from the XML the receiver got.
func TestCAPParseBack(t *testing.T) {
	rcv := newReceiver(t, []byte("k"))
	wh, err := deliver.NewWebhook(deliver.Destination{Name: "cap", URL: rcv.srv.URL, Format: "cap", Secret: []byte("k"),
		Sender: "vigil@city.example"}, nil)
	require.NoError(t, err)
	opened := message(t, notice("incident-7-opened", deliver.NoticeOpened, "new"), "cap")
	cancel := message(t, notice("incident-7-false_alarm", deliver.NoticeState, "false_alarm"), "cap")
	ev := message(t, notice("event-3", deliver.NoticeEvent, ""), "cap")
	ev.Kind = deliver.KindEvent
	for _, m := range []deliver.Message{opened, cancel, ev} {
		require.NoError(t, wh.Send(context.Background(), m))
	}
	require.Equal(t, []string{"incident-7-opened", "incident-7-false_alarm"}, rcv.got(), "events are not CAP alerts")
	require.Equal(t, "application/cap+xml", rcv.types["incident-7-opened"])

	for id, msgType := range map[string]string{"incident-7-opened": "Alert", "incident-7-false_alarm": "Cancel"} {
		body := rcv.bodies[id]
		var a deliver.CAPAlert
		require.NoError(t, xml.Unmarshal(body, &a), string(body))
		require.Equal(t, deliver.CAPNamespace, a.XMLName.Space)
		require.Equal(t, "alert", a.XMLName.Local)
		require.Equal(t, id, a.Identifier)
		require.Equal(t, "vigil@city.example", a.Sender)
		sent, err := time.Parse(time.RFC3339, a.Sent)
		require.NoError(t, err)
		require.True(t, sent.Equal(tNotice.Truncate(time.Second)))
		require.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$`, a.Sent, "CAP dateTime: no fraction, explicit offset")
		require.Contains(t, deliver.CAPStatuses, a.Status)
		require.Equal(t, msgType, a.MsgType)
		require.Contains(t, deliver.CAPMsgTypes, a.MsgType)
		require.Contains(t, deliver.CAPScopes, a.Scope)
		if a.Scope == "Restricted" {
			require.NotEmpty(t, a.Restriction)
		}
		if a.MsgType != "Alert" {
			require.Equal(t, "vigil@city.example,incident-7-opened,"+tNotice.Add(-time.Minute).UTC().Format("2006-01-02T15:04:05-07:00"), a.References)
		}
		require.Len(t, a.Info, 1)
		in := a.Info[0]
		require.NotEmpty(t, in.Category)
		for _, c := range in.Category {
			require.Contains(t, deliver.CAPCategories, c)
		}
		require.Equal(t, "wrong way", in.Event)
		require.Equal(t, "Immediate", in.Urgency)
		require.Equal(t, "Extreme", in.Severity)
		require.Equal(t, "Observed", in.Certainty)
		require.Contains(t, deliver.CAPUrgencies, in.Urgency)
		require.Contains(t, deliver.CAPSeverities, in.Severity)
		require.Contains(t, deliver.CAPCertainties, in.Certainty)
		require.NotEmpty(t, in.Area)
		require.Equal(t, "camera ramp-north, exit-ramp", in.Area[0].AreaDesc)
		require.Contains(t, in.Parameter, deliver.CAPParameter{ValueName: "unit_type", Value: "police"})
		for _, forbidden := range []string{" ", ",", "<", "&"} {
			require.NotContains(t, a.Identifier, forbidden)
		}
		// Schema order: the required elements appear in CAP's sequence.
		s := string(body)
		order := []string{"<identifier>", "<sender>", "<sent>", "<status>", "<msgType>", "<scope>", "<info>",
			"<category>", "<event>", "<urgency>", "<severity>", "<certainty>", "<area>", "<areaDesc>"}
		last := -1
		for _, el := range order {
			i := strings.Index(s, el)
			require.Greater(t, i, last, "%s out of order", el)
			last = i
		}
	}
}
