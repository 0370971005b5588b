package shopifyapi

import (
	"math"
	"sync"
	"time"
)

// Cost is a response's extensions.cost.
type Cost struct {
	RequestedQueryCost float64         `json:"requestedQueryCost"`
	ActualQueryCost    *float64        `json:"actualQueryCost"` // null on a throttled response
	ThrottleStatus     *ThrottleStatus `json:"throttleStatus"`
}

// ThrottleStatus is the state of the shop's cost bucket for this app, as the server last
// reported it.
type ThrottleStatus struct {
	MaximumAvailable   float64 `json:"maximumAvailable"`
	CurrentlyAvailable float64 `json:"currentlyAvailable"`
	RestoreRate        float64 `json:"restoreRate"` // points per second
}

const (
	// defaultQueryCost is the estimate for a query the client has not sent yet: about a
	// mutation or a small query. Once sent, the server's requestedQueryCost replaces it.
	defaultQueryCost = 10
	// maxQueryCost is Shopify's per-query limit, on every plan.
	maxQueryCost = 1000
	// maxCostEntries bounds the per-query cost memory; queries come from code, so this is
	// only a guard against a caller that builds query text dynamically.
	maxCostEntries = 1024
)

// bucket is the client's model of the shop's leaky bucket. The server is the truth: every
// response's throttleStatus resets the model; between responses it refills at restoreRate and
// each request reserves its estimated cost, so concurrent callers of one Client queue up
// instead of all spending the same points.
type bucket struct {
	mu    sync.Mutex
	known bool
	max   float64
	avail float64 // may be negative: points reserved by requests still waiting
	rate  float64
	at    time.Time
	costs map[string]float64 // requestedQueryCost by query text
}

// estimate is the cost to reserve for query: what the server asked for it last time.
func (b *bucket) estimate(query string) float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c, ok := b.costs[query]; ok {
		return c
	}
	return defaultQueryCost
}

// remember records the server's requestedQueryCost for query.
func (b *bucket) remember(query string, cost float64) {
	if cost <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.costs == nil || len(b.costs) >= maxCostEntries {
		b.costs = make(map[string]float64)
	}
	b.costs[query] = cost
}

// reserve takes cost points from the model at now and says how long to wait until they are
// there: (needed − available) / restoreRate. With no status from the server yet it does not
// wait: the first response teaches the model.
func (b *bucket) reserve(now time.Time, cost float64) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.known || b.rate <= 0 {
		return 0
	}
	avail := b.level(now)
	need := math.Min(cost, b.max) // a query dearer than the bucket waits for a full bucket
	b.avail = avail - cost
	b.at = now
	if need <= avail {
		return 0
	}
	return ceilMillis((need - avail) / b.rate)
}

// level is the refilled level at now. Callers hold mu.
func (b *bucket) level(now time.Time) float64 {
	elapsed := now.Sub(b.at).Seconds()
	if elapsed < 0 {
		elapsed = 0
	}
	return math.Min(b.max, b.avail+elapsed*b.rate)
}

// observe resets the model to what the server reported at now.
func (b *bucket) observe(now time.Time, ts *ThrottleStatus) {
	if ts == nil || ts.MaximumAvailable <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.known = true
	b.max = ts.MaximumAvailable
	b.avail = ts.CurrentlyAvailable
	b.rate = ts.RestoreRate
	b.at = now
}

// status is the model's current view, refilled to now.
func (b *bucket) status(now time.Time) (ThrottleStatus, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.known {
		return ThrottleStatus{}, false
	}
	return ThrottleStatus{MaximumAvailable: b.max, CurrentlyAvailable: b.level(now), RestoreRate: b.rate}, true
}

// ceilMillis converts seconds to a duration rounded up to the millisecond, so a wait never
// ends a hair before the points are there.
func ceilMillis(seconds float64) time.Duration {
	return time.Duration(math.Ceil(seconds*1000)) * time.Millisecond
}
