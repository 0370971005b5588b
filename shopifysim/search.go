package shopifysim

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Shopify's search syntax for the query: argument of connections, and pagination.
//
// Supported: terms "field:value" joined by spaces or AND; values bare, 'single' or "double"
// quoted; comparisons field:>=v, :>v, :<=v, :<v on times and ids. Times are RFC 3339, or a date
// or date-time without zone read in the shop's zone. A term on a field the resource does not
// know is ignored, as Shopify ignores it (with a warning in extensions.search there). OR,
// NOT, parentheses and free text are not supported: such a query is an error.

type searchTerm struct {
	field, op, value string
}

func parseSearch(q string) []searchTerm {
	var terms []searchTerm
	for _, tok := range searchTokens(q) {
		if tok == "AND" || tok == "" {
			continue
		}
		field, val, ok := strings.Cut(tok, ":")
		if !ok {
			terms = append(terms, searchTerm{field: "", value: tok})
			continue
		}
		t := searchTerm{field: field, op: "="}
		for _, op := range []string{">=", "<=", ">", "<"} {
			if strings.HasPrefix(val, op) {
				t.op, val = op, val[len(op):]
				break
			}
		}
		t.value = unquote(val)
		terms = append(terms, t)
	}
	return terms
}

func searchTokens(q string) []string {
	var out []string
	var cur strings.Builder
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			cur.WriteByte(c)
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
			cur.WriteByte(c)
		case c == ' ' || c == '\t' || c == '\n':
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteByte(c)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// searchError is a query the simulator cannot evaluate (OR, free text).
func searchError(terms []searchTerm) error {
	for _, t := range terms {
		if t.field == "" {
			return errorf("", "shopifysim: unsupported search syntax %q (only field:value terms joined by AND)", t.value)
		}
	}
	return nil
}

func (x *execCtx) parseSearchTime(v string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, time.RFC3339} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, x.store.shop.zone); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func cmpOp(c int, op string) bool {
	switch op {
	case ">=":
		return c >= 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case "<":
		return c < 0
	}
	return c == 0
}

func (x *execCtx) matchTime(t time.Time, term searchTerm) bool {
	v, ok := x.parseSearchTime(term.value)
	if !ok {
		return false
	}
	if term.op == "=" && len(term.value) == len("2006-01-02") { // a whole day
		d := t.In(x.store.shop.zone).Format("2006-01-02")
		return d == term.value
	}
	return cmpOp(t.Truncate(time.Second).Compare(v), term.op)
}

