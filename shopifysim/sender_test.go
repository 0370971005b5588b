package shopifysim

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/storeline/storeline/webhooksig"
)

const secret = "shpss_test_secret"

func sender(t *testing.T, s *Store, url string, opts SenderOptions) (*WebhookSender, *FakeClock) {
	t.Helper()
	clk, _ := opts.Clock.(*FakeClock)
	if clk == nil {
		clk = NewFakeClock(simStart)
		opts.Clock = clk
	}
	opts.URL, opts.Secret = url, secret
	w := NewWebhookSender(s, opts)
	t.Cleanup(w.Close)
	return w, clk
}

func send(t *testing.T, w *WebhookSender, changes []Change) Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := w.Send(ctx, changes)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSenderSignsAndSendsEveryHeader(t *testing.T) {
	s := Generate(1, Size{Products: 5, Orders: 10})
	rcv := newReceiver(t, nil)
	w, _ := sender(t, s, rcv.srv.URL, SenderOptions{Name: "storeline-orders"})
	changes := s.History()
	rep := send(t, w, changes)
	got := rcv.deliveries()
	if len(got) != len(changes) || len(rep.Delivered) != len(changes) {
		t.Fatalf("%d deliveries, %d delivered, for %d changes", len(got), len(rep.Delivered), len(changes))
	}
	for i, d := range got {
		c := changes[i]
		if !webhooksig.Verify(d.Body, d.Header.Get("X-Shopify-Hmac-Sha256"), [][]byte{[]byte(secret)}) {
			t.Fatalf("delivery %d: HMAC does not verify", i)
		}
		if webhooksig.Verify(d.Body, d.Header.Get("X-Shopify-Hmac-Sha256"), [][]byte{[]byte("another")}) {
			t.Fatal("HMAC verifies under another secret")
		}
		want := map[string]string{
			"X-Shopify-Topic": c.Topic, "X-Shopify-Shop-Domain": s.Shop().MyshopifyDomain, "X-Shopify-API-Version": "2026-04",
			"X-Shopify-Event-Id": c.EventID, "X-Shopify-Triggered-At": c.TriggeredAt.UTC().Format(time.RFC3339Nano),
			"X-Shopify-Name": "storeline-orders", "Content-Type": "application/json", "User-Agent": "Shopify-Captain-Hook",
		}
		for h, v := range want {
			if got := d.Header.Get(h); got != v {
				t.Errorf("delivery %d: %s = %q, want %q", i, h, got, v)
			}
		}
		if d.Header.Get("X-Shopify-Webhook-Id") == "" {
			t.Errorf("delivery %d: no X-Shopify-Webhook-Id", i)
		}
		if string(d.Body) != string(c.Payload()) {
			t.Errorf("delivery %d: body differs from the change's payload", i)
		}
	}
}

func TestSenderRetriesEightTimesOverFourHoursThenGivesUp(t *testing.T) {
	s := Generate(1, Size{Products: 3, Orders: 3})
	rcv := newReceiver(t, func(int) int { return http.StatusInternalServerError })
	w, clk := sender(t, s, rcv.srv.URL, SenderOptions{})
	start := clk.Now()
	changes := s.History()
	rep := send(t, w, changes[:1])
	got := rcv.deliveries()
	if len(got) != 9 {
		t.Fatalf("%d attempts, want 1 + 8 retries", len(got))
	}
	for _, d := range got {
		if d.Header.Get("X-Shopify-Event-Id") != changes[0].EventID || d.Header.Get("X-Shopify-Triggered-At") != got[0].Header.Get("X-Shopify-Triggered-At") ||
			string(d.Body) != string(got[0].Body) || d.Header.Get("X-Shopify-Webhook-Id") != got[0].Header.Get("X-Shopify-Webhook-Id") {
			t.Fatal("a retry changed the event id, trigger time, body or webhook id")
		}
	}
	// Exponential: each wait doubles; the last retry falls 4 h after the first failure.
	var gaps []time.Duration
	for i := 1; i < len(rep.Attempts); i++ {
		gaps = append(gaps, rep.Attempts[i].At.Sub(rep.Attempts[i-1].At))
	}
	for i := 1; i < len(gaps); i++ {
		if d := gaps[i] - 2*gaps[i-1]; d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("gap %d is %s, the one before %s: not doubling", i, gaps[i], gaps[i-1])
		}
	}
	if total := rep.Attempts[8].At.Sub(start); total < 4*time.Hour-time.Second || total > 4*time.Hour+time.Second {
		t.Errorf("retries span %s, want 4h", total)
	}
	if len(rep.Failed) != 1 || len(rep.Delivered) != 0 {
		t.Fatalf("failed %d delivered %d", len(rep.Failed), len(rep.Delivered))
	}
	// The subscription is gone: nothing more is sent.
	rep = send(t, w, changes[1:3])
	if len(rcv.deliveries()) != 9 || len(rep.Undelivered) != 2 {
		t.Errorf("after giving up: %d requests, %d undelivered", len(rcv.deliveries()), len(rep.Undelivered))
	}
}

