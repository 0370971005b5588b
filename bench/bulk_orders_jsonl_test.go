package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"time"
)

// The rows of a bulk export of orders in the shapes of shopify.BulkQueryOrders' selection (see
// commands/shopify/samples/bulk_orders.jsonl): an Order row, then a LineItem row per line with
// __parentId the order's GID. Members are in the query's order, as Shopify writes them.
type (
	gqlMoney struct {
		ShopMoney struct {
			Amount       string `json:"amount"`
			CurrencyCode string `json:"currencyCode"`
		} `json:"shopMoney"`
	}
	gqlRef struct {
		ID string `json:"id"`
	}
	gqlFulfillment struct {
		ID            string `json:"id"`
		Name          string `json:"name"`
		Status        string `json:"status"`
		DisplayStatus string `json:"displayStatus"`
		CreatedAt     string `json:"createdAt"`
		UpdatedAt     string `json:"updatedAt"`
		Location      gqlRef `json:"location"`
		Service       struct {
			Handle string `json:"handle"`
		} `json:"service"`
		TrackingInfo []struct {
			Company string `json:"company"`
		} `json:"trackingInfo"`
	}
	gqlOrderRow struct {
		ID                       string           `json:"id"`
		Name                     string           `json:"name"`
		Number                   int64            `json:"number"`
		CreatedAt                string           `json:"createdAt"`
		UpdatedAt                string           `json:"updatedAt"`
		ProcessedAt              string           `json:"processedAt"`
		CancelledAt              *string          `json:"cancelledAt"`
		CancelReason             *string          `json:"cancelReason"`
		ClosedAt                 *string          `json:"closedAt"`
		DisplayFinancialStatus   string           `json:"displayFinancialStatus"`
		DisplayFulfillmentStatus string           `json:"displayFulfillmentStatus"`
		CurrencyCode             string           `json:"currencyCode"`
		PresentmentCurrencyCode  string           `json:"presentmentCurrencyCode"`
		TotalPriceSet            gqlMoney         `json:"totalPriceSet"`
		SubtotalPriceSet         gqlMoney         `json:"subtotalPriceSet"`
		TotalTaxSet              gqlMoney         `json:"totalTaxSet"`
		TotalDiscountsSet        gqlMoney         `json:"totalDiscountsSet"`
		TotalShippingPriceSet    gqlMoney         `json:"totalShippingPriceSet"`
		CurrentTotalPriceSet     gqlMoney         `json:"currentTotalPriceSet"`
		CurrentSubtotalPriceSet  gqlMoney         `json:"currentSubtotalPriceSet"`
		CurrentTotalTaxSet       gqlMoney         `json:"currentTotalTaxSet"`
		CurrentTotalDiscountsSet gqlMoney         `json:"currentTotalDiscountsSet"`
		TaxesIncluded            bool             `json:"taxesIncluded"`
		Test                     bool             `json:"test"`
		Customer                 *gqlRef          `json:"customer"`
		SourceName               string           `json:"sourceName"`
		Tags                     []string         `json:"tags"`
		DiscountCodes            []string         `json:"discountCodes"`
		PaymentGatewayNames      []string         `json:"paymentGatewayNames"`
		RetailLocation           *gqlRef          `json:"retailLocation"`
		Fulfillments             []gqlFulfillment `json:"fulfillments"`
	}
	gqlLineItemRow struct {
		ID                   string   `json:"id"`
		Title                string   `json:"title"`
		VariantTitle         *string  `json:"variantTitle"`
		SKU                  string   `json:"sku"`
		Vendor               string   `json:"vendor"`
		Quantity             int      `json:"quantity"`
		CurrentQuantity      int      `json:"currentQuantity"`
		UnfulfilledQuantity  int      `json:"unfulfilledQuantity"`
		RequiresShipping     bool     `json:"requiresShipping"`
		Taxable              bool     `json:"taxable"`
		IsGiftCard           bool     `json:"isGiftCard"`
		Product              gqlRef   `json:"product"`
		Variant              gqlRef   `json:"variant"`
		OriginalUnitPriceSet gqlMoney `json:"originalUnitPriceSet"`
		TotalDiscountSet     gqlMoney `json:"totalDiscountSet"`
		TaxLines             []struct {
			PriceSet gqlMoney `json:"priceSet"`
		} `json:"taxLines"`
		ParentID string `json:"__parentId"`
	}
)

