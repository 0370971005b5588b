package icebergsink

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the sink's Prometheus counters, labelled with the table they feed.
type metrics struct {
	consumed       prometheus.Counter // records polled from Kafka
	decodeFailures prometheus.Counter // records skipped because they could not be decoded or converted
	duplicates     prometheus.Counter // records dropped as a later copy of an event id
	rowsWritten    prometheus.Counter // rows in committed snapshots
	commits        prometheus.Counter // snapshots committed
	commitFailures prometheus.Counter // commit attempts that failed (conflicts included)
	batchesDropped prometheus.Counter // batches discarded because another writer committed their partitions first
}

func newMetrics(reg prometheus.Registerer, tableName string) (*metrics, error) {
	labels := prometheus.Labels{"sink": "iceberg", "table": tableName}
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "storeline", Subsystem: "sink", Name: name, Help: help, ConstLabels: labels,
		})
	}
	m := &metrics{
		consumed:       counter("records_consumed_total", "Kafka records consumed by the sink."),
		decodeFailures: counter("decode_failures_total", "Records skipped because they could not be decoded or converted."),
		duplicates:     counter("duplicates_dropped_total", "Records dropped because an earlier copy of their event id is in the log."),
		rowsWritten:    counter("rows_written_total", "Rows in committed snapshots."),
		commits:        counter("commits_total", "Snapshots committed."),
		commitFailures: counter("commit_failures_total", "Commit attempts that failed, conflicts included."),
		batchesDropped: counter("batches_dropped_total", "Batches discarded because another writer committed their partitions first."),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []*prometheus.Counter{&m.consumed, &m.decodeFailures, &m.duplicates, &m.rowsWritten, &m.commits, &m.commitFailures, &m.batchesDropped} {
		if err := reg.Register(*c); err != nil {
			// A sink restarted on the same registry keeps counting on the registered counter.
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				if existing, ok := are.ExistingCollector.(prometheus.Counter); ok {
					*c = existing
					continue
				}
			}
			return nil, fmt.Errorf("register sink metrics: %w", err)
		}
	}
	return m, nil
}
