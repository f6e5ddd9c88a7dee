package service

import (
	"github.com/prometheus/client_golang/prometheus"
)

// supervisorCollector exports the ingest supervisors' own counters at
// scrape time (they live in package ingest, not in Prometheus).
type supervisorCollector struct {
	s       *Service
	gated   *prometheus.Desc
	dropped *prometheus.Desc
}

func newSupervisorCollector(s *Service) *supervisorCollector {
	return &supervisorCollector{s: s,
		gated: prometheus.NewDesc("vigil_frames_gated_total",
			"Frames the motion gate kept from the detector because nothing moved.", []string{"camera"}, nil),
		dropped: prometheus.NewDesc("vigil_ingest_dropped_total",
			"Frames dropped between decoder and analysis because analysis lagged.", []string{"camera"}, nil),
	}
}

func (c *supervisorCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.gated
	ch <- c.dropped
}

func (c *supervisorCollector) Collect(ch chan<- prometheus.Metric) {
	c.s.mu.Lock()
	runs := make([]*camRun, 0, len(c.s.cams))
	for _, r := range c.s.cams {
		runs = append(runs, r)
	}
	c.s.mu.Unlock()
	for _, r := range runs {
		c.s.mu.Lock()
		sup := r.sup
		c.s.mu.Unlock()
		if sup == nil {
			continue
		}
		st := sup.Status()
		ch <- prometheus.MustNewConstMetric(c.gated, prometheus.CounterValue, float64(st.FramesGated), r.cam.ID)
		ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(st.FramesDropped), r.cam.ID)
	}
}
