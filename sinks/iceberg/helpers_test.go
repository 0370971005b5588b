package icebergsink

import (
	"context"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/storeline/storeline/events"
)

// memRegistry is an in-memory events.Registry: one id per distinct (subject, schema).
type memRegistry struct {
	mu  sync.Mutex
	ids map[string]int
}

func (r *memRegistry) Register(_ context.Context, subject, schema string) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ids == nil {
		r.ids = map[string]int{}
	}
	k := subject + "\x00" + schema
	if id, ok := r.ids[k]; ok {
		return id, nil
	}
	r.ids[k] = len(r.ids) + 1
	return r.ids[k], nil
}

func newTestCodec(t testing.TB, prefix string) *events.Codec {
	t.Helper()
	cat, err := events.LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	c, err := events.NewCodec(context.Background(), cat, &memRegistry{}, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ptr[T any](v T) *T { return &v }

func rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic("bad rat " + s)
	}
	return r
}

// testOrder builds the OrderCreated of order n, created on a day that depends on n (so a
// batch spans several partitions of the table), with total n.25 and two line items.
func testOrder(n int) *events.OrderCreated {
	created := time.Date(2026, 3, 1+n%3, 10, 0, n%60, 0, time.UTC)
	gid := fmt.Sprintf("gid://shopify/Order/%d", 1000+n)
	return &events.OrderCreated{
		Envelope: events.Envelope{
			EventID:       events.DeterministicID("test", gid),
			EventType:     events.TypeOrderCreated,
			OccurredAt:    created,
			RecordedAt:    created.Add(time.Second),
			Shop:          "example.myshopify.com",
			AggregateType: "order",
			AggregateID:   gid,
			Source:        events.SourceWebhook,
		},
		OrderID:         int64(1000 + n),
		OrderGID:        gid,
		Name:            fmt.Sprintf("#%d", 1000+n),
		OrderNumber:     int64(n),
		Currency:        "EUR",
		TotalPrice:      rat(fmt.Sprintf("%d.25", n)),
		SubtotalPrice:   rat(fmt.Sprintf("%d", n)),
		TotalTax:        rat("0.25"),
		FinancialStatus: ptr("paid"),
		CreatedAt:       created,
		UpdatedAt:       created.Add(time.Minute),
		LineItems: []events.LineItem{
			{LineItemID: int64(n*10 + 1), ProductID: ptr(int64(7)), Title: "Mug", Quantity: 1, Price: rat("1.5")},
			{LineItemID: int64(n*10 + 2), Title: "Gift card", SKU: ptr("GC"), Quantity: 2, Price: rat("0.0001")},
		},
		PayloadJSON: "{}",
	}
}
