package pii

import (
	"encoding/json"
	"fmt"
	"strings"
)

// SubjectOf names whose personal data a Shopify payload holds, which is whose key seals it:
//
//   - "customer/<id>" for a payload with a customer: an order's customer.id, a customers/*
//     payload's own id, a compliance request's customer.id;
//   - "order/<id>" for a guest order (no customer), and for a refund or fulfillment, which
//     name their order_id but not its customer;
//   - "shop" for the Shop object (app/uninstalled, shop/update), whose owner is a person (one
//     such subject per shop, as keys are per shop anyway);
//   - "" when the payload has no subject (shop/redact, products, a compliance request without a
//     customer id).
//
// A customers/redact request lists the customer and their orders, so shredding covers data
// sealed under either name (see RedactionOf).
func SubjectOf(topic string, payload []byte) (string, error) {
	k, ok := shopifyTopics[topic]
	if !ok {
		return "", fmt.Errorf("%w: %q", ErrUnknownTopic, topic)
	}
	doc, err := decodeObject(payload)
	if err != nil {
		return "", fmt.Errorf("subject of %s payload: %w", topic, err)
	}
	s, err := subjectOf(k, doc)
	if err != nil {
		return "", fmt.Errorf("subject of %s payload: %w", topic, err)
	}
	return s, nil
}

func subjectOf(k kind, doc map[string]any) (string, error) {
	switch k {
	case kindOrder:
		if c, ok := doc["customer"].(map[string]any); ok && c["id"] != nil {
			return subject("customer", c["id"])
		}
		if doc["id"] == nil {
			return "", nil
		}
		return subject("order", doc["id"])
	case kindRefund, kindFulfillment:
		if doc["order_id"] == nil {
			return "", nil
		}
		return subject("order", doc["order_id"])
	case kindCustomer:
		if doc["id"] == nil {
			return "", nil
		}
		return subject("customer", doc["id"])
	case kindCompliance:
		if c, ok := doc["customer"].(map[string]any); ok && c["id"] != nil {
			return subject("customer", c["id"])
		}
		return "", nil
	case kindShop:
		return "shop", nil
	}
	return "", nil
}

// Redaction is what a compliance webhook asks to erase.
type Redaction struct {
	// WholeShop is set by shop/redact: shred every key of the shop (Keystore.ShredShop).
	WholeShop bool
	// Subjects are shredded one by one (Keystore.Shred): for customers/redact, the customer and
	// each order in orders_to_redact, since a guest order, a refund or a fulfillment is sealed
	// under its order's name.
	Subjects []string
}

// RedactionOf reads a customers/redact or shop/redact payload.
func RedactionOf(topic string, payload []byte) (Redaction, error) {
	switch topic {
	case "shop/redact":
		return Redaction{WholeShop: true}, nil
	case "customers/redact":
	default:
		return Redaction{}, fmt.Errorf("redaction of %q: not a redaction topic", topic)
	}
	doc, err := decodeObject(payload)
	if err != nil {
		return Redaction{}, fmt.Errorf("redaction of %s payload: %w", topic, err)
	}
	var r Redaction
	if c, ok := doc["customer"].(map[string]any); ok && c["id"] != nil {
		s, err := subject("customer", c["id"])
		if err != nil {
			return Redaction{}, fmt.Errorf("redaction of %s payload: %w", topic, err)
		}
		r.Subjects = append(r.Subjects, s)
	}
	orders, _ := doc["orders_to_redact"].([]any)
	for _, id := range orders {
		s, err := subject("order", id)
		if err != nil {
			return Redaction{}, fmt.Errorf("redaction of %s payload: orders_to_redact: %w", topic, err)
		}
		r.Subjects = append(r.Subjects, s)
	}
	return r, nil
}

// subject formats "<prefix>/<id>" from a Shopify id: a JSON integer, a string of digits, or a
// GID ("gid://shopify/Customer/123"), so the REST and GraphQL forms name the same subject.
func subject(prefix string, id any) (string, error) {
	var s string
	switch v := id.(type) {
	case json.Number:
		s = v.String()
	case string:
		s = v
		if i := strings.LastIndexByte(s, '/'); strings.HasPrefix(s, "gid://shopify/") && i >= 0 {
			s = s[i+1:]
		}
	default:
		return "", fmt.Errorf("%w: %s id is %T, want an integer", ErrMalformed, prefix, id)
	}
	if s == "" || len(s) > 20 || strings.Trim(s, "0123456789") != "" {
		return "", fmt.Errorf("%w: %s id %q is not a Shopify id", ErrMalformed, prefix, s)
	}
	return prefix + "/" + s, nil
}
