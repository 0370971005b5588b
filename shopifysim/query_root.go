package shopifysim

import (
	"slices"
	"strings"
)

// The query root: the connections storeline reads (also the roots of bulk queries), look-ups
// by id, and the bulk operations' status.

// sortKeyOf returns the key items are ordered by for a sortKey argument.
func sortKeyOf(x *execCtx, f *gqlField, keys map[string]func(any) string) (func(any) string, error) {
	sk, ok := x.argString(f, "sortKey")
	if !ok || sk == "" {
		sk = "ID"
	}
	if sk == "ID" {
		return func(any) string { return "" }, nil
	}
	if k := keys[sk]; k != nil {
		return k, nil
	}
	return nil, errorf("argumentLiteralsIncompatible", "Argument 'sortKey' on Field '%s' has an invalid value (%s). Expected type '%s'.", f.name, sk, "SortKeys")
}

func rootConn(typ string, extra []string, fn func(x *execCtx, f *gqlField, terms []searchTerm) ([]any, func(any) int64, map[string]func(any) string)) *fieldDef {
	return &fieldDef{kind: kConn, typ: typ, args: append(append([]string{"query", "sortKey"}, extra...), connArgs...),
		resolve: func(x *execCtx, _ any, f *gqlField) (any, error) {
			q, _ := x.argString(f, "query")
			terms := parseSearch(q)
			if err := searchError(terms); err != nil {
				return nil, err
			}
			items, idOf, keys := fn(x, f, terms)
			k, err := sortKeyOf(x, f, keys)
			if err != nil {
				return nil, err
			}
			return x.paginate(f, items, func(v any) (string, int64) { return k(v), idOf(v) })
		}}
}

func byID(fn func(x *execCtx, typ string, id int64, rest string) any) *fieldDef {
	return &fieldDef{kind: kObject, args: []string{"id"}, resolve: func(x *execCtx, _ any, f *gqlField) (any, error) {
		s, _ := x.argString(f, "id")
		typ, id, rest, ok := parseGID(s)
		if !ok {
			return nil, errorf("", "Invalid global id '%s'", s)
		}
		if v := fn(x, typ, id, rest); v != nil {
			return v, nil
		}
		return nil, nil
	}}
}

