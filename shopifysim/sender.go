package shopifysim

import (
	"bytes"
	"container/heap"
	"context"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/storeline/storeline/webhooksig"
)

// SenderOptions configure a WebhookSender: one webhook subscription of one app.
type SenderOptions struct {
	URL        string // the subscription's address: where every delivery goes
	Secret     string // the app's client secret: the HMAC key
	ShopDomain string // X-Shopify-Shop-Domain (default: the store's myshopify domain)
	APIVersion string // X-Shopify-API-Version (default 2026-04)
	Name       string // X-Shopify-Name, the subscription's name (default "storeline"); "-" sends none
	Topics     []string

	// Clock times retries and late deliveries; default RealClock. With a FakeClock the sender
	// sleeps by advancing it, so four hours of retries take no real time.
	Clock Clock
	// Client makes the requests; default: 1 s to connect, 5 s in all, as Shopify. Redirects are
	// never followed (a 3xx is a failure), whatever the client says.
	Client *http.Client
	// Concurrency is how many deliveries are in flight at once; default 1. Above 1 deliveries
	// due together arrive in any order.
	Concurrency int
	// Retries after a failed first attempt, spaced exponentially so the last falls RetryWindow
	// after the first failure. Default 8 over 4 h (Shopify since 2024-09); -1: none.
	Retries     int
	RetryWindow time.Duration
	// KeepSubscription keeps delivering after a delivery gave up. By default the subscription is
	// removed, as Shopify removes one created through the API after persistent failure: every
	// later delivery is reported Undelivered.
	KeepSubscription bool
	// NewWebhookIDOnRetry gives each retry its own X-Shopify-Webhook-Id (the sources disagree on
	// what Shopify does); X-Shopify-Event-Id and X-Shopify-Triggered-At never change.
	NewWebhookIDOnRetry bool

	Faults Faults
	Seed   int64 // decides which changes the faults hit, and the webhook ids
}

// Faults are the ways Shopify's delivery departs from once-and-in-order. Each rate is the share
// of changes it hits, chosen independently with the sender's seed.
type Faults struct {
	// Duplicate delivers the change a second time, with the same X-Shopify-Event-Id, soon after
	// the first (within OutOfOrderWindow positions).
	Duplicate float64
	// DuplicateNewWebhookID is the share of duplicates that carry a new X-Shopify-Webhook-Id;
	// the others repeat the first delivery's.
	DuplicateNewWebhookID float64
	// OutOfOrder moves the change 1..OutOfOrderWindow positions later than history order
	// (an orders/updated can overtake its orders/create).
	OutOfOrder       float64
	OutOfOrderWindow int // default 20
	// Late holds the change back LateBy (default 1 h; Shopify: up to a day), after everything
	// sent in time.
	Late   float64
	LateBy time.Duration
	// Drop never sends the change (it is still in the store's state): only a reconciliation
	// (bulk export) recovers it.
	Drop float64
}

// Attempt is one HTTP request the sender made.
type Attempt struct {
	Seq         int64 // the change's Seq
	Topic       string
	EventID     string
	WebhookID   string
	TriggeredAt time.Time
	Attempt     int // 1 for the first try, 2.. for retries
	At          time.Time
	Status      int // HTTP status; 0 when no response came
	Err         string
	OK          bool
	Duplicate   bool // the fault's second delivery
	Late        bool
}

// Report is what a sender did since it was made.
type Report struct {
	Attempts    []Attempt // every request, in the order they finished
	Delivered   []Change  // changes with at least one 2xx, once each, in order of first success
	Dropped     []Change  // never sent (Faults.Drop)
	Failed      []Change  // a delivery gave up after every retry
	Undelivered []Change  // not sent because the subscription had been removed
	Duplicated  []Change  // changes delivered (or tried) twice on purpose
	Reordered   []Change  // changes moved later (Faults.OutOfOrder)
	Delayed     []Change  // changes held back (Faults.Late)
}

// WebhookSender delivers a store's changes to one address the way Shopify does: signed, with
// all its headers, retried on failure on the sender's clock, with the configured faults. Make
// one with NewWebhookSender; Send or Enqueue changes (or Follow a store); Close when done.
type WebhookSender struct {
	opts   SenderOptions
	client *http.Client
	clock  Clock
	topics map[string]bool
	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex
	cond      *sync.Cond
	rng       *rand.Rand
	queue     deliveryQueue
	order     float64 // history position of the next enqueued change
	inflight  int
	running   bool
	done      chan struct{}
	wakeSleep context.CancelFunc
	removed   bool
	report    Report
	delivered map[int64]bool // by change Seq
}

type delivery struct {
	change    Change
	body      []byte
	webhookID string
	attempt   int
	due       time.Time
	order     float64
	dup, late bool
}

type deliveryQueue []*delivery

