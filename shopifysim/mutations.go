package shopifysim

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The mutation root: bulk operations, metafieldsSet, tagsAdd and tagsRemove. Writes change the
// store and echo the webhook Shopify sends for them (products/update for a product, the same
// for a variant's product, orders/updated for an order), even when the app itself wrote.

func mutationRoot() map[string]*fieldDef {
	m := func(payload string, args []string, fn func(x *execCtx, f *gqlField) (any, error)) *fieldDef {
		return &fieldDef{kind: kObject, typ: payload, args: args, mutation: true, resolve: func(x *execCtx, _ any, f *gqlField) (any, error) {
			return fn(x, f)
		}}
	}
	return map[string]*fieldDef{
		"bulkOperationRunQuery": m("BulkOperationRunQueryPayload", []string{"query", "groupObjects"}, func(x *execCtx, f *gqlField) (any, error) {
			q, ok := x.argString(f, "query")
			if !ok {
				return nil, missingArg(f, "query")
			}
			group, ok := x.argBool(f, "groupObjects")
			if !ok {
				group = versionBefore(x.version, "2026-07")
			}
			op, errs := x.srv.startBulk(x, q, group)
			p := recSrc{"userErrors": []any{}}
			if op != nil {
				p["bulkOperation"] = op
			}
			if errs != nil {
				p["userErrors"] = errs
			}
			return p, nil
		}),
		"bulkOperationCancel": m("BulkOperationCancelPayload", []string{"id"}, func(x *execCtx, f *gqlField) (any, error) {
			s, ok := x.argString(f, "id")
			if !ok {
				return nil, missingArg(f, "id")
			}
			typ, id, _, valid := parseGID(s)
			if !valid || typ != "BulkOperation" {
				return nil, errorf("", "Invalid global id '%s'", s)
			}
			op, errs := x.srv.cancel(x, id)
			p := recSrc{"userErrors": []any{}}
			if op != nil {
				p["bulkOperation"] = op
			}
			if errs != nil {
				p["userErrors"] = errs
			}
			return p, nil
		}),
		"metafieldsSet": m("MetafieldsSetPayload", []string{"metafields"}, func(x *execCtx, f *gqlField) (any, error) {
			v, ok := x.arg(f, "metafields")
			if !ok {
				return nil, missingArg(f, "metafields")
			}
			inputs, _ := v.([]any)
			if m, isObj := v.(map[string]any); isObj {
				inputs = []any{m} // a single input object coerces to a list of one
			}
			if len(inputs) > 25 {
				return nil, errorf("MAX_INPUT_SIZE_EXCEEDED", "The input array size of %d is greater than the maximum allowed of 25.", len(inputs))
			}
			return x.store.metafieldsSet(x.now, inputs), nil
		}),
		"tagsAdd": m("TagsAddPayload", []string{"id", "tags"}, func(x *execCtx, f *gqlField) (any, error) {
			return tagsMutation(x, f, true)
		}),
		"tagsRemove": m("TagsRemovePayload", []string{"id", "tags"}, func(x *execCtx, f *gqlField) (any, error) {
			return tagsMutation(x, f, false)
		}),
	}
}

func missingArg(f *gqlField, name string) error {
	return errorf("missingRequiredArguments", "Field '%s' is missing required arguments: %s", f.name, name)
}

// --- metafieldsSet ---

var (
	namespaceChars = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	metafieldTypes = map[string]bool{
		"single_line_text_field": true, "multi_line_text_field": true, "url": true, "json": true, "boolean": true,
		"number_integer": true, "number_decimal": true, "date": true, "date_time": true, "color": true, "rich_text_field": true,
		"list.single_line_text_field": true, "list.url": true, "list.number_integer": true, "list.number_decimal": true,
		"list.date": true, "list.date_time": true, "list.color": true,
		"product_reference": true, "variant_reference": true, "file_reference": true, "list.product_reference": true,
	}
	colorValue = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)
)

