package auth

import (
	"context"
	"encoding/json"
	"time"
)

// auditRetries and auditBackoff: a failed audit write is retried before it
// is given up (logged at error level and counted in AuditFailures).
const (
	auditRetries = 3
	auditBackoff = 200 * time.Millisecond
	// maxAuditJSON bounds what one entry's before or after may hold.
	maxAuditJSON = 64 << 10
)

// Audit appends an entry to the audit log: who (a), what (action on
// object), before → after (any JSON-encodable values; nil is null), when
// (now) and from where (a.Addr). It runs after the change it records was
// stored, so it does not fail the request: it retries, then logs and
// counts the loss.
func (s *Service) Audit(ctx context.Context, a Actor, action, object string, before, after any, detail string) {
	e := AuditEntry{At: s.now(), Actor: a.Name, Via: a.Via, Action: action, Object: object,
		Before: auditJSON(before), After: auditJSON(after), Addr: a.Addr, Detail: truncate(detail, 500)}
	ctx = context.WithoutCancel(ctx) // the client leaving must not lose the record
	for try := 0; ; try++ {
		_, err := s.st.AppendAudit(ctx, e)
		if err == nil {
			return
		}
		if try+1 == auditRetries {
			s.AuditFailures.Add(1)
			s.log.Error("audit entry lost", "action", action, "object", object, "actor", a.Name, "err", err)
			return
		}
		time.Sleep(auditBackoff << try)
	}
}

// auditJSON encodes a value for the log; values that cannot be encoded or
// are too large are replaced by a note saying so.
func auditJSON(v any) json.RawMessage {
	if v == nil {
		return json.RawMessage("null")
	}
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"unencodable": err.Error()})
	}
	if len(b) > maxAuditJSON {
		b, _ = json.Marshal(map[string]any{"truncated": true, "bytes": len(b)})
	}
	return b
}

// ListAudit reads the audit log, newest first.
func (s *Service) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	return s.st.ListAudit(ctx, f)
}
