package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-cctv/vigil/internal/deliver"
	"github.com/vigil-cctv/vigil/internal/store"
)

var _ deliver.Store = (*DB)(nil)

const outboxCols = "o.seq, o.message_id, o.destination, o.camera, o.kind, o.subject, o.payload, o.state, o.attempts, o.created, o.next_at, o.last_error, o.done_at"

// nullTime binds a zero time as NULL.
func (d Dialect) nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return d.arg(Norm(t))
}

// Enqueue adds messages outside any other change (availability, counts).
func (db *DB) Enqueue(ctx context.Context, msgs []deliver.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error { return db.enqueue(ctx, tx, msgs) })
	if err != nil {
		return fmt.Errorf("store: enqueue: %w", err)
	}
	return nil
}

// enqueue inserts messages in tx; a message already stored for its
// destination is skipped, which makes every enqueue idempotent.
func (db *DB) enqueue(ctx context.Context, tx *sql.Tx, msgs []deliver.Message) error {
	q := db.D.rebind(`INSERT INTO outbox (message_id, destination, camera, kind, subject, payload, state, attempts,
		created, next_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, '') ON CONFLICT (message_id, destination) DO NOTHING`)
	now := db.now()
	for _, m := range msgs {
		created := now
		if !m.Created.IsZero() {
			created = Norm(m.Created)
		}
		next := created
		if !m.NextAt.IsZero() {
			next = Norm(m.NextAt)
		}
		if _, err := tx.ExecContext(ctx, q, m.ID, m.Destination, m.Camera, m.Kind, m.Subject, m.Payload,
			deliver.Pending, db.D.arg(created), db.D.arg(next)); err != nil {
			return fmt.Errorf("message %s to %s: %w", m.ID, m.Destination, err)
		}
	}
	return nil
}

// lanesDue selects the first pending message of each lane.
const laneHeads = `SELECT destination, camera, MIN(seq) AS head FROM outbox WHERE state = 'pending' GROUP BY destination, camera`

// dueLanes selects the pending messages of the lanes whose head is due at
// its first parameter and not claimed at its second.
const dueLanes = `SELECT ` + outboxCols + ` FROM outbox o
	JOIN (` + laneHeads + `) h ON o.destination = h.destination AND o.camera = h.camera
	JOIN outbox hd ON hd.seq = h.head
	WHERE o.state = 'pending' AND hd.next_at <= ? AND (hd.claimed_until IS NULL OR hd.claimed_until <= ?)
	ORDER BY o.seq LIMIT ?`

// Due returns what Claim would take at now, without claiming it (tests
// and inspection).
func (db *DB) Due(ctx context.Context, now time.Time, limit int) ([]deliver.Message, error) {
	msgs, err := db.queryOutbox(ctx, db.D.rebind(dueLanes), db.D.arg(Norm(now)), db.D.arg(Norm(now)), limit)
	if err != nil {
		return nil, fmt.Errorf("store: due messages: %w", err)
	}
	return msgs, nil
}

// Claim takes the due lanes for claimer until until. Claims are taken
// under one lock, so two claimers never see the same lane unclaimed; a
// lane is claimed through its head, so the messages behind a claimed
// head wait for it whoever claims them.
func (db *DB) Claim(ctx context.Context, claimer string, now, until time.Time, limit int) ([]deliver.Message, error) {
	var msgs []deliver.Message
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.lock(ctx, tx, "outbox-claim"); err != nil {
			return err
		}
		var err error
		msgs, err = queryAll(ctx, tx, db.D.rebind(dueLanes), scanMessage, db.D.arg(Norm(now)), db.D.arg(Norm(now)), limit)
		if err != nil || len(msgs) == 0 {
			return err
		}
		args := []any{claimer, db.D.arg(Norm(until))}
		for _, m := range msgs {
			args = append(args, m.Seq)
		}
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(msgs)), ", ")
		_, err = tx.ExecContext(ctx, db.D.rebind(`UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE seq IN (`+marks+`)`), args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim messages: %w", err)
	}
	return msgs, nil
}

// Release drops claimer's claims on pending messages.
func (db *DB) Release(ctx context.Context, claimer string) error {
	_, err := db.W.ExecContext(ctx, db.D.rebind(`UPDATE outbox SET claimed_by = '', claimed_until = NULL
		WHERE state = 'pending' AND claimed_by = ?`), claimer)
	if err != nil {
		return fmt.Errorf("store: release claims: %w", err)
	}
	return nil
}

func (db *DB) queryOutbox(ctx context.Context, q string, args ...any) ([]deliver.Message, error) {
	return queryAll(ctx, db.R, q, scanMessage, args...)
}