func (q deliveryQueue) Len() int { return len(q) }
func (q deliveryQueue) Less(i, j int) bool {
	if !q[i].due.Equal(q[j].due) {
		return q[i].due.Before(q[j].due)
	}
	return q[i].order < q[j].order
}
func (q deliveryQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *deliveryQueue) Push(x any)   { *q = append(*q, x.(*delivery)) }
func (q *deliveryQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// NewWebhookSender makes a sender for one subscription. store (may be nil) supplies the default
// shop domain.
func NewWebhookSender(store *Store, opts SenderOptions) *WebhookSender {
	if opts.ShopDomain == "" && store != nil {
		opts.ShopDomain = store.Shop().MyshopifyDomain
	}
	if opts.APIVersion == "" {
		opts.APIVersion = "2026-04"
	}
	if opts.Name == "" {
		opts.Name = "storeline"
	}
	if opts.Clock == nil {
		opts.Clock = RealClock{}
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 1
	}
	if opts.Retries == 0 {
		opts.Retries = 8
	} else if opts.Retries < 0 {
		opts.Retries = 0
	}
	if opts.RetryWindow <= 0 {
		opts.RetryWindow = 4 * time.Hour
	}
	if opts.Faults.OutOfOrderWindow <= 0 {
		opts.Faults.OutOfOrderWindow = 20
	}
	if opts.Faults.LateBy <= 0 {
		opts.Faults.LateBy = time.Hour
	}
	client := opts.Client
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: time.Second}).DialContext,
			MaxIdleConnsPerHost: opts.Concurrency + 1,
			TLSHandshakeTimeout: 5 * time.Second,
		}}
	} else {
		c := *client
		client = &c
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	w := &WebhookSender{opts: opts, client: client, clock: opts.Clock, rng: rand.New(rand.NewPCG(uint64(opts.Seed), 0x5e11de7)),
		delivered: map[int64]bool{}}
	if len(opts.Topics) > 0 {
		w.topics = map[string]bool{}
		for _, t := range opts.Topics {
			w.topics[t] = true
		}
	}
	w.cond = sync.NewCond(&w.mu)
	w.ctx, w.cancel = context.WithCancel(context.Background())
	return w
}

// Send delivers changes (history order, with the faults) and waits until every delivery
// succeeded, gave up or was dropped, or ctx ends. It returns the sender's whole report.
func (w *WebhookSender) Send(ctx context.Context, changes []Change) (Report, error) {
	w.Enqueue(changes...)
	err := w.Drain(ctx)
	return w.Report(), err
}

// Enqueue schedules changes for delivery and returns at once. Faults apply within what is
// enqueued so far: an out-of-order change moves behind changes enqueued with or after it.
func (w *WebhookSender) Enqueue(changes ...Change) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.clock.Now()
	f := w.opts.Faults
	for _, c := range changes {
		if w.topics != nil && !w.topics[c.Topic] {
			continue
		}
		pos := w.order
		w.order++
		if w.rng.Float64() < f.Drop {
			w.report.Dropped = append(w.report.Dropped, c)
			continue
		}
		d := &delivery{change: c, webhookID: uuidFrom(w.rng), attempt: 1, due: now, order: pos}
		if w.rng.Float64() < f.OutOfOrder {
			d.order += float64(1+w.rng.IntN(f.OutOfOrderWindow)) + 0.5
			w.report.Reordered = append(w.report.Reordered, c)
		}
		if w.rng.Float64() < f.Late {
			d.due, d.late = now.Add(f.LateBy), true
			w.report.Delayed = append(w.report.Delayed, c)
		}
		heap.Push(&w.queue, d)
		if w.rng.Float64() < f.Duplicate {
			dup := *d
			dup.dup = true
			dup.order = d.order + float64(w.rng.IntN(f.OutOfOrderWindow+1)) + 0.25
			if w.rng.Float64() < f.DuplicateNewWebhookID {
				dup.webhookID = uuidFrom(w.rng)
			}
			heap.Push(&w.queue, &dup)
			w.report.Duplicated = append(w.report.Duplicated, c)
		}
	}
	if !w.running && w.queue.Len() > 0 {
		w.running = true
		w.done = make(chan struct{})
		go w.run()
	}
	if w.wakeSleep != nil {
		w.wakeSleep()
	}
	w.cond.Broadcast()
}

// Follow subscribes the sender to a store: every change recorded from now on (an AdminServer
// write's echo, a bulk_operations/finish) is enqueued.
func (w *WebhookSender) Follow(s *Store) (stop func()) {
	return s.Subscribe(func(c Change) { w.Enqueue(c) })
}