func queryRoot() map[string]*fieldDef {
	timeKeys := func(updated, created func(any) string) map[string]func(any) string {
		return map[string]func(any) string{"UPDATED_AT": updated, "CREATED_AT": created}
	}
	r := map[string]*fieldDef{
		"products": rootConn("Product", nil, func(x *execCtx, f *gqlField, terms []searchTerm) ([]any, func(any) int64, map[string]func(any) string) {
			var items []any
			for _, id := range x.store.productIDs {
				if p := x.store.products[id]; p != nil && matchProduct(x, terms, p) {
					items = append(items, p)
				}
			}
			keys := timeKeys(func(v any) string { return gqlTime(v.(*Product).UpdatedAt) }, func(v any) string { return gqlTime(v.(*Product).CreatedAt) })
			keys["TITLE"] = func(v any) string { return strings.ToLower(v.(*Product).Title) }
			return items, func(v any) int64 { return v.(*Product).ID }, keys
		}),
		"productVariants": rootConn("ProductVariant", nil, func(x *execCtx, f *gqlField, terms []searchTerm) ([]any, func(any) int64, map[string]func(any) string) {
			var items []any
			for _, id := range x.store.productIDs {
				if p := x.store.products[id]; p != nil {
					for i := range p.Variants {
						if v := (variantSrc{p, &p.Variants[i]}); matchVariant(x, terms, v) {
							items = append(items, v)
						}
					}
				}
			}
			return items, func(v any) int64 { return v.(variantSrc).v.ID }, nil
		}),
		"orders": rootConn("Order", nil, func(x *execCtx, f *gqlField, terms []searchTerm) ([]any, func(any) int64, map[string]func(any) string) {
			var items []any
			for _, id := range x.store.orderIDs {
				if o := x.store.orders[id]; matchOrder(x, terms, o) {
					items = append(items, o)
				}
			}
			keys := timeKeys(func(v any) string { return gqlTime(v.(*Order).UpdatedAt) }, func(v any) string { return gqlTime(v.(*Order).CreatedAt) })
			keys["PROCESSED_AT"] = func(v any) string { return gqlTime(v.(*Order).ProcessedAt) }
			return items, func(v any) int64 { return v.(*Order).ID }, keys
		}),
		"customers": rootConn("Customer", nil, func(x *execCtx, f *gqlField, terms []searchTerm) ([]any, func(any) int64, map[string]func(any) string) {
			var items []any
			for _, id := range x.store.customerIDs {
				if c := x.store.customers[id]; matchCustomer(x, terms, c) {
					items = append(items, c)
				}
			}
			return items, func(v any) int64 { return v.(*Customer).ID }, timeKeys(func(v any) string { return gqlTime(v.(*Customer).UpdatedAt) }, func(v any) string { return gqlTime(v.(*Customer).CreatedAt) })
		}),
		"inventoryItems": rootConn("InventoryItem", nil, func(x *execCtx, f *gqlField, terms []searchTerm) ([]any, func(any) int64, map[string]func(any) string) {
			var items []any
			for _, id := range x.store.itemIDs {
				if it := x.store.items[id]; it != nil && matchItem(x, terms, it) {
					items = append(items, it)
				}
			}
			return items, func(v any) int64 { return v.(*InventoryItem).ID }, nil
		}),
		"locations": rootConn("Location", []string{"includeInactive", "includeLegacy"}, func(x *execCtx, f *gqlField, terms []searchTerm) ([]any, func(any) int64, map[string]func(any) string) {
			var items []any
			for _, l := range x.store.locations {
				items = append(items, l)
			}
			return items, func(v any) int64 { return v.(*Location).ID }, nil
		}),
		"events": rootConn("BasicEvent", nil, func(x *execCtx, f *gqlField, terms []searchTerm) ([]any, func(any) int64, map[string]func(any) string) {
			var items []any
			for i := range x.store.events {
				if e := &x.store.events[i]; matchEvent(x, terms, e) {
					items = append(items, e)
				}
			}
			return items, func(v any) int64 { return v.(*shopEvent).ID }, map[string]func(any) string{"CREATED_AT": func(v any) string { return gqlTime(v.(*shopEvent).CreatedAt) }}
		}),
		"bulkOperations": {kind: kConn, typ: "BulkOperation", minVersion: "2026-01", args: append([]string{"query", "sortKey"}, connArgs...),
			resolve: func(x *execCtx, _ any, f *gqlField) (any, error) {
				q, _ := x.argString(f, "query")
				terms := parseSearch(q)
				var items []any
				for _, op := range x.srv.operations(x.now) {
					ok := true
					for _, t := range terms {
						switch t.field {
						case "status":
							ok = ok && matchString(op.Status, t)
						case "operation_type", "type":
							ok = ok && matchString(op.Type, t)
						case "created_at":
							ok = ok && x.matchTime(op.CreatedAt, t)
						}
					}
					if ok {
						items = append(items, op)
					}
				}
				return x.paginate(f, items, func(v any) (string, int64) {
					b := v.(*BulkOperation)
					return gqlTime(b.CreatedAt), b.ID
				})
			}},
		"product": withType("Product", byID(func(x *execCtx, typ string, id int64, _ string) any {
			if p := x.store.products[id]; typ == "Product" && p != nil {
				return p
			}
			return nil
		})),
		"productVariant": withType("ProductVariant", byID(func(x *execCtx, typ string, id int64, _ string) any {
			if typ != "ProductVariant" {
				return nil
			}
			if p := x.store.products[x.store.variantProduct[id]]; p != nil {
				return variantSrc{p, p.variant(id)}
			}
			return nil
		})),
		"order": withType("Order", byID(func(x *execCtx, typ string, id int64, _ string) any {
			if o := x.store.orders[id]; typ == "Order" && o != nil {
				return o
			}
			return nil
		})),
		"customer": withType("Customer", byID(func(x *execCtx, typ string, id int64, _ string) any {
			if c := x.store.customers[id]; typ == "Customer" && c != nil {
				return c
			}
			return nil
		})),
		"inventoryItem": withType("InventoryItem", byID(func(x *execCtx, typ string, id int64, _ string) any {
			if it := x.store.items[id]; typ == "InventoryItem" && it != nil {
				return it
			}
			return nil
		})),
		"location": withType("Location", byID(func(x *execCtx, typ string, id int64, _ string) any {
			for _, l := range x.store.locations {
				if typ == "Location" && l.ID == id {
					return l
				}
			}
			return nil
		})),
		"bulkOperation": withMin("2026-01", withType("BulkOperation", byID(func(x *execCtx, typ string, id int64, _ string) any {
			if typ != "BulkOperation" {
				return nil
			}
			if op := x.srv.operation(id, x.now); op != nil {
				return op
			}
			return nil
		}))),
		"node": withType("Node", byID(func(x *execCtx, typ string, id int64, rest string) any {
			return x.nodeOf(typ, id, rest)
		})),
		"nodes": {kind: kList, typ: "Node", args: []string{"ids"}, resolve: func(x *execCtx, _ any, f *gqlField) (any, error) {
			v, _ := x.arg(f, "ids")
			ids, _ := v.([]any)
			out := make([]any, len(ids))
			for i, raw := range ids {
				s, _ := raw.(string)
				typ, id, rest, ok := parseGID(s)
				if !ok {
					return nil, errorf("", "Invalid global id '%s'", s)
				}
				if n := x.nodeOf(typ, id, rest); n != nil {
					out[i] = n
				}
			}
			return out, nil
		}},
		"currentBulkOperation": {kind: kObject, typ: "BulkOperation", args: []string{"type"}, resolve: func(x *execCtx, _ any, f *gqlField) (any, error) {
			t, ok := x.argString(f, "type")
			if !ok {
				t = "QUERY"
			}
			if op := x.srv.current(t, x.now); op != nil {
				return op, nil
			}
			return nil, nil
		}},
		"shop": {kind: kObject, typ: "Shop", resolve: func(x *execCtx, _ any, _ *gqlField) (any, error) { return x.store.shop, nil }},
	}
	return r
}

