package shopifysim

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Size says how big a shop Generate makes and over how long its history runs.
type Size struct {
	Products           int           // default 50
	VariantsPerProduct int           // the most variants a product has (each has 1..this); default 3
	Customers          int           // default Orders/3 + 1
	Orders             int           // default 200
	Locations          int           // 1..3; default 2
	Start              time.Time     // the first write; default 2026-03-02T09:00:00Z
	Duration           time.Duration // the span orders are placed over; default 30 days
	Mix                *Mix          // what happens after creation; nil: DefaultMix()
}

// Mix is how often each kind of later change happens. Zero means never.
type Mix struct {
	PendingRate       float64 // orders not paid at checkout
	PayLaterRate      float64 // of those, paid later (orders/paid); of the rest half are cancelled (voided, restocked), half stay pending
	FulfillRate       float64 // paid orders fulfilled (orders/fulfilled)
	RefundRate        float64 // fulfilled orders with a refund (refunds/create, restock)
	OrderTagRate      float64 // orders tagged later (orders/updated)
	GuestRate         float64 // orders without a customer account
	ProductUpdateRate float64 // product updates per product (price, title, tags, status; products/update)
	ProductDeleteRate float64 // products deleted (products/delete); only never-ordered ones, else archived
	RestockRate       float64 // manual stock adjustments per variant (inventory_levels/update)
}

// DefaultMix is a plausible month of a small shop.
func DefaultMix() Mix {
	return Mix{PendingRate: 0.15, PayLaterRate: 0.7, FulfillRate: 0.75, RefundRate: 0.08, OrderTagRate: 0.1,
		GuestRate: 0.25, ProductUpdateRate: 0.3, ProductDeleteRate: 0.02, RestockRate: 0.1}
}

// DefaultShop is the shop Generate makes: USD, in a zone without daylight saving (so REST
// timestamps have one offset, -05:00).
func DefaultShop() Shop {
	return Shop{
		ID: 54838000912, Name: "Northbound Outfitters", Email: "olga.owner@example.com", CustomerEmail: "hello@northbound.example.com",
		ShopOwner: "Olga Ownerova", Phone: "+15075550111", Domain: "northbound.example.com", MyshopifyDomain: "northbound-outfitters.myshopify.com",
		Currency: "USD", IANATimezone: "America/Panama", TimezoneName: "(GMT-05:00) America/Panama", UTCOffset: -5 * 3600,
		PlanName: "basic", Address1: "1 Owner Lane", City: "Panama City", Province: "Panamá", ProvinceCode: "PA-8",
		Country: "PA", CountryName: "Panama", Zip: "0801",
		CreatedAt: time.Date(2021, 4, 12, 15, 4, 5, 0, time.UTC), UpdatedAt: time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC),
	}
}

// Generate makes a shop from a seed: the same seed and size give the same shop, ids, history
// and event ids. The Store holds the final state and the whole history (products created with
// their stock, orders placed, paid, fulfilled, refunded, cancelled and tagged, products updated,
// archived and deleted, stock adjusted), every write strictly later than the one before.
func Generate(seed int64, size Size) *Store {
	size = size.withDefaults()
	mix := DefaultMix()
	if size.Mix != nil {
		mix = *size.Mix
	}
	g := &generator{s: newStore(seed, DefaultShop()), r: rand.New(rand.NewPCG(uint64(seed), 0x9e4e7a7e)), mix: mix, size: size,
		ordered: map[int64]bool{}, handles: map[string]int{}}
	g.run()
	g.s.pending = nil
	return g.s
}

func (z Size) withDefaults() Size {
	if z.Products <= 0 {
		z.Products = 50
	}
	if z.VariantsPerProduct <= 0 {
		z.VariantsPerProduct = 3
	}
	if z.Orders < 0 {
		z.Orders = 0
	} else if z.Orders == 0 {
		z.Orders = 200
	}
	if z.Customers <= 0 {
		z.Customers = z.Orders/3 + 1
	}
	if z.Locations <= 0 {
		z.Locations = 2
	}
	z.Locations = min(z.Locations, 3)
	if z.Start.IsZero() {
		z.Start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	}
	if z.Duration <= 0 {
		z.Duration = 30 * 24 * time.Hour
	}
	return z
}

