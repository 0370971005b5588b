package icebergsink

import (
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/events/eventstest"
)

func newTestCodec(t testing.TB, prefix string) *events.Codec {
	t.Helper()
	return eventstest.NewCodec(t, prefix)
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
	eur := func(amount string) events.Money { return events.Money{Amount: rat(amount), CurrencyCode: "EUR"} }
	return &events.OrderCreated{
		Envelope: events.Envelope{
			EventID:       events.DeterministicID("test", gid),
			EventType:     events.TypeOrderCreated,
			OccurredAt:    created,
			RecordedAt:    created.Add(time.Second),
			Shop:          "example.myshopify.com",
			AggregateType: "Order",
			AggregateID:   gid,
			Actor:         events.Actor{Type: events.ActorShopify, ID: "example.myshopify.com"},
			Source:        events.SourceWebhook,
		},
		Order: events.Order{
			OrderID:         int64(1000 + n),
			OrderGID:        gid,
			Name:            fmt.Sprintf("#%d", 1000+n),
			OrderNumber:     int64(n),
			Currency:        "EUR",
			TotalPrice:      eur(fmt.Sprintf("%d.25", n)),
			SubtotalPrice:   eur(fmt.Sprintf("%d", n)),
			TotalTax:        eur("0.25"),
			TotalDiscounts:  eur("0"),
			FinancialStatus: ptr("paid"),
			CreatedAt:       created,
			UpdatedAt:       created.Add(time.Minute),
			LineItems: []events.OrderLineItem{
				{LineItemID: int64(n*10 + 1), LineItemGID: "gid://shopify/LineItem/1", ProductID: ptr(int64(7)), Title: "Mug", Quantity: 1, Price: eur("1.5"), TotalDiscount: eur("0")},
				{LineItemID: int64(n*10 + 2), LineItemGID: "gid://shopify/LineItem/2", Title: "Gift card", SKU: ptr("GC"), Quantity: 2, Price: eur("0.0001"), TotalDiscount: eur("0")},
			},
		},
		PayloadJSON: "{}",
	}
}
