package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/vigil-cctv/vigil/internal/auth"
)

const auditCols = "id, at, actor, via, action, object, before_json, after_json, addr, detail"

// AppendAudit adds an entry to the append-only audit log (its ID is
// assigned here; At is kept as given).
func (db *DB) AppendAudit(ctx context.Context, e auth.AuditEntry) (int64, error) {
	q := db.D.rebind(`INSERT INTO audit (at, actor, via, action, object, before_json, after_json, addr, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	var id int64
	err := db.W.QueryRowContext(ctx, q, db.D.arg(Norm(e.At)), e.Actor, e.Via, e.Action, e.Object,
		jsonText(e.Before), jsonText(e.After), e.Addr, e.Detail).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: append audit %s %s: %w", e.Action, e.Object, err)
	}
	return id, nil
}

func jsonText(b json.RawMessage) string {
	if len(b) == 0 {
		return "null"
	}
	return string(b)
}

// ListAudit returns entries matching f, newest first.
func (db *DB) ListAudit(ctx context.Context, f auth.AuditFilter) ([]auth.AuditEntry, error) {
	var w where
	if f.Actor != "" {
		w.add("actor = ?", f.Actor)
	}
	for _, c := range []struct{ col, v string }{{"action", f.Action}, {"object", f.Object}} {
		if prefix, ok := strings.CutSuffix(c.v, "*"); ok {
			// substr rather than LIKE: no escaping of % and _, the same
			// case-sensitivity on both engines, and no collation rules.
			w.add("substr("+c.col+", 1, ?) = ?", utf8.RuneCountInString(prefix), prefix)
		} else if c.v != "" {
			w.add(c.col+" = ?", c.v)
		}
	}
	if !f.Since.IsZero() {
		w.add("at >= ?", db.D.arg(Norm(f.Since)))
	}
	if !f.Until.IsZero() {
		w.add("at < ?", db.D.arg(Norm(f.Until)))
	}
	if f.After > 0 {
		w.add("id < ?", f.After)
	}
	q := db.D.rebind(`SELECT ` + auditCols + ` FROM audit` + w.String() + ` ORDER BY id DESC LIMIT ?`)
	rows, err := db.R.QueryContext(ctx, q, append(w.args, limit(f.Limit))...)
	if err != nil {
		return nil, fmt.Errorf("store: list audit: %w", err)
	}
	return collect(rows, scanAudit, "list audit")
}

func scanAudit(s scanner) (auth.AuditEntry, error) {
	var e auth.AuditEntry
	var before, after string
	err := s.Scan(&e.ID, timeCol{&e.At}, &e.Actor, &e.Via, &e.Action, &e.Object, &before, &after, &e.Addr, &e.Detail)
	e.Before, e.After = json.RawMessage(before), json.RawMessage(after)
	return e, err
}
