package shopifysim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The executor: a small GraphQL engine over the store. Types declare their fields (kind,
// accepted arguments, resolver); a request is validated and costed against them statically,
// then executed into ordered JSON. In bulk mode nested connections become JSONL lines of their
// own with __parentId instead of nesting.

type fieldKind int

const (
	kScalar fieldKind = iota // any JSON value (scalars, enums, lists of them)
	kObject                  // one object of typ (nil: null)
	kList                    // a list of objects of typ
	kConn                    // a connection of typ
)

type gqlType struct {
	name       string
	fields     map[string]*fieldDef
	implements []string
	gid        func(src any) string // Node types: the id, for __parentId
}

type fieldDef struct {
	kind       fieldKind
	typ        string // object, list or connection element type ("Node": any Node type)
	args       []string
	minVersion string
	mutation   bool // a root mutation field: costs 10
	resolve    func(x *execCtx, src any, f *gqlField) (any, error)
}

// typed is an object whose type is known only at run time (a field of interface type Node).
type typed struct {
	t string
	v any
}

// connection is what a connection field resolves to: one page of items.
type connection struct {
	items   []any
	cursors []string
	hasNext bool
	hasPrev bool
}

// gqlError is a GraphQL error as Shopify writes it.
type gqlError struct {
	Message    string         `json:"message"`
	Locations  []gqlLocation  `json:"locations,omitempty"`
	Path       []any          `json:"path,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

type gqlLocation struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

func fieldErr(f *gqlField, path []any, msg string, ext map[string]any) gqlError {
	e := gqlError{Message: msg, Path: slices.Clone(path), Extensions: ext}
	if f != nil && f.line > 0 {
		e.Locations = []gqlLocation{{f.line, f.col}}
	}
	return e
}

// execError aborts a field with a GraphQL error (the field becomes null).
type execError struct{ e gqlError }

func (e *execError) Error() string { return e.e.Message }

func errorf(code, format string, args ...any) error {
	var ext map[string]any
	if code != "" {
		ext = map[string]any{"code": code}
	}
	return &execError{gqlError{Message: fmt.Sprintf(format, args...), Extensions: ext}}
}

// jsonObj is a JSON object that keeps its keys in selection order.
type jsonObj struct {
	keys []string
	vals []any
}

func (o *jsonObj) set(k string, v any) {
	for i, kk := range o.keys {
		if kk == k {
			o.vals[i] = v
			return
		}
	}
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
}

// add appends a key known not to be there yet.
func (o *jsonObj) add(k string, v any) {
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
}

func (o *jsonObj) get(k string) (any, bool) {
	for i, kk := range o.keys {
		if kk == k {
			return o.vals[i], true
		}
	}
	return nil, false
}

func (o *jsonObj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := marshalNoEscape(o.vals[i])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshalNoEscape is json.Marshal without HTML escaping (Shopify writes <p> as is).
func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// execCtx is one request's execution.
type execCtx struct {
	srv     *AdminServer
	store   *Store
	schema  map[string]*gqlType
	doc     *gqlDoc
	vars    map[string]any
	version string
	baseURL string
	now     time.Time
	errors  []gqlError
	cost    int

	bulk *bulkEmitter // non-nil while running a bulk query

	limitWork bool // count the selections collect visits (during analysis)
	work      int
}

// maxWork is how many selections the analysis of one request may visit.
const maxWork = 200_000

// check validates and costs an operation's selection on root; a document too complex to
// analyse within maxWork is refused.
func (x *execCtx) check(root *gqlType, sel []gqlSelection) int {
	x.limitWork, x.work = true, 0
	defer func() { x.limitWork = false }()
	cost := x.analyze(root, sel, nil, true)
	if x.work > maxWork {
		x.errors = append(x.errors, gqlError{Message: "Query is too complex to analyze", Extensions: map[string]any{"code": "MAX_COMPLEXITY_EXCEEDED"}})
	}
	return cost
}

// --- argument values ---

func (x *execCtx) valueOf(v gqlValue) any {
	switch v.kind {
	case vVar:
		return x.vars[v.raw]
	case vInt:
		n, err := strconv.ParseInt(v.raw, 10, 64)
		if err != nil {
			return json.Number(v.raw)
		}
		return n
	case vFloat:
		f, _ := strconv.ParseFloat(v.raw, 64)
		return f
	case vString, vEnum:
		return v.raw
	case vBool:
		return v.b
	case vNull:
		return nil
	case vList:
		out := make([]any, len(v.list))
		for i, item := range v.list {
			out[i] = x.valueOf(item)
		}
		return out
	case vObject:
		out := map[string]any{}
		for _, f := range v.fields {
			out[f.name] = x.valueOf(f.value)
		}
		return out
	}
	return nil
}

// arg returns a field argument's value and whether it was given (a variable that was not
// supplied counts as not given).
func (x *execCtx) arg(f *gqlField, name string) (any, bool) {
	for _, a := range f.args {
		if a.name == name {
			if a.value.kind == vVar {
				v, ok := x.vars[a.value.raw]
				return v, ok
			}
			return x.valueOf(a.value), true
		}
	}
	return nil, false
}

func (x *execCtx) argString(f *gqlField, name string) (string, bool) {
	v, ok := x.arg(f, name)
	s, isStr := v.(string)
	return s, ok && isStr
}

func (x *execCtx) argInt(f *gqlField, name string) (int, bool) {
	v, ok := x.arg(f, name)
	if !ok {
		return 0, false
	}
	switch n := v.(type) {
	case int64:
		return int(n), true
	case float64:
		return int(n), true
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	}
	return 0, false
}

func (x *execCtx) argBool(f *gqlField, name string) (bool, bool) {
	v, ok := x.arg(f, name)
	b, isBool := v.(bool)
	return b, ok && isBool
}

// --- field collection ---

// collect flattens a selection set for an object of type t: its fields in order, with inline
// fragments and spreads that apply to t merged in. Fields with the same response key merge
// their sub-selections.
func (x *execCtx) collect(t *gqlType, sel []gqlSelection) []*gqlField {
	var out []*gqlField
	index := map[string]int{}
	var walk func(sel []gqlSelection)
	walk = func(sel []gqlSelection) {
		for _, s := range sel {
			if x.limitWork {
				// Fragments spreading fragments can multiply a small document; the analysis
				// of a request stops at a budget (execution repeats only what it allowed).
				if x.work++; x.work > maxWork {
					return
				}
			}
			switch {
			case s.field != nil:
				if i, dup := index[s.field.key()]; dup {
					cp := *out[i]
					cp.sel = append(slices.Clone(cp.sel), s.field.sel...)
					out[i] = &cp
				} else {
					index[s.field.key()] = len(out)
					out = append(out, s.field)
				}
			case s.spread != "":
				if fr := x.doc.frags[s.spread]; fr != nil && typeApplies(t, fr.on) {
					walk(fr.sel)
				}
			case s.inline:
				if s.on == "" || typeApplies(t, s.on) {
					walk(s.sel)
				}
			}
		}
	}
	walk(sel)
	return out
}

func typeApplies(t *gqlType, on string) bool {
	switch t {
	case connType:
		return strings.HasSuffix(on, "Connection")
	case edgeType:
		return strings.HasSuffix(on, "Edge")
	}
	return on == t.name || slices.Contains(t.implements, on)
}

// --- static validation and cost ---

// analyze checks a selection set on type t against the schema and returns its requested cost
// (Shopify's static estimate: objects 1, connections 2 + first × the node's cost, scalars 0,
// mutations 10).
func (x *execCtx) analyze(t *gqlType, sel []gqlSelection, path []any, root bool) int {
	cost := 0
	// Selections on an interface (Node) are checked against each fragment's type.
	for _, s := range sel {
		if s.inline && s.on != "" && s.on != t.name {
			if ft := x.schema[s.on]; ft != nil {
				cost = max(cost, x.analyze(ft, s.sel, path, false))
			} else {
				x.errors = append(x.errors, gqlError{Message: fmt.Sprintf("No such type %s, so it can't be a fragment condition", s.on),
					Path: slices.Clone(path), Extensions: map[string]any{"code": "undefinedType", "typeName": s.on}})
			}
		}
		if s.spread != "" {
			fr := x.doc.frags[s.spread]
			if fr == nil {
				x.errors = append(x.errors, gqlError{Message: fmt.Sprintf("Fragment %s was used, but not defined", s.spread),
					Path: slices.Clone(path), Extensions: map[string]any{"code": "useAndDefineFragment", "fragmentName": s.spread}})
			} else if ft := x.schema[fr.on]; ft != nil && fr.on != t.name {
				cost = max(cost, x.analyze(ft, fr.sel, path, false))
			}
		}
	}
	for _, f := range x.collect(t, sel) {
		p := append(slices.Clone(path), f.key())
		if f.name == "__typename" {
			continue
		}
		def := t.fields[f.name]
		if def == nil || def.minVersion != "" && versionBefore(x.version, def.minVersion) {
			x.errors = append(x.errors, fieldErr(f, p, fmt.Sprintf("Field '%s' doesn't exist on type '%s'", f.name, t.name),
				map[string]any{"code": "undefinedField", "typeName": t.name, "fieldName": f.name}))
			continue
		}
		for _, a := range f.args {
			if !slices.Contains(def.args, a.name) {
				x.errors = append(x.errors, fieldErr(f, p, fmt.Sprintf("Field '%s' doesn't accept argument '%s'", f.name, a.name),
					map[string]any{"code": "argumentNotAccepted", "name": f.name, "typeName": "Field", "argumentName": a.name}))
			}
		}
		if def.kind == kScalar {
			if len(f.sel) > 0 {
				x.errors = append(x.errors, fieldErr(f, p, fmt.Sprintf("Selections can't be made on scalars (field '%s' returns %s but has selections [%s])",
					f.name, "a scalar", selNames(f.sel)), map[string]any{"code": "selectionMismatch", "nodeName": "field '" + f.name + "'"}))
			}
			continue
		}
		if len(f.sel) == 0 {
			x.errors = append(x.errors, fieldErr(f, p, fmt.Sprintf("Field must have selections (field '%s' returns %s but has no selections. Did you mean '%s { ... }'?)",
				f.name, def.typ, f.name), map[string]any{"code": "selectionMismatch", "nodeName": "field '" + f.name + "'", "typeName": def.typ}))
			continue
		}
		ft := x.schema[def.typ]
		if ft == nil {
			continue
		}
		switch def.kind {
		case kObject, kList:
			c := 1 + x.analyze(ft, f.sel, p, false)
			if def.mutation {
				c = 10
			}
			cost += c
		case kConn:
			first, hasFirst := x.argInt(f, "first")
			last, hasLast := x.argInt(f, "last")
			if !hasFirst && hasLast {
				first, hasFirst = last, true
			}
			if x.bulk == nil && !hasFirst {
				x.errors = append(x.errors, fieldErr(f, p, "you must provide one of first or last", nil))
			}
			if first > 250 {
				x.errors = append(x.errors, fieldErr(f, p, fmt.Sprintf("The maximum page size is 250, and %d was requested", first), map[string]any{"code": "PAGE_SIZE_EXCEEDED"}))
			}
			node := 0
			for _, cf := range x.collect(connType, f.sel) {
				cp := append(slices.Clone(p), cf.key())
				switch cf.name {
				case "edges":
					for _, ef := range x.collect(edgeType, cf.sel) {
						if ef.name == "node" {
							node = max(node, 1+x.analyze(ft, ef.sel, append(cp, "node"), false))
						} else if ef.name != "cursor" && ef.name != "__typename" {
							x.errors = append(x.errors, fieldErr(ef, cp, fmt.Sprintf("Field '%s' doesn't exist on type '%sEdge'", ef.name, def.typ),
								map[string]any{"code": "undefinedField", "typeName": def.typ + "Edge", "fieldName": ef.name}))
						}
					}
				case "nodes":
					node = max(node, 1+x.analyze(ft, cf.sel, cp, false))
				case "pageInfo":
					x.analyze(pageInfoType, cf.sel, cp, false)
				case "__typename":
				default:
					x.errors = append(x.errors, fieldErr(cf, cp, fmt.Sprintf("Field '%s' doesn't exist on type '%sConnection'", cf.name, def.typ),
						map[string]any{"code": "undefinedField", "typeName": def.typ + "Connection", "fieldName": cf.name}))
				}
			}
			cost += 2 + first*node
		}
	}
	return cost
}

func selNames(sel []gqlSelection) string {
	var names []string
	for _, s := range sel {
		if s.field != nil {
			names = append(names, s.field.name)
		}
	}
	return strings.Join(names, ", ")
}

// versionBefore reports whether API version v is older than min ("unstable" is newest).
func versionBefore(v, min string) bool {
	if v == "unstable" {
		return false
	}
	return v < min
}

// connType, edgeType and pageInfoType describe the generic parts of every connection; their
// resolution is built into the executor.
var (
	connType     = &gqlType{name: "Connection", fields: map[string]*fieldDef{}}
	edgeType     = &gqlType{name: "Edge", fields: map[string]*fieldDef{}}
	pageInfoType = &gqlType{name: "PageInfo", fields: map[string]*fieldDef{
		"hasNextPage":     {kind: kScalar},
		"hasPreviousPage": {kind: kScalar},
		"startCursor":     {kind: kScalar},
		"endCursor":       {kind: kScalar},
	}}
)

// --- execution ---

// selectObject resolves a selection set on an object.
func (x *execCtx) selectObject(t *gqlType, src any, sel []gqlSelection, path []any) *jsonObj {
	if tv, ok := src.(typed); ok {
		t, src = x.schema[tv.t], tv.v
	}
	x.cost++
	out := &jsonObj{}
	for _, f := range x.collect(t, sel) {
		p := append(slices.Clone(path), f.key())
		if f.name == "__typename" {
			out.add(f.key(), t.name)
			continue
		}
		def := t.fields[f.name]
		if def == nil {
			continue
		}
		if x.bulk != nil && def.kind == kConn {
			x.bulkChildren(t, src, f, def, p)
			continue
		}
		v, err := def.resolve(x, src, f)
		if err != nil {
			var ee *execError
			if e, ok := err.(*execError); ok {
				ee = e
			} else {
				ee = &execError{gqlError{Message: err.Error()}}
			}
			ge := ee.e
			ge.Path = p
			if f.line > 0 {
				ge.Locations = []gqlLocation{{f.line, f.col}}
			}
			x.errors = append(x.errors, ge)
			out.add(f.key(), nil)
			continue
		}
		out.add(f.key(), x.complete(def, v, f, p))
	}
	return out
}

// complete turns a resolved value into JSON according to the field's kind.
func (x *execCtx) complete(def *fieldDef, v any, f *gqlField, path []any) any {
	switch def.kind {
	case kScalar:
		return v
	case kObject:
		if v == nil {
			return nil
		}
		return x.selectObject(x.schema[def.typ], v, f.sel, path)
	case kList:
		items, _ := v.([]any)
		out := make([]any, len(items))
		for i, it := range items {
			out[i] = x.selectObject(x.schema[def.typ], it, f.sel, append(path, i))
		}
		return out
	case kConn:
		c, _ := v.(*connection)
		if c == nil {
			return nil
		}
		x.cost += 2
		nt := x.schema[def.typ]
		out := &jsonObj{}
		for _, cf := range x.collect(connType, f.sel) {
			cp := append(slices.Clone(path), cf.key())
			switch cf.name {
			case "edges":
				edges := make([]any, len(c.items))
				for i, it := range c.items {
					e := &jsonObj{}
					for _, ef := range x.collect(edgeType, cf.sel) {
						switch ef.name {
						case "cursor":
							e.set(ef.key(), c.cursors[i])
						case "node":
							e.set(ef.key(), x.selectObject(nt, it, ef.sel, append(slices.Clone(cp), i, ef.key())))
						case "__typename":
							e.set(ef.key(), def.typ+"Edge")
						}
					}
					edges[i] = e
				}
				out.set(cf.key(), edges)
			case "nodes":
				nodes := make([]any, len(c.items))
				for i, it := range c.items {
					nodes[i] = x.selectObject(nt, it, cf.sel, append(slices.Clone(cp), i))
				}
				out.set(cf.key(), nodes)
			case "pageInfo":
				pi := &jsonObj{}
				for _, pf := range x.collect(pageInfoType, cf.sel) {
					switch pf.name {
					case "hasNextPage":
						pi.set(pf.key(), c.hasNext)
					case "hasPreviousPage":
						pi.set(pf.key(), c.hasPrev)
					case "startCursor", "endCursor":
						var cur any
						if len(c.cursors) > 0 {
							cur = c.cursors[0]
							if pf.name == "endCursor" {
								cur = c.cursors[len(c.cursors)-1]
							}
						}
						pi.set(pf.key(), cur)
					case "__typename":
						pi.set(pf.key(), "PageInfo")
					}
				}
				out.set(cf.key(), pi)
			case "__typename":
				out.set(cf.key(), def.typ+"Connection")
			}
		}
		return out
	}
	return nil
}

// --- helpers for resolvers ---

// gqlTime formats a time as GraphQL DateTime (UTC, seconds).
func gqlTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func gqlTimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return gqlTime(*t)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// parseGID splits "gid://shopify/Product/123" into its type and id. An InventoryLevel's GID
// keeps its query ("?inventory_item_id=…") in rest.
func parseGID(s string) (typ string, id int64, rest string, ok bool) {
	body, found := strings.CutPrefix(s, "gid://shopify/")
	if !found {
		return "", 0, "", false
	}
	typ, num, found := strings.Cut(body, "/")
	if !found {
		return "", 0, "", false
	}
	num, rest, _ = strings.Cut(num, "?")
	id, err := strconv.ParseInt(num, 10, 64)
	if err != nil || id <= 0 {
		return "", 0, "", false
	}
	return typ, id, rest, true
}
