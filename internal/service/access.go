package service

import (
	"context"
	"fmt"
	"net"

	"github.com/oklog/run"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vigil-cctv/vigil/internal/httpapi"
)

// apiOptions are the HTTP API's options from the config: authentication
// (on unless auth.disabled, which the config allows on loopback only),
// trusted proxies and origins, and whether the monitoring routes live on
// their own address.
func (s *Service) apiOptions() httpapi.Options {
	a := s.cfg.Auth
	return httpapi.Options{MediaDir: s.media, AuthDisabled: a.Disabled, TrustedProxies: a.Proxies(),
		ProxyUserHeader: a.ProxyUserHeader, TrustedOrigins: a.TrustedOrigins, SeparateMonitor: s.cfg.MonitorListen != ""}
}

// registerAuthMetrics exposes the audit entries lost after retries: a
// change whose record could not be written must not go unnoticed.
func (s *Service) registerAuthMetrics() {
	if s.auth == nil {
		return
	}
	s.metrics.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "vigil_audit_write_failures_total",
		Help: "Audit log entries that could not be written after retries.",
	}, func() float64 { return float64(s.auth.AuditFailures.Load()) }))
}

// addMonitor serves /metrics, /healthz and /readyz on monitor_listen,
// when set, in g. The main address then leaves them out, so it answers
// nothing without a login.
func (s *Service) addMonitor(g *run.Group, ctx context.Context) error {
	if s.cfg.MonitorListen == "" {
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.MonitorListen)
	if err != nil {
		return fmt.Errorf("monitor_listen %s: %w", s.cfg.MonitorListen, err)
	}
	h := httpapi.NewMonitor(httpapi.Deps{Store: s.store, Ready: s.ready, Logger: s.log,
		Metrics: promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{})}, httpapi.Options{})
	s.addServer(g, ctx, ln, h)
	s.log.Info("serving monitoring", "addr", "http://"+ln.Addr().String())
	return nil
}
