package pii

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// ErrUnknownTopic is returned for a Shopify topic whose payload has not been examined for
// personal data. Such a payload must not be published as it is.
var ErrUnknownTopic = errors.New("pii: no personal-data rules for this Shopify topic")

// ErrMalformed wraps every reason a payload, a personal part or a pointer cannot be processed.
var ErrMalformed = errors.New("pii: malformed JSON")

// SplitShopify cuts the personal data listed in personalFields out of a Shopify webhook (or
// Admin REST API) JSON object. clean is the payload without it, safe to publish; personal is a
// JSON object mapping RFC 6901 pointers (into the original payload) to the values they held, or
// nil when the payload holds no personal data. A pointer's member is either absent from clean
// or, for URLs whose query was cut, holds the shortened URL.
//
// Numbers are kept exactly as Shopify wrote them (ids beyond 2^53, money with any number of
// decimals). Members are re-ordered (sorted), which changes nothing a JSON reader sees.
func SplitShopify(topic string, payload []byte) (clean []byte, personal []byte, err error) {
	_, _, clean, personal, err = splitShopify(topic, payload)
	return clean, personal, err
}

// splitShopify is SplitShopify that also names the payload's subject (as SubjectOf does), from
// the same parse. A subject error is returned apart: it matters only when there is personal data.
func splitShopify(topic string, payload []byte) (subject string, subjectErr error, clean, personal []byte, err error) {
	k, ok := shopifyTopics[topic]
	if !ok {
		return "", nil, nil, nil, fmt.Errorf("%w: %q", ErrUnknownTopic, topic)
	}
	doc, err := decodeObject(payload)
	if err != nil {
		return "", nil, nil, nil, fmt.Errorf("split %s payload: %w", topic, err)
	}
	subject, subjectErr = subjectOf(k, doc)
	if subjectErr != nil {
		subjectErr = fmt.Errorf("subject of %s payload: %w", topic, subjectErr)
	}
	clean, personal, err = cutPersonal(k, doc)
	if err != nil {
		return "", nil, nil, nil, fmt.Errorf("split %s payload: %w", topic, err)
	}
	return subject, subjectErr, clean, personal, nil
}

// cutPersonal removes the personal data of a kind of payload from doc, returning the rest and
// what was cut, both encoded.
func cutPersonal(k kind, doc map[string]any) (clean, personal []byte, err error) {
	cut := map[string]any{}
	for _, r := range compiledRules[k] {
		applyRule(doc, r, 0, "", cut)
	}
	if clean, err = encode(doc); err != nil {
		return nil, nil, err
	}
	if len(cut) == 0 {
		return clean, nil, nil
	}
	if personal, err = encode(cut); err != nil {
		return nil, nil, err
	}
	return clean, personal, nil
}

// JoinShopify puts personal (as SplitShopify returned it) back into clean, giving a payload
// with the same decoded value as the original. An empty personal returns clean unchanged.
func JoinShopify(clean, personal []byte) ([]byte, error) {
	if len(bytes.TrimSpace(personal)) == 0 {
		return clean, nil
	}
	doc, err := decodeObject(clean)
	if err != nil {
		return nil, fmt.Errorf("join: clean payload: %w", err)
	}
	var parts map[string]json.RawMessage
	if err := json.Unmarshal(personal, &parts); err != nil {
		return nil, fmt.Errorf("join: personal part: %w: %v", ErrMalformed, err)
	}
	ptrs := make([]string, 0, len(parts))
	for p := range parts {
		ptrs = append(ptrs, p)
	}
	sort.Strings(ptrs) // a parent, should one be listed, before its children
	for _, p := range ptrs {
		v, err := decodeValue(parts[p])
		if err != nil {
			return nil, fmt.Errorf("join: value at %q: %w", p, err)
		}
		if err := setPointer(doc, p, v); err != nil {
			return nil, fmt.Errorf("join: %w", err)
		}
	}
	out, err := encode(doc)
	if err != nil {
		return nil, fmt.Errorf("join: %w", err)
	}
	return out, nil
}

