package projections

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/storeline/storeline/metrics"
)

type runnerMetrics struct {
	events, batches, failures, decodeFailures, deadLetters prometheus.Counter
	batchSeconds                                           prometheus.Observer
}

func newMetrics(reg prometheus.Registerer, name string) *runnerMetrics {
	counter := func(n, help string) prometheus.Counter {
		return metrics.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: n, Help: help}, []string{"projection"})).WithLabelValues(name)
	}
	return &runnerMetrics{
		events:         counter("storeline_projection_events_total", "Records applied to a read model (committed with their offsets)."),
		batches:        counter("storeline_projection_batches_total", "Batches committed to a read model."),
		failures:       counter("storeline_projection_batch_failures_total", "Batch transactions that failed and were retried."),
		decodeFailures: counter("storeline_projection_decode_failures_total", "Records that could not be decoded (each is dead-lettered)."),
		deadLetters:    counter("storeline_projection_dead_letters_total", "Records moved to a dead-letter topic."),
		batchSeconds: metrics.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "storeline_projection_batch_seconds", Help: "Time to apply and commit one batch.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}, []string{"projection"})).WithLabelValues(name),
	}
}
