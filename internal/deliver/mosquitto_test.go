package deliver_test

import (
	"bufio"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"
	"github.com/stretchr/testify/require"

	"github.com/vigil-cctv/vigil/internal/deliver"
)

// mosquittoEnv makes a missing mosquitto a failure instead of a skip;
// .ci/run sets it (scripts/ci-mosquitto.sh installs the broker).
const mosquittoEnv = "VIGIL_TEST_MOSQUITTO"

// startMosquitto runs Debian's mosquitto on a free port with a temporary
// config, and waits for it to say it listens.
func startMosquitto(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		for _, p := range []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"} {
			if _, serr := os.Stat(p); serr == nil {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		if os.Getenv(mosquittoEnv) == "1" {
			t.Fatalf("%s=1 but mosquitto is not installed (scripts/ci-mosquitto.sh installs it)", mosquittoEnv)
		}
		t.Skip("mosquitto not installed; scripts/ci-mosquitto.sh installs it and .ci/run sets " + mosquittoEnv + "=1")
	}
	addr := freeAddr(t)
	_, port, _ := strings.Cut(addr, ":")
	dir := t.TempDir()
	conf := filepath.Join(dir, "mosquitto.conf")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf(
		"listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\nlog_type all\n", port)), 0o600))
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-c", conf)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	// Wait for the listen line; a mosquitto that cannot start exits and
	// closes stderr, which fails the test with what it said.
	sc := bufio.NewScanner(stderr)
	var said []string
	for sc.Scan() {
		said = append(said, sc.Text())
		if strings.Contains(sc.Text(), "Opening ipv4 listen socket on port "+port) {
			go func() { // keep draining so mosquitto never blocks on a full pipe
				for sc.Scan() {
				}
			}()
			return addr
		}
	}
	t.Fatalf("mosquitto did not start:\n%s", strings.Join(said, "\n"))
	return ""
}

// subscribe connects a plain MQTT client to the broker and returns the
// publishes it receives under vigil/#.
func subscribe(t *testing.T, addr string) <-chan *paho.Publish {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	u, err := url.Parse("mqtt://" + addr)
	require.NoError(t, err)
	got := make(chan *paho.Publish, 100)
	cm, err := autopaho.NewConnection(ctx, autopaho.ClientConfig{ServerUrls: []*url.URL{u}, KeepAlive: 30,
		CleanStartOnInitialConnection: true, ClientConfig: paho.ClientConfig{ClientID: fmt.Sprintf("sub-%d", time.Now().UnixNano()),
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
				got <- pr.Packet
				return true, nil
			}}}})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = cm.Disconnect(context.Background())
		cancel()
		<-cm.Done()
	})
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	require.NoError(t, cm.AwaitConnection(wctx))
	_, err = cm.Subscribe(wctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "vigil/#", QoS: 1}}})
	require.NoError(t, err)
	return got
}

func nextOn(t *testing.T, ch <-chan *paho.Publish, topic string) *paho.Publish {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case p := <-ch:
			if p.Topic == topic {
				return p
			}
		case <-timeout:
			t.Fatalf("nothing on %s", topic)
		}
	}
}

// TestMosquittoEndToEnd delivers through the worker to a real Debian
// mosquitto and reads the topic tree back with a separate client,
// including the retained availability a late subscriber gets.
func TestMosquittoEndToEnd(t *testing.T) {
	addr := startMosquitto(t)
	early := subscribe(t, addr)
	st := newStore(t)
	q, err := deliver.NewMQTT(deliver.Destination{Name: "bus", URL: "mqtt://" + addr, TopicPrefix: "vigil"})
	require.NoError(t, err)
	up := make(chan bool, 10)
	q.OnState = func(s bool) { up <- s }
	w := deliver.NewWorker(st, map[string]deliver.Transport{"bus": q}, deliver.Options{Poll: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	defer func() {
		cancel()
		require.NoError(t, <-done)
	}()
	require.True(t, <-up)
	require.NoError(t, st.Enqueue(ctx, []deliver.Message{
		{ID: "avail-ramp-1", Destination: "bus", Camera: "ramp", Kind: deliver.KindAvailability, Payload: []byte(`{"camera":"ramp","online":true}`)},
		{ID: "incident-1-opened", Destination: "bus", Camera: "ramp", Kind: deliver.KindIncident, Subject: "wrong_way", Payload: []byte(`{"id":"incident-1-opened"}`)},
		{ID: "event-1", Destination: "bus", Camera: "ramp", Kind: deliver.KindEvent, Subject: "wrong_way", Payload: []byte(`{"id":"event-1"}`)},
	}))
	w.Notify()
	p := nextOn(t, early, "vigil/cameras/ramp/incidents/wrong_way")
	require.Equal(t, `{"id":"incident-1-opened"}`, string(p.Payload))
	require.Equal(t, "incident-1-opened", p.Properties.User.Get("message-id"))
	require.EqualValues(t, 1, p.QoS)
	nextOn(t, early, "vigil/cameras/ramp/events/wrong_way")

	late := subscribe(t, addr)
	retained := map[string]string{}
	timeout := time.After(20 * time.Second)
	for len(retained) < 2 {
		select {
		case p := <-late:
			require.True(t, p.Retain, "a late subscriber gets only retained messages: %s", p.Topic)
			retained[p.Topic] = string(p.Payload)
		case <-timeout:
			t.Fatalf("retained messages missing: %v", retained)
		}
	}
	require.Equal(t, map[string]string{"vigil/status": "online",
		"vigil/cameras/ramp/availability": `{"camera":"ramp","online":true}`}, retained)
}
