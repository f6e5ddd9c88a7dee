package httpapi

import (
	"net/http"

	"github.com/vigil-cctv/vigil/internal/live"
)

// CappedBroker is optionally implemented by the Broker (live.Broker does):
// TrySubscribe refuses an event-stream client beyond its cap with a
// *live.LimitError, which the API answers with 503 and Retry-After.
type CappedBroker interface {
	TrySubscribe() (<-chan Message, func(), error)
}

// subscribeEvents subscribes an event-stream client, through the cap when
// the broker has one.
func (a *api) subscribeEvents() (<-chan Message, func(), error) {
	if cb, ok := a.deps.Broker.(CappedBroker); ok {
		msgs, cancel, err := cb.TrySubscribe()
		if le, isLimit := live.IsLimit(err); isLimit {
			return nil, nil, limitReached(le)
		}
		return msgs, cancel, err
	}
	msgs, cancel := a.deps.Broker.Subscribe()
	return msgs, cancel, nil
}

// limitReached answers a cap: 429 when one camera's viewers are at their
// cap (other cameras can still be watched), 503 when the server's are.
func limitReached(le *live.LimitError) *apiError {
	status := http.StatusTooManyRequests
	if le.Server {
		status = http.StatusServiceUnavailable
	}
	e := errorf(status, codeLimit, "%s", le.Error())
	e.retryAfter = 5
	return e
}