// benchCatalogue is what the generated orders buy.
var benchCatalogue = []struct {
	title, variant, sku, vendor string
	productID, variantID        int64
	cents                       int64
}{
	{"Linen Shirt", "M / White", "LS-M-WHT", "Northbound", 7712345678901, 43011112222334, 4995},
	{"Linen Shirt", "L / Navy", "LS-L-NVY", "Northbound", 7712345678901, 43011112222335, 4995},
	{"Canvas Tote", "", "TOTE-NAT", "Northbound", 7712345678902, 43011112222400, 2500},
	{"Merino Beanie", "Charcoal", "BEAN-CHR", "Fjellwear", 7712345678903, 43011112222501, 3200},
	{"Trail Socks", "3-pack / 42-45", "SOCK-3-4245", "Fjellwear", 7712345678904, 43011112222602, 1890},
	{"Gift Card", "€50", "GIFT-50", "Northbound", 7712345678905, 43011112222703, 5000},
}

// writeBulkOrders writes a bulk result of exactly lines lines to path, streaming (nothing of the
// file is held in memory), and returns its size in bytes. Orders have one to four lines; most are
// paid and fulfilled, some refunded, cancelled, tested or from guests; ids are above 2^53 as
// Shopify's are. The same lines give the same file.
func writeBulkOrders(path string, lines int) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(w) // one object and a newline per Encode: a JSONL line
	rng := rand.New(rand.NewPCG(4, 2))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var lineItemID int64 = 16_600_000_000_000
	written := 0
	for o := 0; written < lines; o++ {
		nLines := min(1+rng.IntN(4), lines-written-1) // the last order gets the lines there is room for
		order, items := benchOrder(rng, o, nLines, t0, &lineItemID)
		if err := enc.Encode(order); err != nil {
			f.Close()
			return 0, err
		}
		for _, it := range items {
			if err := enc.Encode(it); err != nil {
				f.Close()
				return 0, err
			}
		}
		written += 1 + len(items)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return 0, err
	}
	return st.Size(), f.Close()
}

