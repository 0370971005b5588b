package bench

import (
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// loadResult is what an open-loop run measured.
type loadResult struct {
	offered            float64 // calls per second the schedule asked for
	achieved           float64 // successful calls per second, from the first call due to the last answer
	p50, p95, p99, max time.Duration
	// lagP99 is the 99th percentile of how late calls started: the load generator's own share
	// of the latencies (it shares the machine's cores with what it measures).
	lagP99   time.Duration
	errors   int64
	firstErr error
}

// openLoop offers n calls of op at rate calls per second on a fixed schedule: call i is due at
// start + i/rate and starts then in a goroutine of its own, however many earlier calls are still
// waiting for their answer. A slow answer therefore does not slow the offered load down (as it
// would in a closed loop of workers), and a call's latency is counted from when it was due, not
// from when it got going: a backlog, of the system under test or of this scheduler, shows in the
// latencies instead of being hidden (no coordinated omission). Latencies are of successful calls.
func openLoop(n int, rate float64, op func() error) loadResult {
	interval := time.Duration(float64(time.Second) / rate)
	lat := make([]time.Duration, n) // one slot per call: no lock on the hot path
	lag := make([]time.Duration, n)
	var (
		errs     atomic.Int64
		errOnce  sync.Once
		firstErr error
		lastDone atomic.Int64 // unix nanos of the last answer
		wg       sync.WaitGroup
	)
	start := time.Now()
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		wg.Go(func() {
			lag[i] = time.Since(due)
			err := op()
			done := time.Now()
			for {
				last := lastDone.Load()
				if done.UnixNano() <= last || lastDone.CompareAndSwap(last, done.UnixNano()) {
					break
				}
			}
			if err != nil {
				lat[i] = -1
				errs.Add(1)
				errOnce.Do(func() { firstErr = err })
				return
			}
			lat[i] = done.Sub(due)
		})
	}
	wg.Wait()

	ok := slices.DeleteFunc(lat, func(d time.Duration) bool { return d < 0 })
	slices.Sort(ok)
	r := loadResult{errors: errs.Load(), firstErr: firstErr}
	r.offered = rate
	if span := time.Duration(n-1) * interval; span > 0 {
		r.offered = float64(n-1) / span.Seconds()
	}
	if elapsed := time.Duration(lastDone.Load() - start.UnixNano()); elapsed > 0 {
		r.achieved = float64(len(ok)) / elapsed.Seconds()
	}
	slices.Sort(lag)
	r.lagP99 = quantile(lag, 0.99)
	if len(ok) > 0 {
		r.p50, r.p95, r.p99, r.max = quantile(ok, 0.50), quantile(ok, 0.95), quantile(ok, 0.99), ok[len(ok)-1]
	}
	return r
}

// quantile is the nearest-rank q-quantile of sorted.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}