type generator struct {
	s       *Store
	r       *rand.Rand
	mix     Mix
	size    Size
	queue   actionQueue
	seq     int
	ordered map[int64]bool // products that appear on an order: archived, never deleted
	handles map[string]int
	active  []int64 // products that can be ordered (active when last looked at)
}

// action is a write scheduled at a time; the queue runs them in time order.
type action struct {
	at  time.Time
	seq int
	run func(at time.Time)
}

type actionQueue []action

func (q actionQueue) Len() int { return len(q) }
func (q actionQueue) Less(i, j int) bool {
	return q[i].at.Before(q[j].at) || q[i].at.Equal(q[j].at) && q[i].seq < q[j].seq
}
func (q actionQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *actionQueue) Push(x any)   { *q = append(*q, x.(action)) }
func (q *actionQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

func (g *generator) at(t time.Time, f func(time.Time)) {
	g.seq++
	heap.Push(&g.queue, action{at: t, seq: g.seq, run: f})
}

func (g *generator) chance(p float64) bool { return g.r.Float64() < p }

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// between returns a random duration in [lo, hi).
func (g *generator) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(g.r.Int64N(int64(hi-lo)))
}

func (g *generator) run() {
	s := g.s
	start := g.size.Start
	s.shop.PrimaryLocationID = 0
	locNames := []string{"Main Warehouse", "Downtown Store", "East Coast Fulfillment"}
	for i := range g.size.Locations {
		pl := places[i%len(places)]
		l := &Location{ID: s.newID(idLocation), Name: locNames[i], Address1: fmt.Sprintf("%d %s", 10+i*7, streets[i]),
			City: pl.city, ProvinceCode: pl.provinceCode, CountryCode: pl.countryCode, Zip: pl.zip, Active: true,
			CreatedAt: s.shop.CreatedAt, UpdatedAt: s.shop.CreatedAt}
		s.locations = append(s.locations, l)
	}
	s.shop.PrimaryLocationID = s.locations[0].ID

	for range g.size.Customers {
		g.newCustomer(start)
	}

	// The catalogue is set up first, a product every few minutes; then orders come in over
	// Duration, and updates, deletions and restocks are spread over the same span.
	t := start
	for range g.size.Products {
		g.at(t, g.createProduct)
		t = t.Add(g.between(20*time.Second, 4*time.Minute))
	}
	ordersFrom := t.Add(time.Hour)
	span := g.size.Duration
	if g.size.Orders > 0 {
		mean := float64(span) / float64(g.size.Orders)
		ot := ordersFrom
		for range g.size.Orders {
			ot = ot.Add(time.Duration(g.r.ExpFloat64()*mean) + time.Second)
			g.at(ot, g.placeOrder)
		}
	}
	uniform := func() time.Time { return ordersFrom.Add(time.Duration(g.r.Int64N(int64(span)))) }
	for range int(math.Round(g.mix.ProductUpdateRate * float64(g.size.Products))) {
		g.at(uniform(), g.updateProduct)
	}
	for range int(math.Round(g.mix.ProductDeleteRate * float64(g.size.Products))) {
		g.at(uniform(), g.deleteOrArchiveProduct)
	}
	variants := g.size.Products * (g.size.VariantsPerProduct + 1) / 2
	for range int(math.Round(g.mix.RestockRate * float64(variants))) {
		g.at(uniform(), g.restock)
	}
	for g.queue.Len() > 0 {
		a := heap.Pop(&g.queue).(action)
		a.run(a.at)
	}
}

