package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// ConfigKind is what a configuration entry describes.
type ConfigKind string

// Configuration kinds kept in the vigil_config bucket as <kind>.<id>.
const (
	ConfigCamera   ConfigKind = "camera"
	ConfigScene    ConfigKind = "scene"
	ConfigProtocol ConfigKind = "protocol"
	// ConfigSuppression is a situation an operator dismissed (id: the
	// suppression's store id): every node holds it in force, so the
	// camera's alerts are suppressed on whichever worker runs it.
	ConfigSuppression ConfigKind = "suppression"
)

// DefaultCameraFPS is a camera's demand when its config names none.
const DefaultCameraFPS = 5

// CameraConfig is a camera as the cluster sees it. Spec is what the
// service runs it with (its source, scene reference, …), opaque here.
type CameraConfig struct {
	ID       string          `json:"id"`
	FPS      float64         `json:"fps,omitempty"` // analysed frames per second it needs
	Disabled bool            `json:"disabled,omitempty"`
	Spec     json.RawMessage `json:"spec,omitempty"`
	// SceneRev is the revision of the camera's scene entry when the camera
	// was written (0: it had none). Bucket reads may be served by a replica
	// behind that revision: a worker that reads an older scene, or none,
	// waits for it instead of starting the camera without its rules.
	SceneRev uint64 `json:"scene_rev,omitempty"`
}

func (cc CameraConfig) demand() float64 {
	if cc.FPS <= 0 {
		return DefaultCameraFPS
	}
	return cc.FPS
}

// ConfigChange is one entry seen by Watch.
type ConfigChange struct {
	Kind    ConfigKind
	ID      string
	Value   []byte // nil when Deleted
	Rev     uint64
	Deleted bool
}

// ConfigStore is the cluster-wide configuration: the api node writes it
// once, every node watches it. Nothing is configured per node.
type ConfigStore struct {
	kv jetstream.KeyValue
	c  *Cluster // reopens an ended watch
}

// Config is the shared configuration.
func (c *Cluster) Config() *ConfigStore { return &ConfigStore{kv: c.config, c: c} }

func configKey(kind ConfigKind, id string) (string, error) {
	switch kind {
	case ConfigCamera, ConfigScene, ConfigProtocol, ConfigSuppression:
	default:
		return "", fmt.Errorf("cluster: unknown config kind %q", kind)
	}
	if err := ValidID(id); err != nil {
		return "", fmt.Errorf("cluster: %s id: %w", kind, err)
	}
	return string(kind) + "." + id, nil
}

// PutCamera stores a camera's config; the coordinator places it.
func (s *ConfigStore) PutCamera(ctx context.Context, cc CameraConfig) (uint64, error) {
	b, err := json.Marshal(cc)
	if err != nil {
		return 0, fmt.Errorf("cluster: encode camera %q: %w", cc.ID, err)
	}
	return s.Put(ctx, ConfigCamera, cc.ID, b)
}

// Put stores an entry and returns its revision.
func (s *ConfigStore) Put(ctx context.Context, kind ConfigKind, id string, value []byte) (uint64, error) {
	key, err := configKey(kind, id)
	if err != nil {
		return 0, err
	}
	rev, err := s.kv.Put(ctx, key, value)
	if err != nil {
		return 0, fmt.Errorf("cluster: put %s: %w", key, err)
	}
	return rev, nil
}

// Delete removes an entry (a removed camera is stopped everywhere).
func (s *ConfigStore) Delete(ctx context.Context, kind ConfigKind, id string) error {
	key, err := configKey(kind, id)
	if err != nil {
		return err
	}
	if err := s.kv.Delete(ctx, key); err != nil {
		return fmt.Errorf("cluster: delete %s: %w", key, err)
	}
	return nil
}

// Get returns an entry and its revision; errors.Is(err, ErrNotFound)
// when absent.
func (s *ConfigStore) Get(ctx context.Context, kind ConfigKind, id string) ([]byte, uint64, error) {
	key, err := configKey(kind, id)
	if err != nil {
		return nil, 0, err
	}
	e, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, fmt.Errorf("cluster: %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("cluster: get %s: %w", key, err)
	}
	return e.Value(), e.Revision(), nil
}

// ErrNotFound is returned for an absent entry.
var ErrNotFound = errors.New("not found")

// Watch calls fn with every current entry, then ready (may be nil) once,
// then with every change, until ctx ends. fn runs on one goroutine. When
// the server ends the watch, it is opened again and fn sees every
// current entry again (so fn must take a value it has seen).
func (s *ConfigStore) Watch(ctx context.Context, fn func(ConfigChange), ready func()) error {
	start := func(ctx context.Context) (jetstream.KeyWatcher, error) { return s.kv.WatchAll(ctx) }
	w, err := start(ctx)
	if err != nil {
		return fmt.Errorf("cluster: watch config: %w", err)
	}
	defer func() {
		if w != nil {
			_ = w.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				_ = w.Stop()
				if w, err = s.c.reopen(ctx, s.kv.Bucket(), start); err != nil {
					return nil // ctx ended
				}
				continue
			}
			if e == nil {
				if ready != nil {
					ready()
					ready = nil
				}
				continue
			}
			kind, id, ok := strings.Cut(e.Key(), ".")
			if !ok {
				continue
			}
			ch := ConfigChange{Kind: ConfigKind(kind), ID: id, Rev: e.Revision()}
			if op := e.Operation(); op == jetstream.KeyValueDelete || op == jetstream.KeyValuePurge {
				ch.Deleted = true
			} else {
				ch.Value = e.Value()
			}
			fn(ch)
		}
	}
}