// applyRule walks r's segments from node (at pointer ptr) and seals what it reaches, recording
// each sealed value in cut under its pointer. Missing and null members are skipped. A member
// of an unexpected type on the way (a string where an object should be) is sealed whole: an
// unknown shape is not assumed to be harmless.
func applyRule(node any, r rule, i int, ptr string, cut map[string]any) {
	seg := r.segs[i]
	if seg == "*" {
		arr, ok := node.([]any)
		if !ok {
			return // the parent seals a non-array before descending; see below
		}
		for j, el := range arr {
			descend(arr, j, el, r, i, ptr+"/"+strconv.Itoa(j), cut)
		}
		return
	}
	obj, ok := node.(map[string]any)
	if !ok {
		return
	}
	v, present := obj[seg]
	if !present || isEmpty(v) {
		return
	}
	childPtr := ptr + "/" + escapeToken(seg)
	if i == len(r.segs)-1 {
		sealMember(obj, seg, v, r.f, childPtr, cut)
		return
	}
	descend(obj, seg, v, r, i, childPtr, cut)
}

// descend continues r below the child v (held by parent under key) or seals v whole when its
// type cannot hold what the next segment expects.
func descend[K int | string](parent any, key K, v any, r rule, i int, ptr string, cut map[string]any) {
	if isEmpty(v) {
		return
	}
	wantArray := r.segs[i+1] == "*"
	_, isArr := v.([]any)
	_, isObj := v.(map[string]any)
	if (wantArray && isArr) || (!wantArray && isObj) {
		applyRule(v, r, i+1, ptr, cut)
		return
	}
	switch p := parent.(type) {
	case map[string]any:
		delete(p, any(key).(string))
	case []any:
		// An array element cannot be removed without shifting its siblings' pointers; it
		// becomes null in the clean payload and Join restores it.
		p[any(key).(int)] = nil
	}
	cut[ptr] = v
}

// sealMember applies f's operation to obj[name] == v.
func sealMember(obj map[string]any, name string, v any, f field, ptr string, cut map[string]any) {
	switch f.op {
	case opSealAllBut:
		inner, ok := v.(map[string]any)
		if !ok {
			break
		}
		for m, mv := range inner {
			if contains(f.keep, m) || isEmpty(mv) {
				continue
			}
			delete(inner, m)
			cut[ptr+"/"+escapeToken(m)] = mv
		}
		return
	case opSealURLQuery:
		s, ok := v.(string)
		if !ok {
			break
		}
		if short, ok := stripURL(s); ok {
			if short != s {
				obj[name] = short
				cut[ptr] = s
			}
			return
		}
	}
	delete(obj, name)
	cut[ptr] = v
}

// stripURL returns s without user info, query and fragment; ok is false when s is not a URL.
func stripURL(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" {
		return "", false
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String(), true
}

func isEmpty(v any) bool {
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

// setPointer writes v at the RFC 6901 pointer p in doc. The parent must exist; an object
// member is added or replaced, an array element replaced.
func setPointer(doc map[string]any, p string, v any) error {
	toks, err := parsePointer(p)
	if err != nil {
		return err
	}
	if len(toks) == 0 {
		return fmt.Errorf("%w: pointer %q: the whole document cannot be personal", ErrMalformed, p)
	}
	var node any = doc
	for i, tok := range toks {
		last := i == len(toks)-1
		switch n := node.(type) {
		case map[string]any:
			if last {
				n[tok] = v
				return nil
			}
			node = n[tok]
		case []any:
			j, err := strconv.Atoi(tok)
			if err != nil || j < 0 || j >= len(n) || (len(tok) > 1 && tok[0] == '0') {
				return fmt.Errorf("%w: pointer %q: no element %q", ErrMalformed, p, tok)
			}
			if last {
				n[j] = v
				return nil
			}
			node = n[j]
		default:
			return fmt.Errorf("%w: pointer %q: %q is not inside an object or array", ErrMalformed, p, tok)
		}
	}
	return nil // unreachable: the loop returns at the last token
}

// parsePointer splits an RFC 6901 pointer into unescaped reference tokens.
func parsePointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if p[0] != '/' {
		return nil, fmt.Errorf("%w: pointer %q does not start with /", ErrMalformed, p)
	}
	toks := strings.Split(p[1:], "/")
	for i, t := range toks {
		if strings.Contains(strings.ReplaceAll(strings.ReplaceAll(t, "~0", ""), "~1", ""), "~") {
			return nil, fmt.Errorf("%w: pointer %q: bad escape in %q", ErrMalformed, p, t)
		}
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks, nil
}

func escapeToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// decodeObject decodes one JSON object, numbers as json.Number, refusing trailing data.
func decodeObject(b []byte) (map[string]any, error) {
	v, err := decodeValue(b)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	return obj, nil
}

func decodeValue(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON value", ErrMalformed)
	}
	return v, nil
}

// encode writes v as compact JSON without HTML escaping (Shopify's "<" stays "<").
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode JSON: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