// queryAll runs a query and scans every row with scan.
func queryAll[T any](ctx context.Context, q querier, query string, scan func(scanner) (T, error), args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func scanMessage(s scanner) (deliver.Message, error) {
	var m deliver.Message
	err := s.Scan(&m.Seq, &m.ID, &m.Destination, &m.Camera, &m.Kind, &m.Subject, &m.Payload, &m.State, &m.Attempts,
		timeCol{&m.Created}, timeCol{&m.NextAt}, &m.LastError, timeCol{&m.Done})
	return m, err
}

// MarkDelivered records deliveries, in one statement.
func (db *DB) MarkDelivered(ctx context.Context, seqs []int64, at time.Time) error {
	if len(seqs) == 0 {
		return nil
	}
	args := []any{deliver.Delivered, db.D.arg(Norm(at))}
	for _, s := range seqs {
		args = append(args, s)
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(seqs)), ", ")
	_, err := db.W.ExecContext(ctx, db.D.rebind(`UPDATE outbox SET state = ?, done_at = ?, last_error = '' WHERE seq IN (`+marks+`)`), args...)
	if err != nil {
		return fmt.Errorf("store: mark %d messages delivered: %w", len(seqs), err)
	}
	return nil
}

// MarkFailed records a failed attempt, or a dead letter.
func (db *DB) MarkFailed(ctx context.Context, seq int64, attempts int, next time.Time, errText string, dead bool, at time.Time) error {
	state, done := deliver.Pending, any(nil)
	if dead {
		state, done = deliver.Dead, db.D.arg(Norm(at))
	}
	if len(errText) > 1000 {
		errText = errText[:1000]
	}
	_, err := db.W.ExecContext(ctx, db.D.rebind(`UPDATE outbox SET state = ?, attempts = ?, next_at = ?, last_error = ?, done_at = ?,
		claimed_by = '', claimed_until = NULL WHERE seq = ? AND state = 'pending'`), state, attempts, db.D.arg(Norm(next)), errText, done, seq)
	if err != nil {
		return fmt.Errorf("store: mark message %d failed: %w", seq, err)
	}
	return nil
}

// DeadLetters lists dead messages, newest first.
func (db *DB) DeadLetters(ctx context.Context, f deliver.DeadFilter) ([]deliver.Message, error) {
	var w where
	w.add("o.state = ?", deliver.Dead)
	if f.Destination != "" {
		w.add("o.destination = ?", f.Destination)
	}
	if f.Camera != "" {
		w.add("o.camera = ?", f.Camera)
	}
	if f.After > 0 {
		w.add("o.seq < ?", f.After)
	}
	q := db.D.rebind(`SELECT ` + outboxCols + ` FROM outbox o` + w.String() + ` ORDER BY o.seq DESC LIMIT ?`)
	msgs, err := db.queryOutbox(ctx, q, append(w.args, limit(f.Limit))...)
	if err != nil {
		return nil, fmt.Errorf("store: dead letters: %w", err)
	}
	return msgs, nil
}

// RetryDead makes a dead message pending again with a fresh count.
func (db *DB) RetryDead(ctx context.Context, seq int64, now time.Time) (deliver.Message, error) {
	var m deliver.Message
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.D.rebind(`UPDATE outbox SET state = ?, attempts = 0, next_at = ?, done_at = NULL,
			claimed_by = '', claimed_until = NULL WHERE seq = ? AND state = ?`), deliver.Pending, db.D.arg(Norm(now)), seq, deliver.Dead)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return fmt.Errorf("dead letter %d: %w", seq, store.ErrNotFound)
		}
		m, err = scanMessage(tx.QueryRowContext(ctx, db.D.rebind(`SELECT `+outboxCols+` FROM outbox o WHERE o.seq = ?`), seq))
		return err
	})
	if err != nil {
		return m, fmt.Errorf("store: retry message: %w", err)
	}
	return m, nil
}

// Backlog summarises the outbox.
func (db *DB) Backlog(ctx context.Context) (deliver.Backlog, error) {
	var b deliver.Backlog
	var pending, dead sql.NullInt64
	err := db.R.QueryRowContext(ctx, db.D.rebind(`SELECT
		SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END),
		MIN(CASE WHEN state = 'pending' THEN created END) FROM outbox WHERE state IN ('pending', 'dead')`)).
		Scan(&pending, &dead, timeCol{&b.Oldest})
	if err == nil {
		// A head claimed elsewhere is due, to this node, when the claim
		// lapses (its node marks it sooner, seen at the next poll).
		err = db.R.QueryRowContext(ctx, `SELECT MIN(CASE WHEN hd.claimed_until > hd.next_at THEN hd.claimed_until
			ELSE hd.next_at END) FROM (`+laneHeads+`) h JOIN outbox hd ON hd.seq = h.head`).
			Scan(timeCol{&b.NextAt})
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return b, fmt.Errorf("store: outbox backlog: %w", err)
	}
	b.Pending, b.Dead = pending.Int64, dead.Int64
	return b, nil
}

// PurgeDelivered deletes messages delivered before before.
func (db *DB) PurgeDelivered(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.W.ExecContext(ctx, db.D.rebind(`DELETE FROM outbox WHERE state = ? AND done_at < ?`),
		deliver.Delivered, db.D.arg(Norm(before)))
	if err != nil {
		return 0, fmt.Errorf("store: purge outbox: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
