package cluster

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// HandoverState is what a camera has learned and must keep when it moves
// to another node. The chain supplies and takes opaque bytes.
type HandoverState struct {
	Baseline []byte // the learned normal (internal/baseline)
	Motion   []byte // the motion cue's model (internal/motion)
	// Suppression is kept empty: suppressions are cluster-wide, in the
	// config bucket (ConfigSuppression). The part stays in the encoding so
	// states saved before read the same.
	Suppression []byte
}

// ErrFenced is returned when a newer owner has saved the camera's state:
// the caller no longer owns the camera and must stop.
var ErrFenced = errors.New("fenced: a newer owner holds the camera")

// Handover keeps each camera's HandoverState in the vigil_handover object
// store, stamped with the saving lease's fence.
type Handover struct {
	obj jetstream.ObjectStore
	// loads bounds concurrent reads: each object read is a short-lived
	// consumer on the server, and a node taking over hundreds of cameras
	// at once must not exhaust them.
	loads chan struct{}
}

// Handover returns the shared handover store.
func (c *Cluster) Handover() *Handover { return &Handover{obj: c.handover, loads: c.handoverLoads} }

const handoverMagic = "VHO1"

// Save stores st for the lease's camera. It refuses (ErrFenced) when the
// stored state was saved under a larger fence: an old owner's late save
// never overwrites the new owner's. (The check and the write are two
// steps; the old owner has stopped by the time the new one saves, see the
// package doc, so the window is the fencing bound.)
func (h *Handover) Save(ctx context.Context, l Lease, st HandoverState) error {
	if err := ValidID(l.Camera); err != nil {
		return fmt.Errorf("cluster: handover: %w", err)
	}
	if _, fence, err := h.info(ctx, l.Camera); err == nil && fence > l.Fence {
		return fmt.Errorf("cluster: handover of %s at fence %d (stored %d): %w", l.Camera, l.Fence, fence, ErrFenced)
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	var buf bytes.Buffer
	buf.WriteString(handoverMagic)
	for _, part := range [][]byte{st.Baseline, st.Motion, st.Suppression} {
		_ = binary.Write(&buf, binary.BigEndian, uint32(len(part)))
		buf.Write(part)
	}
	meta := jetstream.ObjectMeta{Name: l.Camera, Headers: nats.Header{}}
	meta.Headers.Set(HeaderFence, strconv.FormatUint(l.Fence, 10))
	meta.Headers.Set(HeaderNode, l.Node)
	if err := retryTimeouts(ctx, func() error { // a repeated put writes the same object
		_, err := h.obj.Put(ctx, meta, bytes.NewReader(buf.Bytes()))
		return err
	}); err != nil {
		return fmt.Errorf("cluster: handover save of %s: %w", l.Camera, err)
	}
	return nil
}

// Load returns camera's last saved state and the fence it was saved
// under; errors.Is(err, ErrNotFound) when none was saved.
func (h *Handover) Load(ctx context.Context, camera string) (HandoverState, uint64, error) {
	var st HandoverState
	if err := ValidID(camera); err != nil {
		return st, 0, fmt.Errorf("cluster: handover: %w", err)
	}
	_, fence, err := h.info(ctx, camera)
	if err != nil {
		return st, 0, err
	}
	select {
	case h.loads <- struct{}{}:
		defer func() { <-h.loads }()
	case <-ctx.Done():
		return st, 0, ctx.Err()
	}
	var data []byte
	err = retryTimeouts(ctx, func() (err error) { data, err = h.obj.GetBytes(ctx, camera); return err })
	if err != nil {
		return st, 0, fmt.Errorf("cluster: handover load of %s: %w", camera, err)
	}
	st, err = decodeHandover(data)
	if err != nil {
		return st, 0, fmt.Errorf("cluster: handover of %s: %w", camera, err)
	}
	return st, fence, nil
}

// loadAttempts is how often a handover request that timed out is tried: a
// node starved of CPU (or a server busy re-electing) can miss a chunk's
// deadline, and a camera that starts without its state starts learning
// from zero.
const loadAttempts = 3

// retryTimeouts runs fn again after a timeout while ctx lives, up to
// loadAttempts times (other errors are final: not found, fenced).
func retryTimeouts(ctx context.Context, fn func() error) error {
	var err error
	for range loadAttempts {
		if err = fn(); err == nil || !timedOut(ctx, err) {
			return err
		}
	}
	return err
}

// timedOut reports an error that a retry may cure: a NATS or context
// timeout while the caller's context is still alive.
func timedOut(ctx context.Context, err error) bool {
	return ctx.Err() == nil && (errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded))
}

func (h *Handover) info(ctx context.Context, camera string) (*jetstream.ObjectInfo, uint64, error) {
	var info *jetstream.ObjectInfo
	err := retryTimeouts(ctx, func() (err error) { info, err = h.obj.GetInfo(ctx, camera); return err })
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, 0, fmt.Errorf("cluster: handover of %s: %w", camera, ErrNotFound)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("cluster: handover of %s: %w", camera, err)
	}
	fence, _ := strconv.ParseUint(info.Headers.Get(HeaderFence), 10, 64)
	return info, fence, nil
}

func decodeHandover(data []byte) (HandoverState, error) {
	var st HandoverState
	r := bytes.NewReader(data)
	magic := make([]byte, len(handoverMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != handoverMagic {
		return st, errors.New("not a handover object")
	}
	for _, part := range []*[]byte{&st.Baseline, &st.Motion, &st.Suppression} {
		var n uint32
		if err := binary.Read(r, binary.BigEndian, &n); err != nil {
			return st, fmt.Errorf("truncated: %w", err)
		}
		if int64(n) > int64(r.Len()) {
			return st, fmt.Errorf("part of %d bytes with %d left", n, r.Len())
		}
		*part = make([]byte, n)
		_, _ = io.ReadFull(r, *part)
	}
	if r.Len() != 0 {
		return st, fmt.Errorf("%d trailing bytes", r.Len())
	}
	return st, nil
}