// person is someone's name, contact and address: a customer's, or a guest's or gift
// recipient's.
func (g *generator) person() Address {
	first, last := pick(g.r, firstNames), pick(g.r, lastNames)
	pl := pick(g.r, places)
	a := Address{FirstName: first, LastName: last, Company: pick(g.r, companies),
		Address1: fmt.Sprintf("%d %s", 1+g.r.IntN(2400), pick(g.r, streets)), City: pl.city, Province: pl.province,
		ProvinceCode: pl.provinceCode, Country: pl.country, CountryCode: pl.countryCode, Zip: pl.zip,
		Phone:    fmt.Sprintf("%s55501%02d", pl.phonePrefix, g.r.IntN(100)),
		Latitude: math.Round((pl.lat+g.r.Float64()*0.05)*1e6) / 1e6, Longitude: math.Round((pl.lng+g.r.Float64()*0.05)*1e6) / 1e6}
	if g.chance(0.2) {
		a.Address2 = fmt.Sprintf("Apt %d", 1+g.r.IntN(40))
	}
	return a
}

func emailOf(first, last string, n int, domain string) string {
	clean := func(s string) string {
		s = strings.ToLower(s)
		return strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' {
				return r
			}
			return -1
		}, s)
	}
	return fmt.Sprintf("%s.%s%d@%s", clean(first), clean(last), n, domain)
}

func (g *generator) newCustomer(start time.Time) {
	s := g.s
	a := g.person()
	a.ID = s.newID(idAddress)
	id := s.newID(idCustomer)
	created := start.Add(-time.Duration(1+g.r.IntN(700)) * 24 * time.Hour).Add(time.Duration(g.r.IntN(86400)) * time.Second)
	c := &Customer{ID: id, Email: emailOf(a.FirstName, a.LastName, len(s.customerIDs)+1, pick(g.r, emailDomains)),
		FirstName: a.FirstName, LastName: a.LastName, Phone: a.Phone, State: "enabled", VerifiedEmail: true,
		AcceptsMarketing: g.chance(0.4), DefaultAddress: a, CreatedAt: created, UpdatedAt: created, Tags: []string{}}
	if g.chance(0.1) {
		c.Tags = []string{"vip"}
	}
	if g.chance(0.05) {
		c.Note = fmt.Sprintf("Prefers calls after 6pm on %s", c.Phone)
	}
	s.customers[id] = c
	s.customerIDs = append(s.customerIDs, id)
}

func (g *generator) handle(title string) string {
	h := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '-'
	}, title)
	for strings.Contains(h, "--") {
		h = strings.ReplaceAll(h, "--", "-")
	}
	h = strings.Trim(h, "-")
	g.handles[h]++
	if n := g.handles[h]; n > 1 {
		h = fmt.Sprintf("%s-%d", h, n)
	}
	return h
}

// price returns a shop-like price between from and to dollars: 49.00, 49.50 or 49.95.
func (g *generator) price(from, to int64) Money {
	d := from + g.r.Int64N(to-from+1)
	return Money(d*100 + pick(g.r, []int64{0, 0, 50, 95}))
}

// ean13 returns a barcode with a valid check digit.
func (g *generator) ean13() string {
	digits := make([]byte, 12)
	sum := 0
	for i := range digits {
		d := g.r.IntN(10)
		if i == 0 {
			d = 0
		}
		digits[i] = byte('0' + d)
		if i%2 == 0 {
			sum += d
		} else {
			sum += 3 * d
		}
	}
	return string(digits) + string(rune('0'+(10-sum%10)%10))
}