// benchOrder is the o-th order of the export and its nLines line items.
func benchOrder(rng *rand.Rand, o, nLines int, t0 time.Time, lineItemID *int64) (gqlOrderRow, []gqlLineItemRow) {
	currency := "EUR"
	if o%3 == 0 {
		currency = "USD"
	}
	orderGID := "gid://shopify/Order/" + strconv.FormatInt(9_007_199_254_800_000+int64(o)*7, 10)
	created := t0.Add(time.Duration(o) * 17 * time.Second)
	updated := created.Add(time.Duration(1+rng.IntN(72*3600)) * time.Second)
	items := make([]gqlLineItemRow, nLines)
	net := make([]int64, nLines) // each line's price after its discount
	var subtotal, discounts, tax int64
	for i := range items {
		p := benchCatalogue[rng.IntN(len(benchCatalogue))]
		qty := 1 + rng.IntN(3)
		var disc int64
		if rng.IntN(5) == 0 {
			disc = p.cents * int64(qty) / 10
		}
		net[i] = p.cents*int64(qty) - disc
		lineTax := net[i] * 19 / 119 // VAT included in EUR prices
		if currency == "USD" {
			lineTax = net[i] * 825 / 10000 // sales tax on top in USD
		}
		*lineItemID++
		it := gqlLineItemRow{
			ID: "gid://shopify/LineItem/" + strconv.FormatInt(*lineItemID, 10), Title: p.title, SKU: p.sku, Vendor: p.vendor,
			Quantity: qty, CurrentQuantity: qty, RequiresShipping: p.title != "Gift Card", Taxable: p.title != "Gift Card", IsGiftCard: p.title == "Gift Card",
			Product:              gqlRef{"gid://shopify/Product/" + strconv.FormatInt(p.productID, 10)},
			Variant:              gqlRef{"gid://shopify/ProductVariant/" + strconv.FormatInt(p.variantID, 10)},
			OriginalUnitPriceSet: money(p.cents, currency), TotalDiscountSet: money(disc, currency),
			ParentID: orderGID,
		}
		if p.variant != "" {
			it.VariantTitle = &p.variant
		}
		it.TaxLines = make([]struct {
			PriceSet gqlMoney `json:"priceSet"`
		}, 1)
		it.TaxLines[0].PriceSet = money(lineTax, currency)
		items[i] = it
		subtotal += net[i]
		discounts += disc
		tax += lineTax
	}
	shipping := int64(0)
	if subtotal < 5000 {
		shipping = 495
	}
	total := subtotal + shipping
	if currency == "USD" {
		total += tax
	}
	order := gqlOrderRow{
		ID: orderGID, Name: "#" + strconv.Itoa(1001+o), Number: int64(1 + o),
		CreatedAt: stamp(created), UpdatedAt: stamp(updated), ProcessedAt: stamp(created.Add(-time.Second)),
		DisplayFinancialStatus: "PAID", DisplayFulfillmentStatus: "FULFILLED",
		CurrencyCode: currency, PresentmentCurrencyCode: currency,
		TotalPriceSet: money(total, currency), SubtotalPriceSet: money(subtotal, currency), TotalTaxSet: money(tax, currency),
		TotalDiscountsSet: money(discounts, currency), TotalShippingPriceSet: money(shipping, currency),
		CurrentTotalPriceSet: money(total, currency), CurrentSubtotalPriceSet: money(subtotal, currency),
		CurrentTotalTaxSet: money(tax, currency), CurrentTotalDiscountsSet: money(discounts, currency),
		TaxesIncluded: currency == "EUR", Test: o%97 == 0, SourceName: "web",
		Tags: []string{}, DiscountCodes: []string{}, PaymentGatewayNames: []string{"shopify_payments"}, Fulfillments: []gqlFulfillment{},
	}
	if o%5 != 0 {
		order.Customer = &gqlRef{"gid://shopify/Customer/" + strconv.FormatInt(9_007_199_254_740_995+int64(o%40_000), 10)}
	}
	if discounts > 0 {
		order.DiscountCodes = []string{"AUTUMN10"}
		order.Tags = []string{"promo"}
	}
	if o%11 == 0 {
		order.SourceName, order.RetailLocation = "pos", &gqlRef{"gid://shopify/Location/655441491"}
		order.PaymentGatewayNames = []string{"cash"}
	}
	switch r := rng.IntN(20); {
	case r == 0: // cancelled before fulfilment
		at, reason := stamp(updated), "CUSTOMER"
		order.CancelledAt, order.CancelReason, order.ClosedAt = &at, &reason, &at
		order.DisplayFinancialStatus, order.DisplayFulfillmentStatus = "VOIDED", "UNFULFILLED"
		order.CurrentTotalPriceSet, order.CurrentSubtotalPriceSet = money(0, currency), money(0, currency)
		order.CurrentTotalTaxSet, order.CurrentTotalDiscountsSet = money(0, currency), money(0, currency)
		for i := range items {
			items[i].CurrentQuantity = 0
		}
	case r < 4: // paid, not shipped yet
		order.DisplayFulfillmentStatus = "UNFULFILLED"
		for i := range items {
			items[i].UnfulfilledQuantity = items[i].Quantity
		}
	default:
		shipped := created.Add(26 * time.Hour)
		if shipped.After(updated) {
			updated = shipped
			order.UpdatedAt = stamp(updated)
		}
		ful := gqlFulfillment{
			ID: "gid://shopify/Fulfillment/" + strconv.FormatInt(5_500_000_000_000+int64(o), 10), Name: order.Name + ".1",
			Status: "SUCCESS", DisplayStatus: "DELIVERED", CreatedAt: stamp(shipped), UpdatedAt: stamp(shipped.Add(time.Second)),
			Location: gqlRef{"gid://shopify/Location/655441491"},
		}
		ful.Service.Handle = "manual"
		ful.TrackingInfo = []struct {
			Company string `json:"company"`
		}{{Company: "DHL Express"}}
		order.Fulfillments = []gqlFulfillment{ful}
		if r == 4 && len(items) > 0 { // the first line returned and refunded
			order.DisplayFinancialStatus = "PARTIALLY_REFUNDED"
			back := net[0] / int64(items[0].Quantity)
			items[0].CurrentQuantity--
			order.CurrentTotalPriceSet = money(total-back, currency)
			order.CurrentSubtotalPriceSet = money(subtotal-back, currency)
		}
	}
	return order, items
}

// money is a MoneyBag's shop money; amounts are decimals as Shopify writes them ("149.9", "10.0").
func money(cents int64, currency string) gqlMoney {
	var m gqlMoney
	whole, frac := cents/100, cents%100
	switch {
	case frac == 0:
		m.ShopMoney.Amount = fmt.Sprintf("%d.0", whole)
	case frac%10 == 0:
		m.ShopMoney.Amount = fmt.Sprintf("%d.%d", whole, frac/10)
	default:
		m.ShopMoney.Amount = fmt.Sprintf("%d.%02d", whole, frac)
	}
	m.ShopMoney.CurrencyCode = currency
	return m
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
