// Package embedded starts the zero-set-up services storeline uses when nothing is configured:
// an in-process Kafka broker (franz-go's kfake, its log on disk) and a private PostgreSQL
// cluster built from the machine's PostgreSQL binaries. They are for trying storeline out;
// production and the tests run real Apache Kafka and PostgreSQL.
package embedded

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Kafka is an in-process Kafka-protocol broker whose log survives a restart.
type Kafka struct {
	cluster *kfake.Cluster
}

// StartKafka starts the broker with its log under dir. Every produce is synced to disk before it
// is acknowledged, so a 200 to Shopify never rests on the page cache alone.
func StartKafka(dir string, log *slog.Logger) (*Kafka, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("embedded kafka dir: %w", err)
	}
	c, err := kfake.NewCluster(
		kfake.DataDir(dir),
		kfake.SyncWrites(),
		kfake.NumBrokers(1),
		kfake.Ports(0),
		kfake.DefaultNumPartitions(3),
	)
	if err != nil {
		return nil, fmt.Errorf("start embedded kafka: %w", err)
	}
	log.Info("embedded kafka started (kfake; for trying storeline out, not for production)",
		"addrs", c.ListenAddrs(), "data_dir", dir)
	return &Kafka{cluster: c}, nil
}

// Addrs returns the broker's listen addresses.
func (k *Kafka) Addrs() []string { return k.cluster.ListenAddrs() }

// Close stops the broker and flushes its log.
func (k *Kafka) Close() { k.cluster.Close() }