func (g *generator) createProduct(at time.Time) {
	s := g.s
	cat := pick(g.r, categories)
	title := pick(g.r, adjectives) + " " + pick(g.r, cat.nouns)
	p := &Product{ID: s.newID(idProduct), Title: title, Handle: g.handle(title), Vendor: pick(g.r, vendors),
		ProductType: cat.productType, Status: "active", CreatedAt: at, ImageID: s.newID(idImage),
		BodyHTML: fmt.Sprintf("<p>The %s, made to last. %s.</p>", strings.ToLower(title), cat.productType)}
	switch x := g.r.Float64(); {
	case x < 0.08:
		p.Status = "draft"
	case x < 0.12:
		p.Status = "archived"
	}
	p.Tags = g.someTags()
	// Options: the combinations of the category's option values, in order, as many as the
	// product has variants.
	n := 1 + g.r.IntN(g.size.VariantsPerProduct)
	picked := make([][]int, len(cat.options)) // value indexes per option, shuffled per product
	for i, o := range cat.options {
		picked[i] = g.r.Perm(len(o.values))
	}
	var combos [][]int
	var walk func(i int, cur []int)
	walk = func(i int, cur []int) {
		if len(combos) >= n {
			return
		}
		if i == len(cat.options) {
			combos = append(combos, slices.Clone(cur))
			return
		}
		for _, v := range picked[i] {
			walk(i+1, append(cur, v))
		}
	}
	walk(0, nil)
	for i, o := range cat.options {
		opt := ProductOption{ID: s.newID(idOption), Name: o.name, Position: i + 1}
		for _, c := range combos {
			if v := o.values[c[i]]; !slices.Contains(opt.Values, v) {
				opt.Values = append(opt.Values, v)
			}
		}
		p.Options = append(p.Options, opt)
	}
	base := g.price(cat.priceFrom, cat.priceTo)
	initials := ""
	for w := range strings.FieldsSeq(title) {
		initials += w[:1]
	}
	stock := map[int64][]int{}
	for i, c := range combos {
		v := Variant{ID: s.newID(idVariant), ProductID: p.ID, Price: base, Position: i + 1, InventoryItemID: s.newID(idItem),
			Taxable: true, RequiresShipping: true, Grams: cat.grams + g.r.IntN(cat.grams/2+1), Barcode: g.ean13()}
		var names, codes []string
		for j, o := range cat.options {
			names = append(names, o.values[c[j]])
			codes = append(codes, o.codes[c[j]])
		}
		v.Options, v.Title = names, strings.Join(names, " / ")
		v.SKU = fmt.Sprintf("%s-%s-%04d", strings.ToUpper(initials), strings.Join(codes, "-"), len(s.productIDs)+1)
		if names[0] == "XL" {
			v.Price += 500
		}
		if g.chance(0.2) {
			cmp := Money((int64(v.Price)*6/5 + 99) / 100 * 100)
			v.CompareAtPrice = &cmp
		}
		levels := make([]int, len(s.locations))
		for j := range levels {
			if j == 0 {
				levels[j] = 20 + g.r.IntN(130)
			} else {
				levels[j] = g.r.IntN(40)
			}
		}
		stock[v.ID] = levels
		p.Variants = append(p.Variants, v)
	}
	s.addProduct(p, stock)
	if p.Status == "active" {
		g.active = append(g.active, p.ID)
	}
}

