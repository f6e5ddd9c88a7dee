package deliver

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"
)

// MQTT topic tree under the destination's prefix (default "vigil"):
//
//	<prefix>/status                               retained: online | offline (last will)
//	<prefix>/cameras/<camera>/availability        retained: {"camera","online","at"}
//	<prefix>/cameras/<camera>/incidents/<rule>    incident notices (opened, escalated, state)
//	<prefix>/cameras/<camera>/events/<rule>       every stored event the protocols publish
//	<prefix>/cameras/<camera>/counts/<line>       line counts
//
// Everything is QoS 1; each message has the user property message-id.
func topic(prefix string, m Message) string {
	base := prefix + "/cameras/" + topicLevel(m.Camera)
	switch m.Kind {
	case KindAvailability:
		return base + "/availability"
	case KindIncident:
		return base + "/incidents/" + topicLevel(m.Subject)
	case KindCount:
		return base + "/counts/" + topicLevel(m.Subject)
	}
	return base + "/events/" + topicLevel(m.Subject)
}

// topicLevel keeps a name from adding levels or wildcards to a topic.
func topicLevel(s string) string {
	if s == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '+' || r == '#' || r < ' ' {
			return '_'
		}
		return r
	}, s)
}

// MQTT publishes over one autopaho connection (MQTT 5, QoS 1), which
// reconnects by itself; a message sent while it is down fails and the
// worker retries it from the outbox.
type MQTT struct {
	// OnState, when set before Start, is told each time the connection
	// comes up or goes down. It must not block.
	OnState func(up bool)

	d      Destination
	server *url.URL
	mu     sync.Mutex
	wg     sync.WaitGroup // the status publisher started on each connect
	cm     *autopaho.ConnectionManager
	stop   context.CancelFunc
}

// NewMQTT checks the destination; Start connects.
func NewMQTT(d Destination) (*MQTT, error) {
	u, err := url.Parse(d.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("destination %q: url must be mqtt://host:port (or mqtts://, tcp://, tls://)", d.Name)
	}
	switch u.Scheme {
	case "mqtt", "tcp", "mqtts", "tls", "ssl":
	default:
		return nil, fmt.Errorf("destination %q: url must be mqtt://host:port (or mqtts://, tcp://, tls://)", d.Name)
	}
	if u.User != nil { // credentials in the URL move to the CONNECT packet
		if d.Username == "" {
			d.Username = u.User.Username()
		}
		if p, ok := u.User.Password(); ok && len(d.Password) == 0 {
			d.Password = []byte(p)
		}
		u.User = nil
	}
	d.URL = u.String()
	if d.TopicPrefix == "" {
		d.TopicPrefix = "vigil"
	}
	if d.ClientID == "" {
		d.ClientID = "vigil-" + d.Name
	}
	if d.Timeout <= 0 {
		d.Timeout = 10 * time.Second
	}
	return &MQTT{d: d, server: u}, nil
}

// Start connects in the background until ctx ends or Stop is called.
func (q *MQTT) Start(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	status := q.d.TopicPrefix + "/status"
	cfg := autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{q.server},
		KeepAlive:                     30,
		CleanStartOnInitialConnection: true,
		ConnectTimeout:                q.d.Timeout,
		ReconnectBackoff:              autopaho.NewExponentialBackoff(100*time.Millisecond, 10*time.Second, time.Second, 2),
		ConnectUsername:               q.d.Username,
		ConnectPassword:               q.d.Password,
		WillMessage:                   &paho.WillMessage{Retain: true, QoS: 1, Topic: status, Payload: []byte("offline")},
		OnConnectionDown: func() bool {
			if q.OnState != nil {
				q.OnState(false)
			}
			return true
		},
		OnConnectionUp: func(cm *autopaho.ConnectionManager, _ *paho.Connack) {
			if q.OnState != nil {
				q.OnState(true)
			}
			// Not from this callback's goroutine: it must not block.
			q.wg.Add(1)
			go func() {
				defer q.wg.Done()
				pctx, cancel := context.WithTimeout(ctx, q.d.Timeout)
				defer cancel()
				_, _ = cm.Publish(pctx, &paho.Publish{QoS: 1, Retain: true, Topic: status, Payload: []byte("online")})
			}()
		},
		ClientConfig: paho.ClientConfig{ClientID: q.d.ClientID},
	}
	cm, err := autopaho.NewConnection(ctx, cfg)
	if err != nil {
		cancel()
		return fmt.Errorf("destination %q: %v", q.d.Name, err)
	}
	q.mu.Lock()
	q.cm, q.stop = cm, cancel
	q.mu.Unlock()
	return nil
}

// Stop publishes offline, disconnects and waits for the client to end.
func (q *MQTT) Stop() {
	q.mu.Lock()
	cm, stop := q.cm, q.stop
	q.mu.Unlock()
	if cm == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), q.d.Timeout)
	defer cancel()
	_, _ = cm.Publish(ctx, &paho.Publish{QoS: 1, Retain: true, Topic: q.d.TopicPrefix + "/status", Payload: []byte("offline")})
	_ = cm.Disconnect(ctx)
	stop()
	<-cm.Done()
	q.wg.Wait()
}

// Send publishes m with QoS 1 and waits for the broker's PUBACK.
func (q *MQTT) Send(ctx context.Context, m Message) error {
	q.mu.Lock()
	cm := q.cm
	q.mu.Unlock()
	if cm == nil {
		return errors.New("not started")
	}
	ctx, cancel := context.WithTimeout(ctx, q.d.Timeout)
	defer cancel()
	props := &paho.PublishProperties{ContentType: "application/json"}
	props.User.Add("message-id", m.ID)
	_, err := cm.Publish(ctx, &paho.Publish{QoS: 1, Retain: m.Kind == KindAvailability,
		Topic: topic(q.d.TopicPrefix, m), Payload: m.Payload, Properties: props})
	switch {
	case errors.Is(err, autopaho.ConnectionDownError):
		return errors.New("broker not connected")
	case errors.Is(err, context.DeadlineExceeded):
		return errors.New("broker did not acknowledge in time")
	case err != nil:
		return fmt.Errorf("publish: %v", err) // paho errors name no credentials
	}
	return nil
}