func matchID(id int64, term searchTerm) bool {
	v := term.value
	if _, n, _, ok := parseGID(v); ok {
		return cmpOp(cmp.Compare(id, n), term.op)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return err == nil && cmpOp(cmp.Compare(id, n), term.op)
}

func matchString(s string, term searchTerm) bool {
	for alt := range strings.SplitSeq(term.value, ",") {
		if strings.EqualFold(strings.TrimSpace(alt), s) {
			return true
		}
	}
	return false
}

func matchProduct(x *execCtx, terms []searchTerm, p *Product) bool {
	for _, t := range terms {
		ok := true
		switch t.field {
		case "updated_at":
			ok = x.matchTime(p.UpdatedAt, t)
		case "created_at":
			ok = x.matchTime(p.CreatedAt, t)
		case "published_at":
			ok = p.PublishedAt != nil && x.matchTime(*p.PublishedAt, t)
		case "id":
			ok = matchID(p.ID, t)
		case "status":
			ok = matchString(p.Status, t)
		case "product_type":
			ok = matchString(p.ProductType, t)
		case "vendor":
			ok = matchString(p.Vendor, t)
		case "handle":
			ok = matchString(p.Handle, t)
		case "tag":
			ok = slices.ContainsFunc(p.Tags, func(s string) bool { return matchString(s, t) })
		case "sku":
			ok = slices.ContainsFunc(p.Variants, func(v Variant) bool { return matchString(v.SKU, t) })
		}
		if !ok {
			return false
		}
	}
	return true
}

func matchVariant(x *execCtx, terms []searchTerm, v variantSrc) bool {
	for _, t := range terms {
		ok := true
		switch t.field {
		case "updated_at":
			ok = x.matchTime(v.v.UpdatedAt, t)
		case "created_at":
			ok = x.matchTime(v.v.CreatedAt, t)
		case "id":
			ok = matchID(v.v.ID, t)
		case "product_id":
			ok = matchID(v.p.ID, t)
		case "sku":
			ok = matchString(v.v.SKU, t)
		}
		if !ok {
			return false
		}
	}
	return true
}

func matchOrder(x *execCtx, terms []searchTerm, o *Order) bool {
	for _, t := range terms {
		ok := true
		switch t.field {
		case "updated_at":
			ok = x.matchTime(o.UpdatedAt, t)
		case "created_at":
			ok = x.matchTime(o.CreatedAt, t)
		case "processed_at":
			ok = x.matchTime(o.ProcessedAt, t)
		case "id":
			ok = matchID(o.ID, t)
		case "name":
			ok = matchString(o.Name, t) || matchString(strings.TrimPrefix(o.Name, "#"), t)
		case "financial_status":
			ok = matchString(o.FinancialStatus, t)
		case "fulfillment_status":
			fs := o.FulfillmentStatus
			if fs == "" {
				fs = "unfulfilled"
			}
			ok = matchString(fs, t) || t.value == "unshipped" && fs == "unfulfilled" || t.value == "shipped" && fs == "fulfilled"
		case "status":
			st := "open"
			switch {
			case o.CancelledAt != nil:
				st = "cancelled"
			case o.ClosedAt != nil:
				st = "closed"
			}
			ok = t.value == "any" || matchString(st, t)
		case "tag":
			ok = slices.ContainsFunc(o.Tags, func(s string) bool { return matchString(s, t) })
		case "customer_id":
			ok = matchID(o.CustomerID, t)
		case "test":
			ok = strconv.FormatBool(o.Test) == t.value
		}
		if !ok {
			return false
		}
	}
	return true
}

func matchCustomer(x *execCtx, terms []searchTerm, c *Customer) bool {
	for _, t := range terms {
		ok := true
		switch t.field {
		case "updated_at":
			ok = x.matchTime(c.UpdatedAt, t)
		case "created_at":
			ok = x.matchTime(c.CreatedAt, t)
		case "id":
			ok = matchID(c.ID, t)
		case "email":
			ok = matchString(c.Email, t)
		}
		if !ok {
			return false
		}
	}
	return true
}

func matchItem(x *execCtx, terms []searchTerm, i *InventoryItem) bool {
	for _, t := range terms {
		ok := true
		switch t.field {
		case "updated_at":
			ok = x.matchTime(i.UpdatedAt, t)
		case "created_at":
			ok = x.matchTime(i.CreatedAt, t)
		case "id":
			ok = matchID(i.ID, t)
		case "sku":
			ok = matchString(i.SKU, t)
		}
		if !ok {
			return false
		}
	}
	return true
}

func matchLevel(x *execCtx, terms []searchTerm, l *InventoryLevel) bool {
	for _, t := range terms {
		ok := true
		switch t.field {
		case "updated_at":
			ok = x.matchTime(l.UpdatedAt, t)
		case "inventory_item_id":
			ok = matchID(l.InventoryItemID, t)
		case "location_id":
			ok = matchID(l.LocationID, t)
		}
		if !ok {
			return false
		}
	}
	return true
}

func matchEvent(x *execCtx, terms []searchTerm, e *shopEvent) bool {
	for _, t := range terms {
		ok := true
		switch t.field {
		case "created_at":
			ok = x.matchTime(e.CreatedAt, t)
		case "id":
			ok = matchID(e.ID, t)
		case "action", "verb":
			ok = matchString(e.Action, t)
		case "subject_type":
			ok = matchString(e.SubjectType, t)
		case "subject_id":
			ok = matchID(e.SubjectID, t)
		}
		if !ok {
			return false
		}
	}
	return true
}

// --- pagination ---

type cursorBody struct {
	LastID    int64  `json:"last_id"`
	LastValue string `json:"last_value"`
}

func encodeCursor(id int64, key string) string {
	b, _ := json.Marshal(cursorBody{id, key})
	return base64.StdEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursorBody, bool) {
	var c cursorBody
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil {
		return c, false
	}
	return c, true
}

// paginate orders items by key (then id), honours reverse, after, before, first and last,
// and returns the page. In bulk mode every item is returned.
func (x *execCtx) paginate(f *gqlField, items []any, key func(any) (string, int64)) (*connection, error) {
	type kv struct {
		k  string
		id int64
		v  any
	}
	all := make([]kv, len(items))
	for i, it := range items {
		k, id := key(it)
		all[i] = kv{k, id, it}
	}
	slices.SortStableFunc(all, func(a, b kv) int { return cmp.Or(strings.Compare(a.k, b.k), cmp.Compare(a.id, b.id)) })
	if rev, _ := x.argBool(f, "reverse"); rev {
		slices.Reverse(all)
	}
	less := func(a kv, c cursorBody) int {
		return cmp.Or(strings.Compare(a.k, c.LastValue), cmp.Compare(a.id, c.LastID))
	}
	rev, _ := x.argBool(f, "reverse")
	sign := 1
	if rev {
		sign = -1
	}
	lo, hi := 0, len(all)
	if after, ok := x.argString(f, "after"); ok && x.bulk == nil {
		c, valid := decodeCursor(after)
		if !valid {
			return nil, errorf("", "Invalid cursor for current pagination sort.")
		}
		for lo < hi && sign*less(all[lo], c) <= 0 {
			lo++
		}
	}
	if before, ok := x.argString(f, "before"); ok && x.bulk == nil {
		c, valid := decodeCursor(before)
		if !valid {
			return nil, errorf("", "Invalid cursor for current pagination sort.")
		}
		for hi > lo && sign*less(all[hi-1], c) >= 0 {
			hi--
		}
	}
	page := all[lo:hi]
	out := &connection{hasPrev: lo > 0, hasNext: hi < len(all)}
	if x.bulk == nil {
		if n, ok := x.argInt(f, "first"); ok && n < len(page) {
			page, out.hasNext = page[:n], true
		}
		if n, ok := x.argInt(f, "last"); ok && n < len(page) {
			page, out.hasPrev = page[len(page)-n:], true
		}
	}
	for _, e := range page {
		out.items = append(out.items, e.v)
		out.cursors = append(out.cursors, encodeCursor(e.id, e.k))
	}
	return out, nil
}