func withType(typ string, d *fieldDef) *fieldDef { d.typ = typ; return d }
func withMin(v string, d *fieldDef) *fieldDef    { d.minVersion = v; return d }

// nodeOf looks an object up by its GID parts, typed for a Node field.
func (x *execCtx) nodeOf(typ string, id int64, rest string) any {
	if typ == "BulkOperation" {
		if op := x.srv.operation(id, x.now); op != nil {
			return typed{"BulkOperation", op}
		}
		return nil
	}
	return x.store.nodeParts(typ, id, rest)
}

// node looks an object up by GID. s.mu is held.
func (s *Store) node(gid string) any {
	typ, id, rest, ok := parseGID(gid)
	if !ok {
		return nil
	}
	return s.nodeParts(typ, id, rest)
}

func (s *Store) nodeParts(typ string, id int64, rest string) any {
	switch typ {
	case "Product":
		if p := s.products[id]; p != nil {
			return typed{"Product", p}
		}
	case "ProductVariant":
		if p := s.products[s.variantProduct[id]]; p != nil {
			return typed{"ProductVariant", variantSrc{p, p.variant(id)}}
		}
	case "Order":
		if o := s.orders[id]; o != nil {
			return typed{"Order", o}
		}
	case "Customer":
		if c := s.customers[id]; c != nil {
			return typed{"Customer", c}
		}
	case "InventoryItem":
		if it := s.items[id]; it != nil {
			return typed{"InventoryItem", it}
		}
	case "InventoryLevel":
		var item int64
		if v, ok := strings.CutPrefix(rest, "inventory_item_id="); ok {
			_, item, _, _ = parseGID("gid://shopify/X/" + v)
		}
		if l := s.levels[levelKey{item, id}]; l != nil {
			return typed{"InventoryLevel", l}
		}
	case "Location":
		for _, l := range s.locations {
			if l.ID == id {
				return typed{"Location", l}
			}
		}
	case "Metafield":
		for _, ms := range s.metafields {
			if i := slices.IndexFunc(ms, func(m *Metafield) bool { return m.ID == id }); i >= 0 {
				return typed{"Metafield", ms[i]}
			}
		}
	case "LineItem":
		for _, oid := range s.orderIDs {
			o := s.orders[oid]
			for i := range o.LineItems {
				if o.LineItems[i].ID == id {
					return typed{"LineItem", lineSrc{o, &o.LineItems[i]}}
				}
			}
		}
	}
	return nil
}
