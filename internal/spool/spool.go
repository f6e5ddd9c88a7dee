// Package spool keeps writes the store refused and retries them until it
// accepts them: nothing is lost and nothing is written twice.
//
// A Spool is an append-only file of records, each a key and a payload,
// synced to disk before Add returns. Run delivers the pending records in
// order, retrying with exponential backoff while delivery fails, and
// records each success (also synced) so that a restart resumes where it
// stopped. A record delivered just before a crash, whose success was not
// yet recorded, is delivered again after the restart: deliveries must be
// idempotent by key, which is why every record has one (the store
// ignores a key it already holds; see AlertSpool).
//
// A torn record at the end of the file (a crash mid-append) is dropped
// when the file is opened; the Add that wrote it had not returned, so
// its caller never took it for saved.
//
// While anything is pending, Ready reports an error: /readyz turns
// not-ready, and the metrics count what was spooled, delivered, retried
// and what the spool itself failed to write.
package spool

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Record kinds.
const (
	kindPut  byte = 'P'
	kindDone byte = 'D'
)

// maxRecord bounds one record, so a corrupt length cannot make Open
// allocate gigabytes.
const maxRecord = 16 << 20

// Options tune a Spool.
type Options struct {
	// Name labels the metrics (spool="alerts").
	Name string
	// Registerer receives the metrics; nil registers none.
	Registerer prometheus.Registerer
	// BackoffBase and BackoffMax bound the wait between failed deliveries
	// (defaults 500 ms and 30 s).
	BackoffBase, BackoffMax time.Duration
	// Sleep waits d or until ctx ends, reporting whether the full wait
	// happened (default: a timer). Tests make it immediate.
	Sleep func(ctx context.Context, d time.Duration) bool
	// Now is the clock for the age of the oldest record (default time.Now).
	Now func() time.Time
}

// Spool is a durable queue of records awaiting delivery. Add may be
// called from any goroutine; Run from one.
type Spool struct {
	path string
	opt  Options
	m    metrics

	mu      sync.Mutex
	f       *os.File
	pending []entry // oldest first
	keys    map[string]bool
	lastErr error // the last delivery failure, cleared by a success
	diskErr error // the last failure to write the spool file itself
	wake    chan struct{}
}

type entry struct {
	key   string
	data  []byte
	added time.Time
}

// Open opens (creating it 0600 if needed) the spool file at path and
// loads the records still pending.
func Open(path string, opt Options) (*Spool, error) {
	if opt.BackoffBase <= 0 {
		opt.BackoffBase = 500 * time.Millisecond
	}
	if opt.BackoffMax < opt.BackoffBase {
		opt.BackoffMax = max(30*time.Second, opt.BackoffBase)
	}
	if opt.Sleep == nil {
		opt.Sleep = sleep
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	s := &Spool{path: path, opt: opt, keys: map[string]bool{}, wake: make(chan struct{}, 1), m: newMetrics(opt)}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("spool %s: %w", path, err)
	}
	now := opt.Now()
	for _, e := range replay(data) {
		s.pending = append(s.pending, entry{key: e.key, data: e.data, added: now})
		s.keys[e.key] = true
	}
	// Rewrite the file with only what is pending: drops delivered records
	// and any torn tail before new records are appended after it.
	if err := s.rewrite(); err != nil {
		return nil, err
	}
	s.m.pending.Set(float64(len(s.pending)))
	return s, nil
}