// compareDigest is the metafield's version for compare-and-set: it changes with every write.
func (m *Metafield) compareDigest() string {
	h := sha256.Sum256(fmt.Appendf(nil, "%d|%s|%s|%d", m.ID, m.Type, m.Value, m.UpdatedAt.UnixNano()))
	return hex.EncodeToString(h[:])
}

func validDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

func validValue(typ, v string) bool {
	elem, isList := strings.CutPrefix(typ, "list.")
	if isList {
		var items []any
		if json.Unmarshal([]byte(v), &items) != nil {
			return false
		}
		for _, it := range items {
			var s string
			switch t := it.(type) {
			case string:
				s = t
			case float64:
				s = strconv.FormatFloat(t, 'f', -1, 64)
			default:
				return false
			}
			if !validValue(elem, s) {
				return false
			}
		}
		return true
	}
	switch typ {
	case "single_line_text_field":
		return !strings.ContainsAny(v, "\n\r")
	case "url":
		u, err := url.Parse(v)
		return err == nil && (u.Scheme == "https" || u.Scheme == "http" || u.Scheme == "mailto" || u.Scheme == "sms" || u.Scheme == "tel") && (u.Host != "" || u.Opaque != "")
	case "json", "rich_text_field":
		return json.Valid([]byte(v))
	case "boolean":
		return v == "true" || v == "false"
	case "number_integer":
		_, err := strconv.ParseInt(v, 10, 64)
		return err == nil
	case "number_decimal":
		_, err := strconv.ParseFloat(v, 64)
		return err == nil && !strings.ContainsAny(v, "eE")
	case "date":
		_, err := time.Parse("2006-01-02", v)
		return err == nil
	case "date_time":
		_, err := time.Parse(time.RFC3339, v)
		if err != nil {
			_, err = time.Parse("2006-01-02T15:04:05", v)
		}
		return err == nil
	case "color":
		return colorValue.MatchString(v)
	case "product_reference", "variant_reference", "file_reference":
		_, _, _, ok := parseGID(v)
		return ok
	}
	return true
}

