package cluster

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
)

// fakeWatch is a KV watch whose entries the test sends.
type fakeWatch struct{ ch chan jetstream.KeyValueEntry }

func newFakeWatch() fakeWatch                               { return fakeWatch{ch: make(chan jetstream.KeyValueEntry, 16)} }
func (w fakeWatch) Updates() <-chan jetstream.KeyValueEntry { return w.ch }
func (w fakeWatch) Stop() error                             { return nil }
func (w fakeWatch) put(key, value string, rev uint64) {
	w.ch <- entry{key, value, rev, jetstream.KeyValuePut}
}
func (w fakeWatch) del(key string, rev uint64) { w.ch <- entry{key, "", rev, jetstream.KeyValueDelete} }
func (w fakeWatch) replayed()                  { w.ch <- nil }

type entry struct {
	key, value string
	rev        uint64
	op         jetstream.KeyValueOp
}

func (e entry) Bucket() string                  { return "test" }
func (e entry) Key() string                     { return e.key }
func (e entry) Value() []byte                   { return []byte(e.value) }
func (e entry) Revision() uint64                { return e.rev }
func (e entry) Created() time.Time              { return time.Time{} }
func (e entry) Delta() uint64                   { return 0 }
func (e entry) Operation() jetstream.KeyValueOp { return e.op }

func keys(m *mirror) []string { return slices.Sorted(maps.Keys(m.snapshot())) }

// A mirror whose watch the server ends opens it again and takes the
// replayed bucket as a whole: an entry deleted while it was closed is
// gone, and later changes apply and signal.
func TestMirrorReopensAnEndedWatch(t *testing.T) {
	first, second := newFakeWatch(), newFakeWatch()
	reopened := make(chan struct{})
	m := newMirror()
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); <-m.done }()
	go m.run(ctx, first, func() (jetstream.KeyWatcher, error) { close(reopened); return second, nil })

	first.put("a", "1", 1)
	first.put("b", "1", 2)
	first.replayed()
	require.NoError(t, m.wait(ctx))
	<-m.changed
	require.Equal(t, []string{"a", "b"}, keys(m))

	close(first.ch)
	<-reopened
	second.put("b", "2", 4) // a was deleted while no watch was open
	second.replayed()
	<-m.changed
	require.Equal(t, []string{"b"}, keys(m))
	require.EqualValues(t, 4, m.snapshot()["b"].Revision())

	second.put("c", "1", 5)
	<-m.changed
	second.del("b", 6)
	<-m.changed
	require.Equal(t, []string{"c"}, keys(m))
	select {
	case <-m.done:
		t.Fatal("the mirror stopped")
	default:
	}
}

// A worker whose assignment watch was reopened takes the replayed
// assignments as a whole, and runs nothing from a half replay.
func TestWorkerTakesAReplayWhole(t *testing.T) {
	c := &Cluster{opts: Options{Node: "w1"}}
	was := map[string]Lease{"cam-1": {Camera: "cam-1", Node: "w1", Fence: 3}}
	wk := &worker{c: c, assigned: maps.Clone(was), running: map[string]Lease{}, fresh: map[string]Lease{}}
	w := newFakeWatch()
	ctx := context.Background()
	wait := func() { require.NoError(t, wk.wait(ctx, w, false, time.Time{}, nil)) }
	w.put("cam-2", `{"node":"w1"}`, 7)
	w.put("cam-3", `{"node":"w2"}`, 8)
	w.replayed()
	wait()
	wait()
	require.Equal(t, was, wk.assigned, "a half replay changes nothing")
	wait()
	require.Nil(t, wk.fresh)
	require.Equal(t, map[string]Lease{"cam-2": {Camera: "cam-2", Node: "w1", Fence: 7}}, wk.assigned)

	close(w.ch)
	require.ErrorIs(t, wk.wait(ctx, w, false, time.Time{}, nil), errWatchEnded)
}
