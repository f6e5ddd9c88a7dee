// Package httpserver builds the service's *http.Server with every bound a
// public-facing server needs: header and body read timeouts, response
// write timeouts, an idle timeout for keep-alive connections and a cap on
// header size.
//
// net/http's own ReadTimeout and WriteTimeout cannot be used as they are:
// they are per connection, and the server cancels a request's context when
// its connection's read deadline passes, which would cut every live view
// and event stream after ReadTimeout. Here both are applied per request,
// through http.ResponseController, to every route except the streams
// (which set a deadline on each write themselves).
package httpserver

import (
	"context"
	"net"
	"net/http"
	"time"
)

// Config bounds the server. Zero fields take the defaults below.
type Config struct {
	ReadHeaderTimeout time.Duration // default 10 s
	ReadTimeout       time.Duration // whole request, non-streaming routes; default 30 s
	WriteTimeout      time.Duration // whole response, non-streaming routes; default 2 min
	IdleTimeout       time.Duration // keep-alive; default 2 min
	MaxHeaderBytes    int           // default 32 KiB
	// Streaming reports the requests that are long-lived streams (live
	// views, server-sent events): they get no read or write timeout here.
	// nil treats no request as a stream.
	Streaming func(*http.Request) bool
	// BaseContext is every request's parent context (nil: Background), so
	// that streams end when the service stops.
	BaseContext context.Context
}

func (c Config) withDefaults() Config {
	or := func(d, def time.Duration) time.Duration {
		if d > 0 {
			return d
		}
		return def
	}
	c.ReadHeaderTimeout = or(c.ReadHeaderTimeout, 10*time.Second)
	c.ReadTimeout = or(c.ReadTimeout, 30*time.Second)
	c.WriteTimeout = or(c.WriteTimeout, 2*time.Minute)
	c.IdleTimeout = or(c.IdleTimeout, 2*time.Minute)
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = 32 << 10
	}
	return c
}

// New returns a server for handler bounded by cfg; call Serve on it.
func New(handler http.Handler, cfg Config) *http.Server {
	cfg = cfg.withDefaults()
	srv := &http.Server{
		Handler:           deadlines(handler, cfg),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
	}
	if cfg.BaseContext != nil {
		srv.BaseContext = func(net.Listener) context.Context { return cfg.BaseContext }
	}
	return srv
}

// deadlines sets the read and write deadlines of each non-streaming
// request from the moment its headers were read.
func deadlines(next http.Handler, cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cfg.Streaming == nil || !cfg.Streaming(r) {
			rc := http.NewResponseController(w)
			now := time.Now()
			// Errors mean the writer has no deadlines (HTTP/2 before Go
			// supported them, test recorders): nothing to bound then.
			_ = rc.SetReadDeadline(now.Add(cfg.ReadTimeout))
			_ = rc.SetWriteDeadline(now.Add(cfg.WriteTimeout))
		}
		next.ServeHTTP(w, r)
	})
}
