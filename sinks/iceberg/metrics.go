package icebergsink

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the sink's Prometheus counters, labelled (but for consumed) with the table
// (namespace.name) they concern.
type metrics struct {
	consumed       prometheus.Counter     // records polled from Kafka
	deadLettered   *prometheus.CounterVec // records written to a dead-letter table, by table and reason
	duplicates     *prometheus.CounterVec // records dropped as a later copy of an event id
	rowsWritten    *prometheus.CounterVec // rows in committed snapshots
	commits        *prometheus.CounterVec // snapshots committed
	markerCommits  *prometheus.CounterVec // markers advanced without a snapshot
	commitFailures *prometheus.CounterVec // commit attempts that failed (conflicts included)
	batchesDropped prometheus.Counter     // batches discarded because another writer committed their partitions first
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	opts := func(name, help string) prometheus.CounterOpts {
		return prometheus.CounterOpts{Namespace: "storeline", Subsystem: "sink", Name: name, Help: help,
			ConstLabels: prometheus.Labels{"sink": "iceberg"}}
	}
	vec := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(opts(name, help), append([]string{"table"}, labels...))
	}
	m := &metrics{
		consumed:       prometheus.NewCounter(opts("records_consumed_total", "Kafka records consumed by the sink.")),
		deadLettered:   vec("dead_lettered_total", "Records written to a dead-letter table, by reason.", "reason"),
		duplicates:     vec("duplicates_dropped_total", "Records dropped because an earlier copy of their event id is in the log."),
		rowsWritten:    vec("rows_written_total", "Rows in committed snapshots."),
		commits:        vec("commits_total", "Snapshots committed."),
		markerCommits:  vec("marker_commits_total", "Offsets markers advanced without a snapshot (tables the batch had no rows for)."),
		commitFailures: vec("commit_failures_total", "Commit attempts that failed, conflicts included."),
		batchesDropped: prometheus.NewCounter(opts("batches_dropped_total", "Batches discarded because another writer committed their partitions first.")),
	}
	if reg == nil {
		return m, nil
	}
	collectors := []*prometheus.Collector{}
	all := []prometheus.Collector{m.consumed, m.deadLettered, m.duplicates, m.rowsWritten, m.commits, m.markerCommits, m.commitFailures, m.batchesDropped}
	for i := range all {
		collectors = append(collectors, &all[i])
	}
	for _, c := range collectors {
		if err := reg.Register(*c); err != nil {
			// A sink restarted on the same registry keeps counting on the registered collector.
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				*c = are.ExistingCollector
				continue
			}
			return nil, fmt.Errorf("register sink metrics: %w", err)
		}
	}
	m.consumed = all[0].(prometheus.Counter)
	m.deadLettered = all[1].(*prometheus.CounterVec)
	m.duplicates = all[2].(*prometheus.CounterVec)
	m.rowsWritten = all[3].(*prometheus.CounterVec)
	m.commits = all[4].(*prometheus.CounterVec)
	m.markerCommits = all[5].(*prometheus.CounterVec)
	m.commitFailures = all[6].(*prometheus.CounterVec)
	m.batchesDropped = all[7].(prometheus.Counter)
	return m, nil
}