func (g *generator) someTags() []string {
	tags := []string{}
	for range g.r.IntN(4) {
		if t := pick(g.r, productTags); !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	return sortTags(tags)
}

// sortTags orders tags as Shopify returns a product's: alphabetically, case-insensitively.
func sortTags(tags []string) []string {
	slices.SortStableFunc(tags, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return tags
}

// randomProduct returns an existing product's id, or 0 when there is none.
func (g *generator) randomProduct() int64 {
	ids := g.s.productIDs
	for range 20 {
		if id := ids[g.r.IntN(len(ids))]; g.s.products[id] != nil {
			return id
		}
	}
	for _, id := range ids {
		if g.s.products[id] != nil {
			return id
		}
	}
	return 0
}

func (g *generator) updateProduct(at time.Time) {
	s := g.s
	id := g.randomProduct()
	if id == 0 {
		return
	}
	p := s.copyProduct(id)
	var touched []int64
	switch x := g.r.Float64(); {
	case x < 0.4: // a price change on every variant
		pct := int64(85 + g.r.IntN(30))
		for i := range p.Variants {
			v := &p.Variants[i]
			v.Price = Money(int64(v.Price) * pct / 100 / 5 * 5)
			if v.Price < 100 {
				v.Price = 100
			}
			touched = append(touched, v.ID)
		}
	case x < 0.6:
		p.Title += " " + pick(g.r, []string{"II", "Pro", "Lite", "Heavyweight"})
	case x < 0.85:
		p.Tags = g.someTags()
	case x < 0.95:
		p.BodyHTML = strings.Replace(p.BodyHTML, "</p>", " Now in a new colourway.</p>", 1)
	default:
		if p.Status == "active" {
			p.Status = "archived"
		} else {
			p.Status = "active"
			pt := at.UTC().Truncate(time.Second)
			p.PublishedAt = &pt
		}
	}
	p = s.putProduct(p, at, touched...)
	if p.Status == "active" && !slices.Contains(g.active, p.ID) {
		g.active = append(g.active, p.ID)
	}
}

// deleteOrArchiveProduct deletes a product nobody ordered; a product on an order is archived
// instead, as merchants do, so every order line keeps its variant.
func (g *generator) deleteOrArchiveProduct(at time.Time) {
	s := g.s
	id := g.randomProduct()
	if id == 0 {
		return
	}
	if !g.ordered[id] {
		s.deleteProduct(id, at)
		return
	}
	p := s.copyProduct(id)
	p.Status = "archived"
	s.putProduct(p, at)
}

func (g *generator) restock(at time.Time) {
	s := g.s
	id := g.randomProduct()
	if id == 0 {
		return
	}
	p := s.products[id]
	v := pick(g.r, p.Variants)
	loc := pick(g.r, s.locations)
	s.moveStock(v.InventoryItemID, loc.ID, 10+g.r.IntN(50), at)
}

// orderable returns a random active product, or nil.
func (g *generator) orderable() *Product {
	for len(g.active) > 0 {
		i := g.r.IntN(len(g.active))
		p := g.s.products[g.active[i]]
		if p != nil && p.Status == "active" {
			return p
		}
		g.active = slices.Delete(g.active, i, i+1)
	}
	return nil
}

const taxRateBP = 825 // 8.25 %

func (g *generator) placeOrder(at time.Time) {
	s := g.s
	o := &Order{ID: s.newID(idOrder), Currency: s.shop.Currency, SourceName: "web", Tags: []string{}, NoteAttributes: []Property{},
		Token: strings.ReplaceAll(s.uuid(), "-", ""), CustomerLocale: "en", FinancialStatus: "paid"}
	s.orderNumber++
	o.OrderNumber, o.Number, o.Name = s.orderNumber, s.orderNumber-1000, fmt.Sprintf("#%d", s.orderNumber)
	var buyer Address
	if !g.chance(g.mix.GuestRate) && len(s.customerIDs) > 0 {
		c := s.customers[pick(g.r, s.customerIDs)]
		o.CustomerID, o.Email, o.Phone, buyer = c.ID, c.Email, c.Phone, c.DefaultAddress
		buyer.ID = 0
	} else {
		buyer = g.person()
		o.Email = emailOf(buyer.FirstName, buyer.LastName, 9000+g.r.IntN(1000), pick(g.r, emailDomains))
		if g.chance(0.5) {
			o.Phone = buyer.Phone
		}
	}
	if g.chance(0.1) {
		o.SourceName = "pos"
	}
	bill := buyer
	o.BillingAddress = &bill
	if o.SourceName == "web" {
		ship := buyer
		if g.chance(0.15) { // a gift to someone else
			ship = g.person()
			o.NoteAttributes = []Property{{Name: "gift_message", Value: "Happy birthday, " + ship.FirstName + "!"}}
		}
		o.ShippingAddress = &ship
		o.BrowserIP = fmt.Sprintf("%s.%d", pick(g.r, []string{"203.0.113", "198.51.100", "192.0.2"}), 1+g.r.IntN(254))
		o.UserAgent, o.AcceptLanguage = pick(g.r, userAgents), pick(g.r, acceptLanguages)
		o.SessionHash = fmt.Sprintf("%032x", g.r.Uint64())
		o.LandingSite = pick(g.r, landingSites)
		o.ReferringSite = pick(g.r, referringSites)
		if note := pick(g.r, orderNotes); note != "" {
			o.Note = note
			if strings.Contains(note, "%s") {
				o.Note = fmt.Sprintf(note, buyer.FirstName)
			}
		}
	}
	if g.chance(0.02) {
		o.Test = true
	}
	var code *DiscountCode
	if g.chance(0.12) {
		code = &DiscountCode{Code: pick(g.r, []string{"WELCOME10", "SPRING15", "VIP20"}), Type: "percentage"}
		fmt.Sscanf(strings.TrimLeft(code.Code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"), "%d", &code.Percent)
		code.Percent *= 100
	}
	nLines := 1 + g.r.IntN(4)
	if g.r.IntN(2) == 0 {
		nLines = 1
	}
	seen := map[int64]bool{}
	for range nLines {
		p := g.orderable()
		if p == nil {
			break
		}
		v := pick(g.r, p.Variants)
		if seen[v.ID] {
			continue
		}
		seen[v.ID] = true
		g.ordered[p.ID] = true
		q := 1 + g.r.IntN(3)
		if g.r.IntN(3) > 0 {
			q = 1
		}
		li := LineItem{ID: s.newID(idLineItem), ProductID: p.ID, VariantID: v.ID, Title: p.Title, VariantTitle: v.Title,
			Name: p.Title + " - " + v.Title, SKU: v.SKU, Vendor: p.Vendor, Quantity: q, CurrentQuantity: q, FulfillableQuantity: q,
			Price: v.Price, Taxable: v.Taxable, RequiresShipping: v.RequiresShipping, Grams: v.Grams, Properties: []Property{}}
		if len(p.Options) == 1 && len(p.Options[0].Values) == 1 {
			li.VariantTitle, li.Name = "", p.Title
		}
		if g.chance(0.05) {
			li.Properties = []Property{{Name: "Engraving", Value: fmt.Sprintf(pick(g.r, engravings), buyer.FirstName)}}
		}
		gross := li.Price * Money(q)
		if code != nil {
			li.TotalDiscount = percentOf(gross, code.Percent)
		}
		li.TaxLines = []TaxLine{{Title: "State Tax", Rate: "0.0825", Price: percentOf(gross-li.TotalDiscount, taxRateBP)}}
		o.LineItems = append(o.LineItems, li)
	}
	if len(o.LineItems) == 0 {
		s.orderNumber--
		return
	}
	for _, li := range o.LineItems {
		o.TotalLineItemsPrice += li.Price * Money(li.Quantity)
		o.TotalDiscounts += li.TotalDiscount
		o.TotalTax += li.TaxLines[0].Price
	}
	o.SubtotalPrice = o.TotalLineItemsPrice - o.TotalDiscounts
	if code != nil {
		code.Amount = o.TotalDiscounts
		o.DiscountCodes = []DiscountCode{*code}
	}
	if o.SourceName == "web" {
		sl := ShippingLine{ID: s.newID(idShippingLine), Title: "Standard", Code: "Standard", Price: 790, Phone: o.ShippingAddress.Phone}
		if o.SubtotalPrice >= 7500 {
			sl.Price = 0
			sl.Title, sl.Code = "Free Shipping", "FREE"
		}
		o.ShippingLines = []ShippingLine{sl}
		o.TotalShipping = sl.Price
	}
	o.TotalPrice = o.SubtotalPrice + o.TotalTax + o.TotalShipping
	o.CurrentSubtotalPrice, o.CurrentTotalDiscounts, o.CurrentTotalTax, o.CurrentTotalPrice = o.SubtotalPrice, o.TotalDiscounts, o.TotalTax, o.TotalPrice

	pending := g.chance(g.mix.PendingRate)
	topics := []string{"orders/create", "orders/paid"}
	if pending {
		o.FinancialStatus = "pending"
		topics = topics[:1]
	}
	o = s.putOrder(o, s.tick(at), topics...)
	loc := s.locations[0].ID
	if o.SourceName == "pos" && len(s.locations) > 1 {
		loc = s.locations[1].ID
	}
	for _, li := range o.LineItems {
		s.moveStock(s.products[li.ProductID].variant(li.VariantID).InventoryItemID, loc, -li.Quantity, at)
	}
	id := o.ID
	switch {
	case !pending:
		g.afterPaid(id, o.UpdatedAt)
	case g.chance(g.mix.PayLaterRate):
		g.at(o.UpdatedAt.Add(g.between(10*time.Minute, 48*time.Hour)), func(at time.Time) { g.pay(id, at) })
	case g.chance(0.5):
		g.at(o.UpdatedAt.Add(g.between(time.Hour, 72*time.Hour)), func(at time.Time) { g.cancel(id, loc, at) })
	}
	if g.chance(g.mix.OrderTagRate) {
		g.at(o.UpdatedAt.Add(g.between(time.Hour, 10*24*time.Hour)), func(at time.Time) { g.tagOrder(id, at) })
	}
}

func (p *Product) variant(id int64) *Variant {
	for i := range p.Variants {
		if p.Variants[i].ID == id {
			return &p.Variants[i]
		}
	}
	return nil
}

func (g *generator) afterPaid(id int64, paidAt time.Time) {
	if g.chance(g.mix.FulfillRate) {
		g.at(paidAt.Add(g.between(time.Hour, 5*24*time.Hour)), func(at time.Time) { g.fulfill(id, at) })
	}
}

func (g *generator) pay(id int64, at time.Time) {
	o := g.s.copyOrder(id)
	o.FinancialStatus = "paid"
	o = g.s.putOrder(o, g.s.tick(at), "orders/paid", "orders/updated")
	g.afterPaid(id, o.UpdatedAt)
}

func (g *generator) cancel(id, location int64, at time.Time) {
	s := g.s
	o := s.copyOrder(id)
	o.FinancialStatus, o.CancelReason = "voided", pick(g.r, []string{"customer", "customer", "inventory", "other"})
	o.LineItems = slices.Clone(o.LineItems)
	for i := range o.LineItems {
		o.LineItems[i].FulfillableQuantity = 0
	}
	t := s.tick(at)
	o.CancelledAt, o.ClosedAt = &t, &t
	o = s.putOrder(o, t, "orders/cancelled", "orders/updated")
	for _, li := range o.LineItems {
		s.moveStock(s.products[li.ProductID].variant(li.VariantID).InventoryItemID, location, li.Quantity, at)
	}
}

func (g *generator) fulfill(id int64, at time.Time) {
	s := g.s
	o := s.copyOrder(id)
	if o.CancelledAt != nil {
		return
	}
	t := s.tick(at)
	f := Fulfillment{ID: s.newID(idFulfillment), OrderID: id, LocationID: s.locations[0].ID, Name: fmt.Sprintf("%s.1", o.Name),
		Status: "success", TrackingCompany: pick(g.r, trackingCompanies), TrackingNumber: fmt.Sprintf("1Z%016d", g.r.Int64N(1e16)),
		CreatedAt: t, UpdatedAt: t}
	o.LineItems = slices.Clone(o.LineItems)
	for i := range o.LineItems {
		li := &o.LineItems[i]
		f.LineItems = append(f.LineItems, FulfillmentLine{LineItemID: li.ID, Quantity: li.FulfillableQuantity})
		li.FulfillableQuantity, li.FulfillmentStatus = 0, "fulfilled"
	}
	o.FulfillmentStatus = "fulfilled"
	if g.chance(0.5) {
		o.ClosedAt = &t
	}
	o.Fulfillments = append(slices.Clip(o.Fulfillments), f)
	o = s.putOrder(o, t, "orders/fulfilled", "orders/updated")
	if g.chance(g.mix.RefundRate) {
		g.at(o.UpdatedAt.Add(g.between(24*time.Hour, 14*24*time.Hour)), func(at time.Time) { g.refund(id, at) })
	}
}

// refund takes back one to all units of one line, restocking them at the first location.
func (g *generator) refund(id int64, at time.Time) {
	s := g.s
	o := s.copyOrder(id)
	var open []int
	for i, li := range o.LineItems {
		if li.CurrentQuantity > 0 {
			open = append(open, i)
		}
	}
	if len(open) == 0 {
		return
	}
	i := pick(g.r, open)
	o.LineItems = slices.Clone(o.LineItems)
	li := &o.LineItems[i]
	k := 1 + g.r.IntN(li.CurrentQuantity)
	before, after := li.Quantity-li.CurrentQuantity, li.Quantity-li.CurrentQuantity+k
	// Cumulative shares, so refunding a line in several goes adds up to the line exactly.
	part := func(m Money) Money { return share(m, after, li.Quantity) - share(m, before, li.Quantity) }
	gross := li.Price * Money(li.Quantity)
	rli := RefundLineItem{ID: s.newID(idRefundLine), LineItemID: li.ID, Quantity: k, RestockType: "return", LocationID: s.locations[0].ID,
		Subtotal: part(gross - li.TotalDiscount), TotalTax: part(li.TaxLines[0].Price), Discount: part(li.TotalDiscount)}
	li.CurrentQuantity -= k
	t := s.tick(at)
	r := Refund{ID: s.newID(idRefund), OrderID: id, CreatedAt: t, Restock: true, RefundLineItems: []RefundLineItem{rli}}
	if g.chance(0.3) {
		r.Note = pick(g.r, []string{"Customer says it arrived damaged", "Wrong size, returned by ", "Changed mind"})
		if strings.HasSuffix(r.Note, " ") {
			r.Note += s.orders[id].BillingAddress.Name()
		}
	}
	r.Transactions = []Transaction{{ID: s.newID(idTransaction), OrderID: id, Kind: "refund", Gateway: "shopify_payments",
		Status: "success", Amount: rli.Subtotal + rli.TotalTax, Authorization: fmt.Sprintf("re_%x", g.r.Uint64()), CreatedAt: t}}
	o.Refunds = append(slices.Clip(o.Refunds), r)
	o.CurrentSubtotalPrice -= rli.Subtotal
	o.CurrentTotalTax -= rli.TotalTax
	o.CurrentTotalDiscounts -= rli.Discount
	o.CurrentTotalPrice = o.CurrentSubtotalPrice + o.CurrentTotalTax + o.TotalShipping
	o.TotalRefunded += r.Total()
	o.FinancialStatus = "partially_refunded"
	all := true
	for _, l := range o.LineItems {
		all = all && l.CurrentQuantity == 0
	}
	if all {
		o.FinancialStatus = "refunded"
	}
	o = s.putOrder(o, t, "orders/updated")
	sh, snap := s.shop, o
	s.record("refunds/create", t, r.GID(), func() []byte { return renderRefund(sh, snap, r) })
	s.moveStock(s.products[li.ProductID].variant(li.VariantID).InventoryItemID, rli.LocationID, k, at)
}

func (g *generator) tagOrder(id int64, at time.Time) {
	s := g.s
	o := s.copyOrder(id)
	t := pick(g.r, orderTagsLater)
	if slices.Contains(o.Tags, t) {
		return
	}
	o.Tags = sortTags(append(slices.Clone(o.Tags), t))
	s.putOrder(o, s.tick(at), "orders/updated")
}
