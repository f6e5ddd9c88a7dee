package deliver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/deliver"
	"github.com/vigil-cctv/vigil/internal/event"
	"github.com/vigil-cctv/vigil/internal/incident"
	"github.com/vigil-cctv/vigil/internal/protocol"
	"github.com/vigil-cctv/vigil/internal/store/postgres"
	"github.com/vigil-cctv/vigil/internal/store/storetest"
)

// published is one message a broker received.
type published struct {
	topic   string
	id      string
	payload []byte
	retain  bool
}

// sink records what brokers receive, across broker restarts.
type sink struct {
	mu  sync.Mutex
	got []published
	ch  chan published
}

func newSink() *sink { return &sink{ch: make(chan published, 10000)} }

func (s *sink) add(p published) {
	s.mu.Lock()
	s.got = append(s.got, p)
	s.mu.Unlock()
	s.ch <- p
}

func (s *sink) all() []published {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

// startBroker runs an embedded mochi broker on addr whose inline client
// records every publish under vigil/: subscribed before the listener
// opens, so a restarted broker misses nothing.
func startBroker(t *testing.T, addr string, rec *sink) *mqtt.Server {
	t.Helper()
	srv := mqtt.New(&mqtt.Options{InlineClient: true, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, srv.AddHook(new(auth.AllowHook), nil))
	require.NoError(t, srv.Subscribe("vigil/#", 1, func(_ *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
		p := published{topic: pk.TopicName, payload: slices.Clone(pk.Payload), retain: pk.FixedHeader.Retain}
		for _, u := range pk.Properties.User {
			if u.Key == "message-id" {
				p.id = u.Val
			}
		}
		rec.add(p)
	}))
	require.NoError(t, srv.AddListener(listeners.NewTCP(listeners.Config{ID: "t", Address: addr})))
	require.NoError(t, srv.Serve())
	return srv
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// startMQTT connects a transport and returns a channel of its
// connection changes.
func startMQTT(t *testing.T, ctx context.Context, addr string) (*deliver.MQTT, <-chan bool) {
	t.Helper()
	q, err := deliver.NewMQTT(deliver.Destination{Name: "bus", URL: "mqtt://" + addr, Timeout: 2 * time.Second})
	require.NoError(t, err)
	states := make(chan bool, 100)
	q.OnState = func(up bool) { states <- up }
	require.NoError(t, q.Start(ctx))
	t.Cleanup(q.Stop)
	require.True(t, <-states, "connected")
	return q, states
}

func TestMQTTTopicTree(t *testing.T) {
	addr := freeAddr(t)
	rec := newSink()
	srv := startBroker(t, addr, rec)
	defer srv.Close()
	q, _ := startMQTT(t, context.Background(), addr)
	status := <-rec.ch
	require.Equal(t, published{topic: "vigil/status", payload: []byte("online"), retain: true}, status)

	ctx := context.Background()
	for _, m := range []deliver.Message{
		{ID: "incident-1-opened", Camera: "ramp", Kind: deliver.KindIncident, Subject: "wrong_way", Payload: []byte(`{}`)},
		{ID: "event-9", Camera: "ramp", Kind: deliver.KindEvent, Subject: "line_crossing", Payload: []byte(`{}`)},
		{ID: "avail-1", Camera: "ramp", Kind: deliver.KindAvailability, Payload: []byte(`{"online":true}`)},
		{ID: "count-1", Camera: "ramp", Kind: deliver.KindCount, Subject: "gate/in#", Payload: []byte(`{"n":3}`)},
	} {
		require.NoError(t, q.Send(ctx, m))
		p := <-rec.ch
		require.Equal(t, m.ID, p.id, "message-id user property")
		require.Equal(t, m.Kind == deliver.KindAvailability, p.retain, "only availability is retained")
		switch m.Kind {
		case deliver.KindIncident:
			require.Equal(t, "vigil/cameras/ramp/incidents/wrong_way", p.topic)
		case deliver.KindEvent:
			require.Equal(t, "vigil/cameras/ramp/events/line_crossing", p.topic)
		case deliver.KindAvailability:
			require.Equal(t, "vigil/cameras/ramp/availability", p.topic)
		case deliver.KindCount:
			require.Equal(t, "vigil/cameras/ramp/counts/gate_in_", p.topic, "a name cannot add topic levels or wildcards")
		}
	}
	q.Stop()
	require.Equal(t, published{topic: "vigil/status", payload: []byte("offline"), retain: true}, <-rec.ch)
}

func TestMQTTURLCredentialsMoveToConnect(t *testing.T) {
	_, err := deliver.NewMQTT(deliver.Destination{Name: "x", URL: "http://u:pw-SECRET@h"})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "pw-SECRET")
	q, err := deliver.NewMQTT(deliver.Destination{Name: "x", URL: "mqtt://u:pw-SECRET@127.0.0.1:1"})
	require.NoError(t, err)
	require.NotContains(t, fmt.Sprintf("%+v %#v %v", q, q, q), "pw-SECRET")
	d := deliver.Destination{Name: "cad", URL: "https://u:pw-SECRET@h/x?token=pw-SECRET", Secret: []byte("pw-SECRET")}
	var buf strings.Builder
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "d", d)
	require.NotContains(t, fmt.Sprintf("%v %+v %#v %s", d, d, d, d)+buf.String(), "pw-SECRET")
}

const outageProtocols = `version: 1
protocols:
  - name: all
    group_window: 0s
    notify: [bus]
`

// TestBrokerOutage is the acceptance test: the broker is down for 60 s of
// injected time while events keep coming on three cameras; afterwards
// every incident is delivered, in order per camera, and the receiver sees
// no id twice.
func TestBrokerOutage(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { brokerOutage(t, newStore(t)) })
	t.Run("postgres", func(t *testing.T) {
		st, err := postgres.Open(context.Background(), storetest.FreshPostgres(t))
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		brokerOutage(t, st)
	})
}

