package incident

import (
	"context"
	"errors"
	"fmt"

	"github.com/vigil-cctv/vigil/internal/protocol"
	"github.com/vigil-cctv/vigil/internal/store"
)

// ProtocolsFile is the name protocol errors from the API are reported
// against.
const ProtocolsFile = "protocols.yaml"

// ReplaceProtocols validates a protocol file (as Parse, against the
// configured destinations), saves it as the next version and puts it in
// force. An invalid file changes nothing and returns scene.Errors.
func (e *Engine) ReplaceProtocols(ctx context.Context, yaml []byte, author string) (int, error) {
	set, err := protocol.Parse(yaml, ProtocolsFile, protocol.Options{Destination: e.o.Destination})
	if err != nil {
		return 0, err
	}
	v, err := e.store.SaveProtocols(ctx, string(yaml), author)
	if err != nil {
		return 0, err
	}
	e.protos.Store(&protocols{set: set, yaml: string(yaml), version: v})
	e.o.Logger.Info("protocols replaced", "version", v, "author", author, "protocols", len(set.Protocols))
	return v, nil
}

// LoadProtocols puts the newest saved protocol file in force, if one was
// saved through the API (through this engine or another on the store:
// Tick calls it); otherwise the set given to NewEngine (from the config
// file) stays. A saved file that no longer validates (say, a
// destination was removed from the config) is an error naming why.
func (e *Engine) LoadProtocols(ctx context.Context) error {
	pv, err := e.store.LatestProtocols(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if pv.Version == e.protos.Load().version {
		return nil
	}
	set, err := protocol.Parse([]byte(pv.YAML), fmt.Sprintf("saved protocols version %d", pv.Version), protocol.Options{Destination: e.o.Destination})
	if err != nil {
		return err
	}
	e.protos.Store(&protocols{set: set, yaml: pv.YAML, version: pv.Version})
	return nil
}

// Get returns an incident with its timeline and history.
func (e *Engine) Get(ctx context.Context, id int64) (Incident, error) {
	return e.store.GetIncident(ctx, id)
}

// List returns the incidents f selects, newest first.
func (e *Engine) List(ctx context.Context, f Filter) ([]Incident, error) {
	return e.store.ListIncidents(ctx, f)
}