func TestSenderCounts3xxAsFailureAndRecovers(t *testing.T) {
	s := Generate(1, Size{Products: 3, Orders: 3})
	rcv := newReceiver(t, func(n int) int {
		switch n {
		case 0:
			return http.StatusFound
		case 1:
			return http.StatusServiceUnavailable
		}
		return http.StatusAccepted
	})
	w, _ := sender(t, s, rcv.srv.URL, SenderOptions{})
	rep := send(t, w, s.History()[:1])
	got := rcv.deliveries()
	if len(got) != 3 {
		t.Fatalf("%d requests, want 3 (302, 503, 202): the redirect must not be followed", len(got))
	}
	statuses := []int{}
	for _, a := range rep.Attempts {
		statuses = append(statuses, a.Status)
	}
	if !slices.Equal(statuses, []int{302, 503, 202}) || len(rep.Delivered) != 1 {
		t.Errorf("attempts %v, delivered %d", statuses, len(rep.Delivered))
	}
}

func TestSenderTimeoutIsAFailure(t *testing.T) {
	s := Generate(1, Size{Products: 3, Orders: 3})
	block := make(chan struct{})
	defer close(block)
	slow := newReceiver(t, func(n int) int {
		if n == 0 {
			<-block
		}
		return 200
	})
	w, _ := sender(t, s, slow.srv.URL, SenderOptions{Client: &http.Client{Timeout: 50 * time.Millisecond}})
	rep := send(t, w, s.History()[:1])
	if len(rep.Attempts) != 2 || rep.Attempts[0].Err == "" || !rep.Attempts[1].OK {
		t.Fatalf("attempts %+v", rep.Attempts)
	}
}