// Drain waits until nothing is queued or in flight, or ctx ends.
func (w *WebhookSender) Drain(ctx context.Context) error {
	w.mu.Lock()
	done := w.done
	running := w.running
	w.mu.Unlock()
	if !running {
		return nil
	}
	select {
	case <-done:
		return w.Drain(ctx) // something may have been enqueued since
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops delivering; queued deliveries are abandoned.
func (w *WebhookSender) Close() {
	w.cancel()
	w.mu.Lock()
	w.cond.Broadcast()
	w.mu.Unlock()
}

// Report returns a copy of what the sender did so far.
func (w *WebhookSender) Report() Report {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.report
	r.Attempts = slices.Clone(r.Attempts)
	r.Delivered = slices.Clone(r.Delivered)
	r.Dropped = slices.Clone(r.Dropped)
	r.Failed = slices.Clone(r.Failed)
	r.Undelivered = slices.Clone(r.Undelivered)
	r.Duplicated = slices.Clone(r.Duplicated)
	r.Reordered = slices.Clone(r.Reordered)
	r.Delayed = slices.Clone(r.Delayed)
	return r
}

// backoff is the wait before retry n (1-based): base·2^(n-1), with base chosen so the retries
// end RetryWindow after the first failure.
func (w *WebhookSender) backoff(n int) time.Duration {
	total := float64(int64(1)<<w.opts.Retries - 1)
	base := float64(w.opts.RetryWindow) / total
	return time.Duration(base * float64(int64(1)<<(n-1))).Round(time.Millisecond)
}

func (w *WebhookSender) run() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.ctx.Err() == nil {
		if w.queue.Len() == 0 {
			if w.inflight == 0 {
				break
			}
			w.cond.Wait()
			continue
		}
		next := w.queue[0]
		if wait := next.due.Sub(w.clock.Now()); wait > 0 {
			if w.inflight > 0 { // a finishing delivery may queue an earlier retry
				w.cond.Wait()
				continue
			}
			ctx, cancel := context.WithCancel(w.ctx)
			w.wakeSleep = cancel
			w.mu.Unlock()
			_ = w.clock.Sleep(ctx, wait)
			cancel()
			w.mu.Lock()
			w.wakeSleep = nil
			continue
		}
		if w.inflight >= w.opts.Concurrency {
			w.cond.Wait()
			continue
		}
		heap.Pop(&w.queue)
		if w.removed {
			w.report.Undelivered = append(w.report.Undelivered, next.change)
			continue
		}
		w.inflight++
		go w.attempt(next)
	}
	for w.inflight > 0 {
		w.cond.Wait()
	}
	w.running = false
	close(w.done)
}

func (w *WebhookSender) attempt(d *delivery) {
	if d.body == nil {
		d.body = d.change.Payload()
	}
	c := d.change
	a := Attempt{Seq: c.Seq, Topic: c.Topic, EventID: c.EventID, WebhookID: d.webhookID, TriggeredAt: c.TriggeredAt,
		Attempt: d.attempt, Duplicate: d.dup, Late: d.late}
	req, err := http.NewRequestWithContext(w.ctx, http.MethodPost, w.opts.URL, bytes.NewReader(d.body))
	if err == nil {
		h := req.Header
		h.Set("Content-Type", "application/json")
		h.Set("User-Agent", "Shopify-Captain-Hook")
		h.Set("Accept", "*/*")
		// Set as Shopify spells them; net/http writes these names as given.
		h["X-Shopify-Topic"] = []string{c.Topic}
		h["X-Shopify-Hmac-Sha256"] = []string{webhooksig.Sign(d.body, w.opts.Secret)}
		h["X-Shopify-Shop-Domain"] = []string{w.opts.ShopDomain}
		h["X-Shopify-API-Version"] = []string{w.opts.APIVersion}
		h["X-Shopify-Webhook-Id"] = []string{d.webhookID}
		h["X-Shopify-Event-Id"] = []string{c.EventID}
		h["X-Shopify-Triggered-At"] = []string{c.TriggeredAt.UTC().Format(time.RFC3339Nano)}
		if w.opts.Name != "-" {
			h["X-Shopify-Name"] = []string{w.opts.Name}
		}
		var resp *http.Response
		resp, err = w.client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
			a.Status = resp.StatusCode
			a.OK = resp.StatusCode >= 200 && resp.StatusCode < 300
		}
	}
	if err != nil {
		a.Err = err.Error()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	a.At = w.clock.Now()
	w.report.Attempts = append(w.report.Attempts, a)
	switch {
	case a.OK:
		if !w.delivered[c.Seq] {
			w.delivered[c.Seq] = true
			w.report.Delivered = append(w.report.Delivered, c)
		}
	case w.ctx.Err() != nil:
	case d.attempt <= w.opts.Retries:
		d.attempt++
		d.due = w.clock.Now().Add(w.backoff(d.attempt - 1))
		if w.opts.NewWebhookIDOnRetry {
			d.webhookID = uuidFrom(w.rng)
		}
		heap.Push(&w.queue, d)
	default:
		w.report.Failed = append(w.report.Failed, c)
		if !w.opts.KeepSubscription {
			w.removed = true
		}
	}
	w.inflight--
	w.cond.Broadcast()
}
