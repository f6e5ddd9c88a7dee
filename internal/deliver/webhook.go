package deliver

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Webhook headers. The signature is "v1=" and the hex HMAC-SHA256, keyed
// by the destination's secret, of the timestamp, a dot and the body.
const (
	HeaderID        = "Vigil-Message-Id"
	HeaderTimestamp = "Vigil-Timestamp" // Unix seconds when this attempt was sent
	HeaderSignature = "Vigil-Signature"
)

// Destination is one configured receiver. It holds credentials: it is
// built from the config at start and never stored, logged or served.
type Destination struct {
	Name string
	Type string // "webhook" or "mqtt"
	URL  string // may hold user:password or a token: never logged
	// Format of a webhook body: "json" (a Notice) or "cap" (CAP 1.2 XML;
	// only incident messages are sent, events are skipped).
	Format string
	// Secret keys the webhook signature.
	Secret []byte
	// Sender is the CAP sender (default "vigil").
	Sender string
	// MQTT: credentials, client id and topic prefix (default "vigil").
	Username    string
	Password    []byte
	ClientID    string
	TopicPrefix string
	// Timeout bounds one attempt (default 10 s).
	Timeout time.Duration
}

// String names the destination without its URL or credentials, so that
// printing one by mistake leaks nothing.
func (d Destination) String() string { return "destination " + d.Name }

// GoString is what %#v prints: the same.
func (d Destination) GoString() string { return d.String() }

// LogValue is what slog prints: the same.
func (d Destination) LogValue() slog.Value { return slog.StringValue(d.String()) }

// Webhook posts messages over HTTP(S).
type Webhook struct {
	d      Destination
	client *http.Client
	now    func() time.Time
}

// NewWebhook makes a webhook transport; now stamps the signature (nil:
// time.Now).
func NewWebhook(d Destination, now func() time.Time) (*Webhook, error) {
	u, err := url.Parse(d.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("destination %q: url must be http(s)://host/path", d.Name)
	}
	if d.Format == "" {
		d.Format = "json"
	}
	if d.Format != "json" && d.Format != "cap" {
		return nil, fmt.Errorf("destination %q: format must be json or cap", d.Name)
	}
	if d.Timeout <= 0 {
		d.Timeout = 10 * time.Second
	}
	if d.Sender == "" {
		d.Sender = "vigil"
	}
	if now == nil {
		now = time.Now
	}
	// Redirects are not followed: a signed body must not be replayed to a
	// host the destination did not name.
	// The worker posts several lanes at once to one receiver: keep that
	// many connections alive instead of the default two.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	c := &http.Client{Timeout: d.Timeout, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &Webhook{d: d, client: c, now: now}, nil
}

// Body renders a message as this destination sends it; ok is false for a
// message the format does not carry (events to a CAP receiver).
func (w *Webhook) Body(m Message) (body []byte, contentType string, ok bool, err error) {
	if w.d.Format != "cap" {
		return m.Payload, "application/json", true, nil
	}
	if m.Kind != KindIncident {
		return nil, "", false, nil
	}
	var n Notice
	if err := json.Unmarshal(m.Payload, &n); err != nil {
		return nil, "", false, Permanent(fmt.Errorf("payload: %v", err))
	}
	b, err := CAP(n, w.d.Sender)
	if err != nil {
		return nil, "", false, Permanent(err)
	}
	return b, "application/cap+xml", true, nil
}

// Send posts m; 2xx is delivered, 408, 425, 429 and 5xx are retried, any
// other status is permanent. Errors never quote the URL.
func (w *Webhook) Send(ctx context.Context, m Message) error {
	body, ct, ok, err := w.Body(m)
	if err != nil || !ok {
		return err
	}
	ts := strconv.FormatInt(w.now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.d.URL, bytes.NewReader(body))
	if err != nil {
		return Permanent(errors.New("cannot build request"))
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("User-Agent", "vigil")
	req.Header.Set(HeaderID, m.ID)
	req.Header.Set(HeaderTimestamp, ts)
	if len(w.d.Secret) > 0 {
		req.Header.Set(HeaderSignature, Sign(w.d.Secret, ts, body))
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return errors.New(describe(err))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return nil
	case c == http.StatusRequestTimeout, c == http.StatusTooEarly, c == http.StatusTooManyRequests, c >= 500:
		return fmt.Errorf("receiver answered %d", c)
	default:
		return Permanent(fmt.Errorf("receiver rejected the message with %d", c))
	}
}

// describe explains a transport error without the URL, which *url.Error
// quotes whole (user:password and query tokens included).
func describe(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "timed out"
	}
	msg := err.Error()
	// A dial error names only host:port, which is not secret, but other
	// layers may wrap the URL again: cut anything that looks like one.
	if i := strings.Index(msg, "://"); i >= 0 {
		msg = msg[:max(0, strings.LastIndex(msg[:i], " "))] + " (address redacted)"
	}
	return "post failed: " + msg
}

// Sign is the webhook signature of body sent at timestamp ts (Unix
// seconds, as in the Vigil-Timestamp header).
func Sign(secret []byte, ts string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a webhook request's signature and that its timestamp is
// within window of now: what a receiver does (the README shows the same
// in a few lines). A replayed request outside the window fails.
func Verify(secret []byte, h http.Header, body []byte, now time.Time, window time.Duration) error {
	ts := h.Get(HeaderTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("missing or malformed " + HeaderTimestamp)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > window || d < -window {
		return fmt.Errorf("timestamp %s is outside the replay window of %v", ts, window)
	}
	want := Sign(secret, ts, body)
	if !hmac.Equal([]byte(want), []byte(h.Get(HeaderSignature))) {
		return errors.New("signature mismatch")
	}
	return nil
}

// permanent marks an error that retrying cannot fix.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// Permanent wraps err so the worker dead-letters the message at once.
func Permanent(err error) error { return permanent{err} }

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// Transports builds a transport per destination, by name. MQTT
// transports connect when the worker's Run starts them.
func Transports(ds []Destination) (map[string]Transport, error) {
	out := make(map[string]Transport, len(ds))
	for _, d := range ds {
		var t Transport
		var err error
		switch d.Type {
		case "webhook":
			t, err = NewWebhook(d, nil)
		case "mqtt":
			t, err = NewMQTT(d)
		default:
			err = fmt.Errorf("destination %q: unknown type %q", d.Name, d.Type)
		}
		if err != nil {
			return nil, err
		}
		out[d.Name] = t
	}
	return out, nil
}