// metafieldsSet validates every input and, only when all are valid, writes them all. s.mu is
// held.
func (s *Store) metafieldsSet(now time.Time, inputs []any) recSrc {
	var errs []any
	uerr := func(i int, field, code, msg string) {
		f := []string{"metafields", strconv.Itoa(i)}
		if field != "" {
			f = append(f, field)
		}
		errs = append(errs, recSrc{"field": f, "message": msg, "code": code, "elementIndex": i})
	}
	type write struct {
		owner, ns, key, typ, value string
		existing                   *Metafield
	}
	var writes []write
	for i, raw := range inputs {
		in, _ := raw.(map[string]any)
		str := func(k string) (string, bool) { v, ok := in[k].(string); return v, ok }
		owner, _ := str("ownerId")
		ns, hasNS := str("namespace")
		key, _ := str("key")
		typ, hasType := str("type")
		value, hasValue := str("value")
		ok := true
		otyp, _, _, valid := parseGID(owner)
		switch {
		case !valid:
			uerr(i, "ownerId", "INVALID", "Owner is invalid.")
			ok = false
		case !slices.Contains([]string{"Product", "ProductVariant", "Order", "Customer"}, otyp):
			uerr(i, "ownerId", "DISALLOWED_OWNER_TYPE", fmt.Sprintf("The owner type %s is not supported.", otyp))
			ok = false
		case s.node(owner) == nil:
			uerr(i, "ownerId", "INVALID", "Owner does not exist.")
			ok = false
		}
		if !hasNS || ns == "" {
			ns = appNamespace
		} else if app, isApp := strings.CutPrefix(ns, "$app:"); isApp {
			ns = appNamespace + "--" + app
		} else {
			switch {
			case len(ns) < 3:
				uerr(i, "namespace", "TOO_SHORT", "Namespace is too short (minimum is 3 characters)")
				ok = false
			case len(ns) > 255:
				uerr(i, "namespace", "TOO_LONG", "Namespace is too long (maximum is 255 characters)")
				ok = false
			case !namespaceChars.MatchString(ns):
				uerr(i, "namespace", "INVALID", "Namespace contains one or more invalid characters.")
				ok = false
			}
		}
		switch {
		case key == "":
			uerr(i, "key", "BLANK", "Key can't be blank")
			ok = false
		case len(key) < 2:
			uerr(i, "key", "TOO_SHORT", "Key is too short (minimum is 2 characters)")
			ok = false
		case len(key) > 64:
			uerr(i, "key", "TOO_LONG", "Key is too long (maximum is 64 characters)")
			ok = false
		case !namespaceChars.MatchString(key):
			uerr(i, "key", "INVALID", "Key contains one or more invalid characters.")
			ok = false
		}
		var existing *Metafield
		for _, m := range s.metafields[owner] {
			if m.Namespace == ns && m.Key == key {
				existing = m
			}
		}
		switch {
		case !hasType && existing == nil:
			uerr(i, "type", "BLANK", "Type can't be blank")
			ok = false
		case !hasType:
			typ = existing.Type
		case !metafieldTypes[typ]:
			uerr(i, "type", "INVALID_TYPE", fmt.Sprintf("Type '%s' is not a valid type.", typ))
			ok = false
		case existing != nil && existing.Type != typ:
			uerr(i, "type", "INVALID_TYPE", fmt.Sprintf("Type '%s' must be consistent with the definition's type: '%s'.", typ, existing.Type))
			ok = false
		}
		switch {
		case !hasValue || value == "":
			uerr(i, "value", "BLANK", "Value can't be blank.")
			ok = false
		case ok && !validValue(typ, value):
			uerr(i, "value", "INVALID_VALUE", fmt.Sprintf("Value is invalid for type %s.", typ))
			ok = false
		}
		if cd, given := in["compareDigest"]; given {
			switch d := cd.(type) {
			case nil:
				if existing != nil {
					uerr(i, "compareDigest", "STALE_OBJECT", "The resource has been updated since it was loaded. Try again with an updated `compareDigest` value.")
					ok = false
				}
			case string:
				switch {
				case !validDigest(d):
					uerr(i, "compareDigest", "INVALID_COMPARE_DIGEST", "The input compareDigest is invalid.")
					ok = false
				case existing == nil || existing.compareDigest() != d:
					uerr(i, "compareDigest", "STALE_OBJECT", "The resource has been updated since it was loaded. Try again with an updated `compareDigest` value.")
					ok = false
				}
			default:
				uerr(i, "compareDigest", "INVALID_COMPARE_DIGEST", "The input compareDigest is invalid.")
				ok = false
			}
		}
		for _, w := range writes {
			if ok && w.owner == owner && w.ns == ns && w.key == key {
				uerr(i, "key", "TAKEN", "The metafield is given twice in the input.")
				ok = false
			}
		}
		if ok {
			writes = append(writes, write{owner, ns, key, typ, value, existing})
		}
	}
	if len(errs) > 0 {
		return recSrc{"metafields": []any{}, "userErrors": errs}
	}
	// All valid: write them and echo one webhook per owner that changed.
	out := []any{}
	var changed []string
	at := time.Time{}
	for _, w := range writes {
		if w.existing != nil && w.existing.Value == w.value && w.existing.Type == w.typ {
			out = append(out, w.existing)
			continue
		}
		if at.IsZero() {
			at = s.tick(now)
		}
		m := &Metafield{OwnerID: w.owner, Namespace: w.ns, Key: w.key, Type: w.typ, Value: w.value, CreatedAt: at, UpdatedAt: at}
		list := slices.Clone(s.metafields[w.owner])
		if w.existing != nil {
			m.ID, m.CreatedAt = w.existing.ID, w.existing.CreatedAt
			list = slices.DeleteFunc(list, func(x *Metafield) bool { return x == w.existing })
		} else {
			m.ID = s.newID(idMetafield)
		}
		s.metafields[w.owner] = append(list, m)
		out = append(out, m)
		if !slices.Contains(changed, w.owner) {
			changed = append(changed, w.owner)
		}
	}
	for _, owner := range changed {
		s.echoWrite(owner, at)
	}
	return recSrc{"metafields": out, "userErrors": []any{}}
}

