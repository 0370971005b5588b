// Package bench holds storeline's benchmarks that need real services (make bench starts them).
package bench

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const concurrency = 16

// BenchmarkIntakeVsRawProduce compares, in one run on one broker, the webhook intake (a signed
// HTTP request answered once its event is acknowledged by Kafka) with franz-go producing the same
// encoded bytes directly (ProduceSync, acks=all, idempotent), both with 16 requests in flight.
func BenchmarkIntakeVsRawProduce(b *testing.B) {
	rig := newIntakeRig(b, concurrency)
	var intakeRate, rawRate float64
	b.Run("webhook", func(b *testing.B) {
		intakeRate = parallel(b, rig.webhook)
	})
	b.Run("raw_produce", func(b *testing.B) {
		rawRate = parallel(b, rig.rawProduce)
	})
	if rawRate > 0 {
		fmt.Printf("\nintake: %.0f events/s   raw franz-go produce: %.0f events/s   intake/raw: %.2f\n\n", intakeRate, rawRate, intakeRate/rawRate)
	}
}

// parallel runs op b.N times from `concurrency` goroutines and returns the rate in ops/s.
func parallel(b *testing.B, op func() error) float64 {
	b.ReportAllocs()
	var next atomic.Int64
	var errOnce sync.Once
	var firstErr error
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range concurrency {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if err := op(); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	rate := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rate, "events/s")
	return rate
}
