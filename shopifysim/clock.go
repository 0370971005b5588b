package shopifysim

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Clock is the simulator's time: webhook retries, late deliveries, bulk operations' status
// machine, the cost bucket's restore and the expiry of result URLs all read it. Tests give a
// *FakeClock, `make run` a compressed one, so Shopify's hours pass in seconds or not at all.
type Clock interface {
	// Now is the clock's current time.
	Now() time.Time
	// Sleep waits until d of the clock's time has passed or ctx ends.
	Sleep(ctx context.Context, d time.Duration) error
	// AfterFunc runs f once d of the clock's time has passed. stop cancels it and reports
	// whether it did so before f ran.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// RealClock is the wall clock.
type RealClock struct{}

// Now is time.Now.
func (RealClock) Now() time.Time { return time.Now() }

// Sleep sleeps d or until ctx ends.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// AfterFunc is time.AfterFunc.
func (RealClock) AfterFunc(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }

// CompressedClock runs factor times faster than the wall clock from start: with factor 3600 a
// Shopify hour passes in a real second, so the 4-hour retry schedule takes 4 seconds.
type CompressedClock struct {
	start     time.Time
	realStart time.Time
	factor    float64
}

// NewCompressedClock returns a clock that reads start now and runs factor times faster than
// the wall clock (factor >= 1).
func NewCompressedClock(start time.Time, factor float64) *CompressedClock {
	if factor < 1 {
		factor = 1
	}
	return &CompressedClock{start: start, realStart: time.Now(), factor: factor}
}

// Now is start plus the real time elapsed since the clock was made, times factor.
func (c *CompressedClock) Now() time.Time {
	return c.start.Add(time.Duration(float64(time.Since(c.realStart)) * c.factor))
}

// Sleep sleeps d/factor of real time.
func (c *CompressedClock) Sleep(ctx context.Context, d time.Duration) error {
	return RealClock{}.Sleep(ctx, c.real(d))
}

// AfterFunc runs f after d/factor of real time.
func (c *CompressedClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(c.real(d), f).Stop
}

func (c *CompressedClock) real(d time.Duration) time.Duration {
	return time.Duration(float64(d) / c.factor)
}

// FakeClock is a clock that moves only when told: Advance (or Set) moves it and runs, in the
// order they fall due and with Now reading their due time, the AfterFunc callbacks it passes.
// Sleep advances the clock itself, so a WebhookSender waiting four hours for its last retry
// returns at once with the clock four hours on. Several goroutines sleeping on one FakeClock
// each move it: time then runs faster than any one of them asked, never slower.
type FakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
	seq    int
	firing sync.Mutex // one Advance fires callbacks at a time, so they run in due order
}

type fakeTimer struct {
	due     time.Time
	seq     int
	f       func()
	stopped bool
}

// NewFakeClock returns a FakeClock reading start.
func NewFakeClock(start time.Time) *FakeClock { return &FakeClock{now: start} }

// Now is the clock's time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock d forward, running every callback that falls due on the way.
func (c *FakeClock) Advance(d time.Duration) {
	c.Set(c.Now().Add(d))
}

// Set moves the clock to t (never backwards), running every callback that falls due on the way.
func (c *FakeClock) Set(t time.Time) {
	c.firing.Lock()
	defer c.firing.Unlock()
	for {
		c.mu.Lock()
		if t.Before(c.now) {
			t = c.now
		}
		var next *fakeTimer
		for _, tm := range c.timers {
			if !tm.stopped && !tm.due.After(t) && (next == nil || tm.due.Before(next.due) || tm.due.Equal(next.due) && tm.seq < next.seq) {
				next = tm
			}
		}
		if next == nil {
			c.now = t
			c.compact()
			c.mu.Unlock()
			return
		}
		next.stopped = true
		if next.due.After(c.now) {
			c.now = next.due
		}
		c.mu.Unlock()
		next.f()
	}
}

// compact drops fired and stopped timers. c.mu is held.
func (c *FakeClock) compact() {
	live := c.timers[:0]
	for _, tm := range c.timers {
		if !tm.stopped {
			live = append(live, tm)
		}
	}
	c.timers = live
}

// Sleep advances the clock by d (see FakeClock).
func (c *FakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d > 0 {
		c.Advance(d)
	}
	return nil
}

// AfterFunc registers f to run when the clock passes now+d. A d <= 0 still waits for the
// next Advance, Set or Sleep.
func (c *FakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	tm := &fakeTimer{due: c.now.Add(d), seq: c.seq, f: f}
	c.timers = append(c.timers, tm)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !tm.stopped
		tm.stopped = true
		return was
	}
}

// Pending returns the due times of the callbacks not yet run, earliest first.
func (c *FakeClock) Pending() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Time
	for _, tm := range c.timers {
		if !tm.stopped {
			out = append(out, tm.due)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}
