package shopifysim

import (
	"slices"
	"time"
)

// The store's writes. Each takes the write lock's place in the caller (s.mu held), stamps the
// object with a fresh time from s.tick, replaces the stored version with a new one (a version
// once stored is never modified, so a change's payload renders as it was) and records the
// webhooks Shopify sends for it.

// addProduct stores a new product with its inventory items and levels (stock per location) and
// records products/create and one inventory_levels/update per level.
func (s *Store) addProduct(p *Product, stock map[int64][]int) {
	at := s.tick(p.CreatedAt)
	p.CreatedAt, p.UpdatedAt = at, at
	if p.Status == "active" {
		p.PublishedAt = &at
	}
	for i := range p.Variants {
		v := &p.Variants[i]
		v.CreatedAt, v.UpdatedAt = at, at
		item := &InventoryItem{ID: v.InventoryItemID, VariantID: v.ID, ProductID: p.ID, SKU: v.SKU, Tracked: true,
			Cost: percentOf(v.Price, 4500), CreatedAt: at, UpdatedAt: at}
		s.items[item.ID] = item
		s.itemIDs = append(s.itemIDs, item.ID)
		s.variantProduct[v.ID] = p.ID
		total := 0
		for j, loc := range s.locations {
			n := stock[v.ID][j]
			s.levels[levelKey{item.ID, loc.ID}] = &InventoryLevel{InventoryItemID: item.ID, LocationID: loc.ID, Available: n, UpdatedAt: at}
			total += n
		}
		v.InventoryQuantity = total
	}
	s.products[p.ID] = p
	s.productIDs = append(s.productIDs, p.ID)
	s.events = append(s.events, shopEvent{ID: s.newID(idEvent), Action: "create", SubjectType: "PRODUCT", SubjectID: p.ID,
		Message: "Product was created: " + p.Title, CreatedAt: at})
	sh := s.shop
	s.record("products/create", at, p.GID(), func() []byte { return renderProduct(sh, p) })
	for _, v := range p.Variants {
		for _, loc := range s.locations {
			l := *s.levels[levelKey{v.InventoryItemID, loc.ID}]
			s.record("inventory_levels/update", at, l.GID(), func() []byte { return renderInventoryLevel(sh, l) })
		}
	}
}

// putProduct stores a new version of a product (its UpdatedAt stamped now, and that of the
// variants in touched) and records products/update. It returns the stored version.
func (s *Store) putProduct(p *Product, want time.Time, touched ...int64) *Product {
	at := s.tick(want)
	p.UpdatedAt = at
	for i := range p.Variants {
		v := &p.Variants[i]
		if slices.Contains(touched, v.ID) {
			v.UpdatedAt = at
		}
		v.InventoryQuantity = s.stockOf(v.InventoryItemID)
	}
	s.products[p.ID] = p
	sh := s.shop
	s.record("products/update", at, p.GID(), func() []byte { return renderProduct(sh, p) })
	return p
}

// copyProduct returns a copy of the stored product that may be modified and put back; its
// variants slice is its own.
func (s *Store) copyProduct(id int64) *Product {
	p := *s.products[id]
	p.Variants = slices.Clone(p.Variants)
	return &p
}

// stockOf is an inventory item's available units summed over locations.
func (s *Store) stockOf(item int64) int {
	n := 0
	for _, loc := range s.locations {
		if l, ok := s.levels[levelKey{item, loc.ID}]; ok {
			n += l.Available
		}
	}
	return n
}

// deleteProduct removes a product with its inventory items and levels and records
// products/delete.
func (s *Store) deleteProduct(id int64, want time.Time) {
	p := s.products[id]
	at := s.tick(want)
	for _, v := range p.Variants {
		delete(s.items, v.InventoryItemID)
		delete(s.variantProduct, v.ID)
		for _, loc := range s.locations {
			delete(s.levels, levelKey{v.InventoryItemID, loc.ID})
		}
	}
	delete(s.products, id)
	s.deleted = append(s.deleted, DeletedProduct{ID: id, DeletedAt: at})
	s.events = append(s.events, shopEvent{ID: s.newID(idEvent), Action: "destroy", SubjectType: "PRODUCT", SubjectID: id,
		Message: "Product was deleted: " + p.Title, CreatedAt: at})
	s.record("products/delete", at, GID("Product", id), func() []byte { return renderProductDelete(id) })
}

// moveStock adds delta to an item's available units at a location and records
// inventory_levels/update. An item that no longer exists (its product deleted) is skipped.
func (s *Store) moveStock(item, location int64, delta int, want time.Time) {
	old, ok := s.levels[levelKey{item, location}]
	if !ok || delta == 0 {
		return
	}
	at := s.tick(want)
	l := *old
	l.Available += delta
	l.UpdatedAt = at
	s.levels[levelKey{item, location}] = &l
	if it := s.items[item]; it != nil {
		it2 := *it
		it2.UpdatedAt = at
		s.items[item] = &it2
	}
	sh := s.shop
	s.record("inventory_levels/update", at, l.GID(), func() []byte { return renderInventoryLevel(sh, l) })
}

// putOrder stores a new version of an order stamped at (a time from s.tick) and records each
// topic for it (orders/create, or orders/updated with the specific topic of the change).
func (s *Store) putOrder(o *Order, at time.Time, topics ...string) *Order {
	o.UpdatedAt = at
	if _, exists := s.orders[o.ID]; !exists {
		o.CreatedAt, o.ProcessedAt = at, at
		s.orderIDs = append(s.orderIDs, o.ID)
	}
	s.orders[o.ID] = o
	sh := s.shop
	cust := s.customers[o.CustomerID]
	for _, topic := range topics {
		s.record(topic, at, o.GID(), func() []byte { return renderOrder(sh, o, cust) })
	}
	return o
}

// copyOrder returns a shallow copy of the stored order: replace (never modify) its slices.
func (s *Store) copyOrder(id int64) *Order {
	o := *s.orders[id]
	return &o
}