func TestSenderFaults(t *testing.T) {
	s := Generate(2, Size{Products: 10, Orders: 60})
	changes := s.History()
	eventIDs := func(ds []received) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.Header.Get("X-Shopify-Event-Id"))
		}
		return out
	}
	order := map[string]int{}
	for i, c := range changes {
		order[c.EventID] = i
	}

	t.Run("duplicate", func(t *testing.T) {
		rcv := newReceiver(t, nil)
		w, _ := sender(t, s, rcv.srv.URL, SenderOptions{Faults: Faults{Duplicate: 1, DuplicateNewWebhookID: 0.5}, Seed: 1})
		rep := send(t, w, changes)
		got := rcv.deliveries()
		if len(got) != 2*len(changes) || len(rep.Duplicated) != len(changes) {
			t.Fatalf("%d deliveries for %d changes", len(got), len(changes))
		}
		webhookIDs := map[string][]string{}
		for _, d := range got {
			e := d.Header.Get("X-Shopify-Event-Id")
			webhookIDs[e] = append(webhookIDs[e], d.Header.Get("X-Shopify-Webhook-Id"))
		}
		same, fresh := 0, 0
		for e, ids := range webhookIDs {
			if len(ids) != 2 {
				t.Fatalf("event %s delivered %d times", e, len(ids))
			}
			if ids[0] == ids[1] {
				same++
			} else {
				fresh++
			}
		}
		if same == 0 || fresh == 0 {
			t.Errorf("duplicates: %d with the same webhook id, %d with a new one; want both", same, fresh)
		}
	})

	t.Run("out of order", func(t *testing.T) {
		rcv := newReceiver(t, nil)
		w, _ := sender(t, s, rcv.srv.URL, SenderOptions{Faults: Faults{OutOfOrder: 0.2, OutOfOrderWindow: 5}, Seed: 2})
		rep := send(t, w, changes)
		ids := eventIDs(rcv.deliveries())
		if len(ids) != len(changes) || len(rep.Reordered) == 0 {
			t.Fatalf("%d deliveries, %d reordered", len(ids), len(rep.Reordered))
		}
		inversions := 0
		for i := 1; i < len(ids); i++ {
			if order[ids[i]] < order[ids[i-1]] {
				inversions++
			}
		}
		if inversions == 0 {
			t.Error("deliveries arrived in history order")
		}
		sorted := slices.Clone(ids)
		slices.SortFunc(sorted, func(a, b string) int { return order[a] - order[b] })
		for i, c := range changes {
			if sorted[i] != c.EventID {
				t.Fatal("not every change arrived exactly once")
			}
		}
	})

	t.Run("late", func(t *testing.T) {
		rcv := newReceiver(t, nil)
		w, clk := sender(t, s, rcv.srv.URL, SenderOptions{Faults: Faults{Late: 0.1, LateBy: 3 * time.Hour}, Seed: 3})
		start := clk.Now()
		rep := send(t, w, changes)
		if len(rep.Delayed) == 0 {
			t.Fatal("nothing delayed")
		}
		late := map[string]bool{}
		for _, c := range rep.Delayed {
			late[c.EventID] = true
		}
		ids := eventIDs(rcv.deliveries())
		// Every late delivery comes after every timely one, 3 h later on the clock.
		tail := ids[len(ids)-len(late):]
		for _, id := range tail {
			if !late[id] {
				t.Fatalf("a timely delivery came after a late one")
			}
		}
		for _, a := range rep.Attempts {
			if late[a.EventID] && a.At.Sub(start) < 3*time.Hour {
				t.Errorf("late delivery at +%s", a.At.Sub(start))
			}
		}
	})

	t.Run("drop", func(t *testing.T) {
		rcv := newReceiver(t, nil)
		w, _ := sender(t, s, rcv.srv.URL, SenderOptions{Faults: Faults{Drop: 0.25}, Seed: 4})
		rep := send(t, w, changes)
		got := map[string]bool{}
		for _, id := range eventIDs(rcv.deliveries()) {
			got[id] = true
		}
		if len(rep.Dropped) == 0 || len(rep.Dropped)+len(got) != len(changes) {
			t.Fatalf("%d dropped + %d delivered != %d", len(rep.Dropped), len(got), len(changes))
		}
		for _, c := range rep.Dropped {
			if got[c.EventID] {
				t.Errorf("dropped change %d was delivered", c.Seq)
			}
		}
	})

	t.Run("topics and concurrency", func(t *testing.T) {
		rcv := newReceiver(t, nil)
		w, _ := sender(t, s, rcv.srv.URL, SenderOptions{Topics: []string{"orders/create"}, Concurrency: 4})
		send(t, w, changes)
		want := 0
		for _, c := range changes {
			if c.Topic == "orders/create" {
				want++
			}
		}
		got := rcv.deliveries()
		if len(got) != want {
			t.Fatalf("%d deliveries, want %d orders/create", len(got), want)
		}
		for _, d := range got {
			if d.Header.Get("X-Shopify-Topic") != "orders/create" {
				t.Fatalf("delivered %s", d.Header.Get("X-Shopify-Topic"))
			}
		}
	})
}

func TestFakeClockRunsTimersInOrder(t *testing.T) {
	c := NewFakeClock(simStart)
	var got []int
	c.AfterFunc(3*time.Second, func() { got = append(got, 3) })
	c.AfterFunc(time.Second, func() {
		got = append(got, 1)
		c.AfterFunc(time.Second, func() { got = append(got, 2) }) // due at +2 s: runs in the same Advance
	})
	stop := c.AfterFunc(2500*time.Millisecond, func() { got = append(got, 99) })
	if !stop() {
		t.Fatal("stop reported the timer had run")
	}
	c.Advance(5 * time.Second)
	if !slices.Equal(got, []int{1, 2, 3}) || !c.Now().Equal(simStart.Add(5*time.Second)) {
		t.Errorf("ran %v, now %s", got, c.Now())
	}
}