// replay reads the records in data, stopping at the first torn or corrupt
// one, and returns the puts without a matching done, in order.
func replay(data []byte) []entry {
	var order []entry
	done := map[string]bool{}
	r := bytes.NewReader(data)
	for {
		kind, key, payload, err := readRecord(r)
		if err != nil {
			break
		}
		switch kind {
		case kindPut:
			order = append(order, entry{key: key, data: payload})
			delete(done, key)
		case kindDone:
			done[key] = true
		}
	}
	var out []entry
	seen := map[string]bool{}
	for i := len(order) - 1; i >= 0; i-- { // the last put of a key wins
		e := order[i]
		if !done[e.key] && !seen[e.key] {
			seen[e.key] = true
			out = append(out, e)
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// record encodes kind, key and payload with a CRC-32 of all of it.
func record(kind byte, key string, payload []byte) []byte {
	var b []byte
	b = append(b, kind)
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	b = binary.AppendUvarint(b, uint64(len(payload)))
	b = append(b, payload...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

var errCorrupt = errors.New("corrupt record")

func readRecord(r *bytes.Reader) (kind byte, key string, payload []byte, err error) {
	start := int(r.Size()) - r.Len()
	kind, err = r.ReadByte()
	if err != nil {
		return 0, "", nil, err
	}
	if kind != kindPut && kind != kindDone {
		return 0, "", nil, errCorrupt
	}
	k, err := readBytes(r)
	if err != nil {
		return 0, "", nil, err
	}
	payload, err = readBytes(r)
	if err != nil {
		return 0, "", nil, err
	}
	var sum [4]byte
	if _, err := io.ReadFull(r, sum[:]); err != nil {
		return 0, "", nil, err
	}
	end := int(r.Size()) - r.Len() - 4
	body := make([]byte, end-start)
	if _, err := r.ReadAt(body, int64(start)); err != nil {
		return 0, "", nil, err
	}
	if crc32.ChecksumIEEE(body) != binary.BigEndian.Uint32(sum[:]) {
		return 0, "", nil, errCorrupt
	}
	return kind, string(k), payload, nil
}

func readBytes(r *bytes.Reader) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > maxRecord || n > uint64(r.Len()) {
		return nil, errCorrupt
	}
	b := make([]byte, n)
	_, err = io.ReadFull(r, b)
	return b, err
}

// rewrite replaces the file with the pending records, atomically, and
// leaves it open for appending.
func (s *Spool) rewrite() error {
	var buf bytes.Buffer
	for _, e := range s.pending {
		buf.Write(record(kindPut, e.key, e.data))
	}
	tmp := s.path + ".tmp"
	if err := writeSynced(tmp, buf.Bytes()); err != nil {
		return fmt.Errorf("spool %s: %w", s.path, err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fmt.Errorf("spool %s: %w", s.path, err)
	}
	syncDir(filepath.Dir(s.path))
	if s.f != nil {
		s.f.Close()
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("spool %s: %w", s.path, err)
	}
	s.f = f
	return nil
}

func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// syncDir makes a rename in dir durable; failing to is not fatal (some
// file systems cannot sync a directory).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// Add stores a record durably. A key already pending is not added again,
// so a caller may retry Add. An error means the record is not saved: the
// spool's own disk failed, which Ready also reports.
func (s *Spool) Add(key string, data []byte) error {
	if key == "" {
		return errors.New("spool: empty key")
	}
	if len(key)+len(data) > maxRecord {
		return fmt.Errorf("spool: record of %d bytes exceeds %d", len(key)+len(data), maxRecord)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys[key] {
		return nil
	}
	if err := s.append(record(kindPut, key, data)); err != nil {
		return err
	}
	s.pending = append(s.pending, entry{key: key, data: bytes.Clone(data), added: s.opt.Now()})
	s.keys[key] = true
	s.m.added.Inc()
	s.m.pending.Set(float64(len(s.pending)))
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

// append writes and syncs one record; called with s.mu held.
func (s *Spool) append(rec []byte) error {
	if s.f == nil {
		return fmt.Errorf("spool %s: closed", s.path)
	}
	_, err := s.f.Write(rec)
	if err == nil {
		err = s.f.Sync()
	}
	if err != nil {
		s.diskErr = err
		s.m.diskErrors.Inc()
		return fmt.Errorf("spool %s: %w", s.path, err)
	}
	s.diskErr = nil
	return nil
}

// Deliver hands one record to its destination; it must be idempotent by
// key (a record may be delivered again after a crash).
type Deliver func(ctx context.Context, key string, data []byte) error

// Run delivers pending records, oldest first, until ctx ends: each is
// retried with exponential backoff until deliver succeeds. It returns
// ctx's error.
func (s *Spool) Run(ctx context.Context, deliver Deliver) error {
	attempt := 0
	for {
		e, ok := s.oldest()
		if !ok {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-s.wake:
				continue
			}
		}
		if err := deliver(ctx, e.key, e.data); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.failed(err)
			if !s.opt.Sleep(ctx, s.backoff(attempt)) {
				return ctx.Err()
			}
			attempt++
			continue
		}
		attempt = 0
		s.delivered(e.key)
	}
}

func (s *Spool) oldest() (entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) == 0 {
		return entry{}, false
	}
	return s.pending[0], true
}

func (s *Spool) failed(err error) {
	s.mu.Lock()
	s.lastErr = err
	s.mu.Unlock()
	s.m.retries.Inc()
}

// delivered records a success; once nothing is pending the file is
// emptied, so it never grows past one outage's worth of records.
func (s *Spool) delivered(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = s.pending[1:]
	delete(s.keys, key)
	s.lastErr = nil
	s.m.delivered.Inc()
	s.m.pending.Set(float64(len(s.pending)))
	if len(s.pending) == 0 {
		if err := s.rewrite(); err == nil {
			return
		}
	}
	// A lost done record only means one more idempotent delivery after a
	// restart, so a disk failure here is counted, not fatal.
	_ = s.append(record(kindDone, key, nil))
}

// backoff is the wait before retry attempt n: doubling from BackoffBase
// up to BackoffMax.
func (s *Spool) backoff(n int) time.Duration {
	d := s.opt.BackoffBase
	for i := 0; i < n && d < s.opt.BackoffMax; i++ {
		d *= 2
	}
	return min(d, s.opt.BackoffMax)
}

// Pending is the number of records awaiting delivery.
func (s *Spool) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

// Ready is nil when nothing waits for delivery and the spool's file
// accepts writes; otherwise it says what is wrong, for /readyz.
func (s *Spool) Ready() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.diskErr != nil {
		return fmt.Errorf("the %s spool cannot write its file: %v", s.name(), s.diskErr)
	}
	if n := len(s.pending); n > 0 {
		msg := fmt.Sprintf("%d %s wait in the spool for the store (oldest for %s)", n, s.name(),
			s.opt.Now().Sub(s.pending[0].added).Round(time.Second))
		if s.lastErr != nil {
			msg += ": " + s.lastErr.Error()
		}
		return errors.New(msg)
	}
	return nil
}

func (s *Spool) name() string {
	if s.opt.Name != "" {
		return s.opt.Name
	}
	return "records"
}

// Close closes the file; records still pending stay in it for next time.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
