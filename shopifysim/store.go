package shopifysim

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Store is one simulated shop: its catalogue, stock, customers and orders, and the history of
// every change with the webhooks Shopify would have sent for it. Generate makes one; the
// AdminServer reads and writes it; a WebhookSender delivers its history. Accessors return copies
// of the current (final) state, which is what storeline's read models must end up equal to.
// A Store is safe for concurrent use.
type Store struct {
	mu    sync.RWMutex
	shop  *shopInfo
	rng   *rand.Rand
	ids   map[idKind]int64
	last  time.Time // latest timestamp handed out: every write is strictly later
	clock Clock     // time of writes after generation; nil: one second after the last

	locations []*Location

	products       map[int64]*Product
	productIDs     []int64 // creation order = id order
	variantProduct map[int64]int64
	deleted        []DeletedProduct
	events         []shopEvent

	items   map[int64]*InventoryItem
	itemIDs []int64
	levels  map[levelKey]*InventoryLevel

	customers   map[int64]*Customer
	customerIDs []int64

	orders      map[int64]*Order
	orderIDs    []int64
	orderNumber int

	metafields map[string][]*Metafield // by owner GID

	history []Change
	pending []Change
	subs    map[int]func(Change)
	subSeq  int
	notify  sync.Mutex // subscribers see changes one at a time, in history order
}

// shopInfo is the shop and its time zone, shared (read-only) by every rendered payload.
type shopInfo struct {
	Shop
	zone *time.Location
}

type levelKey struct{ item, location int64 }

// shopEvent is an entry of the Events API (GraphQL events): here product creations and
// deletions, the way to learn about a products/delete that never arrived.
type shopEvent struct {
	ID          int64
	Action      string // create, destroy
	SubjectType string // PRODUCT
	SubjectID   int64
	Message     string
	CreatedAt   time.Time
}

// Change is one thing that happened to the shop, as a webhook: its topic, when it was
// triggered, Shopify's event id (X-Shopify-Event-Id) and the payload as of that moment.
// Several changes can share a moment and a subject (orders/create and orders/paid of one
// order); each is its own event.
type Change struct {
	Seq         int64     // position in the store's history, from 1
	Topic       string    // orders/create, products/update, inventory_levels/update, ...
	TriggeredAt time.Time // X-Shopify-Triggered-At; the subject's updated_at when it has one
	EventID     string    // X-Shopify-Event-Id: the same on every delivery of the change
	Subject     string    // GID of the object the change is about (the shop for shop topics)
	render      func() []byte
}

// Payload renders the webhook body (REST-shaped, snake_case JSON) exactly as it was when the
// change happened.
func (c Change) Payload() []byte {
	if c.render == nil {
		return []byte("{}")
	}
	return c.render()
}

type idKind int

const (
	idProduct idKind = iota
	idVariant
	idOption
	idImage
	idItem
	idLocation
	idCustomer
	idAddress
	idOrder
	idLineItem
	idShippingLine
	idRefund
	idRefundLine
	idTransaction
	idFulfillment
	idMetafield
	idBulkOperation
	idEvent
	idCheckout
	idKinds
)

// idBase is where each kind of id starts. Orders, customers, refunds and metafields start above
// 2^53 (9007199254740992), where a float64 loses digits; the rest look like today's ids.
var idBase = [idKinds]int64{
	idProduct:       8_123_456_700_000,
	idVariant:       45_012_345_600_000,
	idOption:        10_234_567_800_000,
	idImage:         36_112_233_400_000,
	idItem:          47_111_222_300_000,
	idLocation:      65_544_149_100,
	idCustomer:      9_007_199_254_740_993,
	idAddress:       9_100_000_000_000_000,
	idOrder:         9_007_199_300_000_000,
	idLineItem:      14_321_098_700_000,
	idShippingLine:  4_722_222_200_000,
	idRefund:        9_007_199_400_000_000,
	idRefundLine:    9_007_199_500_000_000,
	idTransaction:   7_311_111_100_000,
	idFulfillment:   5_122_222_200_000,
	idMetafield:     9_007_199_600_000_000,
	idBulkOperation: 4_039_184_154_000,
	idEvent:         140_000_000_000,
	idCheckout:      36_000_000_000_000,
}

func newStore(seed int64, shop Shop) *Store {
	s := &Store{
		rng:            rand.New(rand.NewPCG(uint64(seed), 0x5107e11e)),
		ids:            map[idKind]int64{},
		products:       map[int64]*Product{},
		variantProduct: map[int64]int64{},
		items:          map[int64]*InventoryItem{},
		levels:         map[levelKey]*InventoryLevel{},
		customers:      map[int64]*Customer{},
		orders:         map[int64]*Order{},
		metafields:     map[string][]*Metafield{},
		subs:           map[int]func(Change){},
		orderNumber:    1000,
	}
	s.shop = &shopInfo{Shop: shop, zone: time.FixedZone(shop.IANATimezone, shop.UTCOffset)}
	return s
}

// newID hands out the next id of a kind: increasing, with random gaps as in a real shard.
func (s *Store) newID(k idKind) int64 {
	cur, ok := s.ids[k]
	if !ok {
		cur = idBase[k]
	}
	cur += 1 + s.rng.Int64N(4096)
	s.ids[k] = cur
	return cur
}

// uuid returns a random, version-4-shaped UUID from the store's seeded generator.
func (s *Store) uuid() string { return uuidFrom(s.rng) }