// echoWrite bumps the owner of a changed metafield or tag list and records its webhook.
func (s *Store) echoWrite(owner string, at time.Time) {
	typ, id, _, _ := parseGID(owner)
	switch typ {
	case "Product":
		s.putProductAt(s.copyProduct(id), at)
	case "ProductVariant":
		pid := s.variantProduct[id]
		s.putProductAt(s.copyProduct(pid), at, id)
	case "Order":
		s.putOrder(s.copyOrder(id), at, "orders/updated")
	case "Customer":
		c := *s.customers[id]
		c.UpdatedAt = at
		s.customers[id] = &c
	}
}

// putProductAt is putProduct at a time already taken from s.tick.
func (s *Store) putProductAt(p *Product, at time.Time, touched ...int64) {
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
}

// --- tagsAdd / tagsRemove ---

// tagList reads the tags argument: a list of strings or one string, each split on commas.
func tagList(v any) []string {
	var raw []string
	switch t := v.(type) {
	case string:
		raw = []string{t}
	case []any:
		for _, it := range t {
			if s, ok := it.(string); ok {
				raw = append(raw, s)
			}
		}
	}
	var out []string
	for _, r := range raw {
		for part := range strings.SplitSeq(r, ",") {
			if p := strings.TrimSpace(part); p != "" && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

func tagsMutation(x *execCtx, f *gqlField, add bool) (any, error) {
	idArg, ok := x.argString(f, "id")
	if !ok {
		return nil, missingArg(f, "id")
	}
	tv, ok := x.arg(f, "tags")
	if !ok {
		return nil, missingArg(f, "tags")
	}
	tags := tagList(tv)
	s := x.store
	notFound := recSrc{"node": nil, "userErrors": []any{recSrc{"field": []string{"id"}, "message": "Resource not found"}}}
	typ, id, _, valid := parseGID(idArg)
	if !valid {
		return nil, errorf("", "Invalid global id '%s'", idArg)
	}
	var current []string
	switch typ {
	case "Product":
		p := s.products[id]
		if p == nil {
			return notFound, nil
		}
		current = p.Tags
	case "Order":
		o := s.orders[id]
		if o == nil {
			return notFound, nil
		}
		current = o.Tags
	case "Customer":
		c := s.customers[id]
		if c == nil {
			return notFound, nil
		}
		current = c.Tags
	default:
		return recSrc{"node": nil, "userErrors": []any{recSrc{"field": []string{"id"}, "message": fmt.Sprintf("%s is not taggable", typ)}}}, nil
	}
	for _, t := range tags {
		if len(t) > 255 {
			return recSrc{"node": nil, "userErrors": []any{recSrc{"field": []string{"tags"}, "message": "Tags is too long (maximum is 255 characters)"}}}, nil
		}
	}
	next := slices.Clone(current)
	for _, t := range tags {
		has := slices.Contains(next, t)
		switch {
		case add && !has:
			next = append(next, t)
		case !add && has:
			next = slices.DeleteFunc(next, func(x string) bool { return x == t })
		}
	}
	if add && len(next) > 250 {
		return recSrc{"node": nil, "userErrors": []any{recSrc{"field": []string{"tags"}, "message": "Tags cannot be more than 250"}}}, nil
	}
	if len(next) != len(current) { // idempotent: nothing to add or remove writes nothing
		at := s.tick(x.now)
		switch typ {
		case "Product":
			p := s.copyProduct(id)
			p.Tags = sortTags(next)
			s.putProductAt(p, at)
		case "Order":
			o := s.copyOrder(id)
			o.Tags = sortTags(next)
			s.putOrder(o, at, "orders/updated")
		case "Customer":
			c := *s.customers[id]
			c.Tags, c.UpdatedAt = sortTags(next), at
			s.customers[id] = &c
		}
	}
	return recSrc{"node": s.nodeParts(typ, id, ""), "userErrors": []any{}}, nil
}
