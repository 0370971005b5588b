package projections

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/storeline/storeline/metrics"
)

// Health states of a projection (metric storeline_projection_state).
const (
	StateLive       = "live"       // applying what arrives
	StateRebuilding = "rebuilding" // a version being built, replaying the log (its lag is the rebuild's progress)
	StateStalled    = "stalled"    // a batch has been failing for a minute or more
)

// stalledAfter is how long a batch may keep failing before the projection counts as stalled.
const stalledAfter = time.Minute

type runnerMetrics struct {
	events, batches, failures, decodeFailures, deadLetters prometheus.Counter
	batchSeconds                                           prometheus.Observer
	lag                                                    *prometheus.GaugeVec // by topic, partition
	pendingDeadLetters                                     prometheus.Gauge
	state                                                  *prometheus.GaugeVec // by state: 1 for the current one

	// healthy is the state when nothing fails: live, or rebuilding for a version being built.
	healthy string
	// oldestPending is the timestamp (unix nanos) of the oldest record fetched and not yet
	// committed; 0 when none. failingSince is when the batch in hand first failed; 0 when not.
	oldestPending, failingSince atomic.Int64
}

func newMetrics(reg prometheus.Registerer, name string) *runnerMetrics {
	counter := func(n, help string) prometheus.Counter {
		return metrics.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: n, Help: help}, []string{"projection"})).WithLabelValues(name)
	}
	m := &runnerMetrics{
		events:         counter("storeline_projection_events_total", "Records applied to a read model (committed with their offsets); its rate is the projection's events/s."),
		batches:        counter("storeline_projection_batches_total", "Batches committed to a read model."),
		failures:       counter("storeline_projection_batch_failures_total", "Batch transactions that failed and were retried."),
		decodeFailures: counter("storeline_projection_decode_failures_total", "Records that could not be decoded (each is dead-lettered)."),
		deadLetters:    counter("storeline_projection_dead_letters_total", "Records moved to a dead-letter topic."),
		batchSeconds: metrics.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "storeline_projection_batch_seconds", Help: "Time to apply and commit one batch.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}, []string{"projection"})).WithLabelValues(name),
		lag: metrics.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "storeline_projection_lag", Help: "Records in the log not yet applied, per partition (end offset minus the checkpoint), as of the last look (every 15 s).",
		}, []string{"projection", "topic", "partition"})).MustCurryWith(prometheus.Labels{"projection": name}),
		pendingDeadLetters: metrics.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "storeline_projection_dead_letters_pending", Help: "Dead letters of the projection neither replayed nor discarded (storeline dlq list).",
		}, []string{"projection"})).WithLabelValues(name),
		state: metrics.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "storeline_projection_state", Help: "1 for the projection's current health state: live, rebuilding (a version being built; projection is name@vN) or stalled.",
		}, []string{"projection", "state"})).MustCurryWith(prometheus.Labels{"projection": name}),
	}
	oldest := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "storeline_projection_oldest_unprocessed_seconds", Help: "Age of the oldest record fetched and not yet committed (0 when caught up): how stale the read model is.",
		ConstLabels: prometheus.Labels{"projection": name},
	}, func() float64 {
		if t := m.oldestPending.Load(); t != 0 {
			return time.Since(time.Unix(0, t)).Seconds()
		}
		return 0
	})
	if reg != nil {
		_ = reg.Register(oldest) // a second runner of the same name in one process keeps the first's
	}
	m.healthy = StateLive
	m.setState(StateLive)
	return m
}

func (m *runnerMetrics) setState(state string) {
	for _, s := range []string{StateLive, StateRebuilding, StateStalled} {
		v := 0.0
		if s == state {
			v = 1
		}
		m.state.WithLabelValues(s).Set(v)
	}
}

// batchStarted notes the oldest record of a batch about to be applied.
func (m *runnerMetrics) batchStarted(oldest time.Time) {
	if !oldest.IsZero() {
		m.oldestPending.Store(oldest.UnixNano())
	}
}

// batchFailed notes a failed attempt; past stalledAfter the projection is stalled.
func (m *runnerMetrics) batchFailed() {
	now := time.Now().UnixNano()
	m.failingSince.CompareAndSwap(0, now)
	if time.Duration(now-m.failingSince.Load()) >= stalledAfter {
		m.setState(StateStalled)
	}
}

// batchDone notes a committed batch.
func (m *runnerMetrics) batchDone() {
	m.oldestPending.Store(0)
	if m.failingSince.Swap(0) != 0 {
		m.setState(m.healthy)
	}
}

// watch refreshes the lag and dead-letter gauges every interval until ctx ends.
func (r *Runner) watch(ctx context.Context, adm *kadm.Client, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if parts, err := Lag(ctx, adm, r.pool, r.cfg.TopicPrefix, r.checkpoint, r.proj.Topics()); err == nil {
			for _, p := range parts {
				r.m.lag.WithLabelValues(p.Topic, itoa(p.Partition)).Set(float64(p.Lag))
			}
		}
		var pending int64
		if err := r.pool.QueryRow(ctx, `SELECT count(*) FROM dead_letters WHERE consumer = $1 AND state = 'pending'`, "projection:"+r.proj.Name()).Scan(&pending); err == nil {
			r.m.pendingDeadLetters.Set(float64(pending))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func itoa(p int32) string { return strconv.Itoa(int(p)) }