func uuidFrom(r *rand.Rand) string {
	a, b := r.Uint64(), r.Uint64()
	a = a&^(0xf<<12) | 0x4<<12
	b = b&^(0x3<<62) | 0x2<<62
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

// tick returns the time of a write wanted at t: whole seconds, strictly after every earlier
// write of the store, so updated_at grows with every change of an object.
func (s *Store) tick(t time.Time) time.Time {
	t = t.UTC().Truncate(time.Second)
	if !t.After(s.last) {
		t = s.last.Add(time.Second)
	}
	s.last = t
	return t
}

// record appends a change to the history; subscribers hear of it when the writer calls
// s.unlockAndNotify. s.mu is held.
func (s *Store) record(topic string, at time.Time, subject string, render func() []byte) Change {
	c := Change{Seq: int64(len(s.history)) + 1, Topic: topic, TriggeredAt: at, EventID: s.uuid(), Subject: subject, render: render}
	s.history = append(s.history, c)
	if len(s.subs) > 0 {
		s.pending = append(s.pending, c)
	}
	return c
}

// unlockAndNotify releases s.mu and hands the changes recorded under it to the subscribers.
func (s *Store) unlockAndNotify() {
	pending := s.pending
	s.pending = nil
	subs := make([]func(Change), 0, len(s.subs))
	for i := 0; i <= s.subSeq; i++ {
		if f, ok := s.subs[i]; ok {
			subs = append(subs, f)
		}
	}
	s.mu.Unlock()
	if len(pending) == 0 {
		return
	}
	// Taken after s.mu is released, so a subscriber may read the store; two concurrent writers'
	// changes may then reach subscribers interleaved, as Shopify's would.
	s.notify.Lock()
	defer s.notify.Unlock()
	for _, c := range pending {
		for _, f := range subs {
			f(c)
		}
	}
}

// Subscribe calls f with every change recorded from now on (one at a time, in history order
// for each writer, never under the store's lock), e.g. a WebhookSender's Enqueue, so writes through the
// AdminServer echo as webhooks. cancel stops it.
func (s *Store) Subscribe(f func(Change)) (cancel func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subSeq++
	id := s.subSeq
	s.subs[id] = f
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.subs, id)
	}
}

// History returns every change so far, oldest first.
func (s *Store) History() []Change {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.history)
}

// HistorySince returns the changes after seq (History()[seq:]).
func (s *Store) HistorySince(seq int64) []Change {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if seq < 0 {
		seq = 0
	}
	if seq >= int64(len(s.history)) {
		return nil
	}
	return slices.Clone(s.history[seq:])
}

// LastSeq is the Seq of the latest change (0 for none).
func (s *Store) LastSeq() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return int64(len(s.history))
}

// LastWrite is the time of the store's latest write: every later write is strictly after it.
func (s *Store) LastWrite() time.Time {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.last
}

// Shop returns the shop.
func (s *Store) Shop() Shop { return s.shop.Shop }

// Locations returns the shop's locations by id.
func (s *Store) Locations() []Location {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Location, len(s.locations))
	for i, l := range s.locations {
		out[i] = *l
	}
	return out
}

// Products returns every product that exists (not deleted), by id, with its variants.
func (s *Store) Products() []Product {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Product, 0, len(s.products))
	for _, id := range s.productIDs {
		if p, ok := s.products[id]; ok {
			out = append(out, p.clone())
		}
	}
	return out
}

// Product returns the product with the id, if it exists.
func (s *Store) Product(id int64) (Product, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.products[id]
	if !ok {
		return Product{}, false
	}
	return p.clone(), true
}

// DeletedProducts returns the products deleted, in order of deletion. A deleted product's
// inventory items and levels are gone with it.
func (s *Store) DeletedProducts() []DeletedProduct {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.deleted)
}

// InventoryItems returns the inventory items of existing variants, by id.
func (s *Store) InventoryItems() []InventoryItem {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]InventoryItem, 0, len(s.items))
	for _, id := range s.itemIDs {
		if it, ok := s.items[id]; ok {
			out = append(out, *it)
		}
	}
	return out
}

// InventoryLevels returns every inventory level of existing variants, by inventory item id and
// then location id.
func (s *Store) InventoryLevels() []InventoryLevel {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]InventoryLevel, 0, len(s.levels))
	for _, l := range s.levels {
		out = append(out, *l)
	}
	slices.SortFunc(out, func(a, b InventoryLevel) int {
		return cmp.Or(cmp.Compare(a.InventoryItemID, b.InventoryItemID), cmp.Compare(a.LocationID, b.LocationID))
	})
	return out
}

// Customers returns every customer, by id.
func (s *Store) Customers() []Customer {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Customer, 0, len(s.customers))
	for _, id := range s.customerIDs {
		c := *s.customers[id]
		c.Tags = slices.Clone(c.Tags)
		out = append(out, c)
	}
	return out
}

// Customer returns the customer with the id.
func (s *Store) Customer(id int64) (Customer, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.customers[id]
	if !ok {
		return Customer{}, false
	}
	cc := *c
	cc.Tags = slices.Clone(cc.Tags)
	return cc, true
}

// Orders returns every order, by id, with lines, refunds and fulfillments.
func (s *Store) Orders() []Order {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Order, 0, len(s.orders))
	for _, id := range s.orderIDs {
		out = append(out, s.orders[id].clone())
	}
	return out
}

// Order returns the order with the id.
func (s *Store) Order(id int64) (Order, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	o, ok := s.orders[id]
	if !ok {
		return Order{}, false
	}
	return o.clone(), true
}

// Metafields returns the metafields of an owner (a GID), by namespace and key.
func (s *Store) Metafields(ownerGID string) []Metafield {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Metafield
	for _, m := range s.metafields[ownerGID] {
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b Metafield) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Key, b.Key))
	})
	return out
}