// outboxAndIncidents is what both stores implement.
type outboxAndIncidents interface {
	incident.Store
	deliver.Store
}

func brokerOutage(t *testing.T, st outboxAndIncidents) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := freeAddr(t)
	rec := newSink()
	b1 := startBroker(t, addr, rec)
	q, states := startMQTT(t, ctx, addr)

	set, err := protocol.Parse([]byte(outageProtocols), "p.yaml", protocol.Options{})
	require.NoError(t, err)
	eng := incident.NewEngine(st, set, outageProtocols, incident.Options{})
	clk := &fakeClock{t: time.Now().Add(time.Minute)}
	w := deliver.NewWorker(st, map[string]deliver.Transport{"bus": q}, deliver.Options{Now: clk.now, MaxDelay: 16 * time.Second})
	cams := []string{"north", "south", "east"}
	var opened []string
	tick := func(second int) {
		for i, c := range cams {
			e := event.Event{Camera: c, Rule: "intrusion", Zone: "gate", Tracks: []int{second*10 + i}, Severity: event.High,
				Explanation: fmt.Sprintf("intrusion %d", second)}
			r, err := eng.Handle(ctx, e, clk.now())
			require.NoError(t, err)
			require.True(t, r.Opened)
			opened = append(opened, deliver.OpenedID(r.Incident.ID))
		}
		_, err := w.Drain(ctx)
		require.NoError(t, err)
		clk.advance(time.Second)
	}
	for s := range 10 {
		tick(s)
	}
	require.NoError(t, b1.Close())
	require.False(t, <-states, "the client saw the broker go")
	for s := 10; s < 70; s++ { // 60 s down, events keep coming
		tick(s)
	}
	b, err := st.Backlog(ctx)
	require.NoError(t, err)
	require.Positive(t, b.Pending, "messages wait in the outbox while the broker is down")
	t.Logf("outbox during the outage: %d pending after 60 s", b.Pending)

	b2 := startBroker(t, addr, rec)
	defer b2.Close()
	require.True(t, <-states, "the client reconnected")
	for range 200 {
		b, err = st.Backlog(ctx)
		require.NoError(t, err)
		if b.Pending == 0 {
			break
		}
		clk.advance(16 * time.Second) // past any backoff
		_, err = w.Drain(ctx)
		require.NoError(t, err)
	}
	require.Zero(t, b.Pending, "everything delivered after the broker returned")

	seen := map[string]int{}
	perCamera := map[string][]int64{}
	for _, p := range rec.all() {
		if !strings.Contains(p.topic, "/incidents/") {
			continue
		}
		seen[p.id]++
		var n deliver.Notice
		require.NoError(t, json.Unmarshal(p.payload, &n))
		perCamera[n.Camera] = append(perCamera[n.Camera], n.Incident.ID)
	}
	for _, id := range opened {
		require.Equal(t, 1, seen[id], "incident %s delivered exactly once", id)
	}
	require.Len(t, seen, len(opened))
	for c, ids := range perCamera {
		require.True(t, slices.IsSorted(ids), "camera %s in order: %v", c, ids)
		require.Len(t, ids, 70)
	}
}

func TestAvailabilityAndCountMessages(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	av := deliver.AvailabilityMessages([]string{"bus"}, deliver.Availability{Camera: "ramp", Online: false, State: "stalled", At: at})
	require.Len(t, av, 1)
	require.Equal(t, deliver.KindAvailability, av[0].Kind)
	require.JSONEq(t, `{"id":"availability-ramp-1772366400000000","data":{"camera":"ramp","online":false,"state":"stalled","at":"2026-03-01T12:00:00Z"}}`, string(av[0].Payload))
	cs := deliver.CountMessages([]string{"bus", "bus2"}, at, []deliver.Count{{Camera: "plaza", Name: "gate", Class: "person", Direction: "in", Bucket: at, N: 3}})
	require.Len(t, cs, 2)
	require.Equal(t, "gate", cs[0].Subject)
	require.Equal(t, cs[0].ID, cs[1].ID, "one id across destinations")
	require.Empty(t, deliver.CountMessages(nil, at, nil))
}

func TestTransports(t *testing.T) {
	ts, err := deliver.Transports([]deliver.Destination{{Name: "h", Type: "webhook", URL: "https://x/y"}, {Name: "m", Type: "mqtt", URL: "mqtt://x:1"}})
	require.NoError(t, err)
	require.IsType(t, &deliver.Webhook{}, ts["h"])
	require.IsType(t, &deliver.MQTT{}, ts["m"])
	_, err = deliver.Transports([]deliver.Destination{{Name: "p", Type: "pager"}})
	require.Error(t, err)
}
