package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/storeline/storeline/events"
)

// SubjectSealer seals personal data under the key of one subject of a shop (customer/<id>,
// order/<id>, shop, ...), with the event id as additional authenticated data. personal is what
// was cut out of a payload: a JSON object mapping RFC 6901 pointers into the payload to the
// values cut from there, the form package pii's JoinShopify puts back (so OpenShopify opens a
// bulk row's personal data as it opens a webhook's).
type SubjectSealer interface {
	SealSubject(ctx context.Context, shop, subject, eventID string, personal []byte) (*events.SealedPersonalData, error)
}

// gqlRule is a member of a GraphQL row that holds personal data: a path of member names, "*"
// for every element of an array; keep lists the members of an object that stay (the rest is
// cut, so a member Shopify adds later is cut too).
type gqlRule struct {
	path []string
	keep []string
}

// Package pii's rules are for the REST (snake_case) shapes of webhooks; these are their
// counterparts in the GraphQL (camelCase) rows of the bulk queries. The queries ask for none of
// it (customer { id } only), so they cut nothing from Shopify's rows: they are there for a row
// that carries more than was asked for.
var (
	gqlOrderRow = []gqlRule{
		{path: []string{"email"}},
		{path: []string{"phone"}},
		{path: []string{"note"}},
		{path: []string{"customAttributes"}},
		{path: []string{"clientIp"}},
		{path: []string{"browserIp"}},
		{path: []string{"statusPageUrl"}},
		{path: []string{"landingPageUrl"}},
		{path: []string{"referrerUrl"}},
		{path: []string{"displayAddress"}},
		{path: []string{"customer"}, keep: []string{"id"}},
		{path: []string{"billingAddress"}, keep: gqlAddressKeeps},
		{path: []string{"shippingAddress"}, keep: gqlAddressKeeps},
		{path: []string{"fulfillments", "*", "trackingInfo", "*", "number"}},
		{path: []string{"fulfillments", "*", "trackingInfo", "*", "url"}},
		{path: []string{"lineItems", "*", "customAttributes"}},
	}
	gqlLineItemRow = []gqlRule{
		{path: []string{"customAttributes"}},
	}
	// gqlAddressKeeps: the country and province codes stay for sales by region, as in pii.
	gqlAddressKeeps = []string{"countryCode", "countryCodeV2", "provinceCode"}
)

// sealRow returns the row for payload_json with the personal data the rules find cut out, and
// that data sealed under subject. A row without any is kept byte for byte.
func (b bulkTranslation) sealRow(ctx context.Context, rules []gqlRule, subject, eventID string) (string, *events.SealedPersonalData, error) {
	doc, err := decodeRow(b.row.Line)
	if err != nil {
		return "", nil, err
	}
	cut := map[string]any{}
	for _, r := range rules {
		cutGraphQL(doc, r, 0, "", cut)
	}
	if len(cut) == 0 {
		return string(b.row.Line), nil, nil
	}
	clean, err := encodeJSON(doc)
	if err != nil {
		return "", nil, fmt.Errorf("%w: row %d: %v", ErrInvalidPayload, b.row.Row, err)
	}
	personal, err := encodeJSON(cut)
	if err != nil {
		return "", nil, fmt.Errorf("%w: row %d: %v", ErrInvalidPayload, b.row.Row, err)
	}
	if b.seal == nil {
		return "", nil, fmt.Errorf("row %d holds personal data and no sealer was given", b.row.Row)
	}
	sealed, err := b.seal.SealSubject(ctx, b.row.Shop, subject, eventID, personal)
	if err != nil {
		return "", nil, fmt.Errorf("seal personal data of bulk row %d: %w", b.row.Row, err)
	}
	return string(clean), sealed, nil
}

// cutGraphQL walks r's path from node (at pointer ptr), moving what it reaches into cut.
func cutGraphQL(node any, r gqlRule, i int, ptr string, cut map[string]any) {
	if r.path[i] == "*" {
		arr, _ := node.([]any)
		for j, el := range arr {
			cutGraphQL(el, r, i+1, ptr+"/"+strconv.Itoa(j), cut)
		}
		return
	}
	obj, ok := node.(map[string]any)
	if !ok {
		return
	}
	name := r.path[i]
	v, ok := obj[name]
	if !ok || isBlank(v) {
		return
	}
	p := ptr + "/" + escapePointer(name)
	if i < len(r.path)-1 {
		_, isArr := v.([]any)
		_, isObj := v.(map[string]any)
		if (r.path[i+1] == "*" && isArr) || (r.path[i+1] != "*" && isObj) {
			cutGraphQL(v, r, i+1, p, cut)
			return
		}
		// An unexpected shape where personal data is expected is cut whole: an unknown shape
		// is not assumed harmless.
		delete(obj, name)
		cut[p] = v
		return
	}
	if inner, isObj := v.(map[string]any); isObj && r.keep != nil {
		for m, mv := range inner {
			if contains(r.keep, m) || isBlank(mv) {
				continue
			}
			delete(inner, m)
			cut[p+"/"+escapePointer(m)] = mv
		}
		return
	}
	delete(obj, name)
	cut[p] = v
}

func isBlank(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// decodeRow decodes a JSON object with numbers kept exact.
func decodeRow(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil || doc == nil {
		return nil, fmt.Errorf("%w: malformed JSON row", ErrInvalidPayload)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON row", ErrInvalidPayload)
	}
	return doc, nil
}

// encodeJSON writes compact JSON without HTML escaping, as package pii does.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
